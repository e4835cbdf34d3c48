// The page frame every role view runs in: sign-out, and a hash router (#/case/ID) so that
// the browser's back button and links work inside one view.

import { api } from "./api.js";
import { errorBox, h, mount, words } from "./ui.js";

function bindSignOut() {
  const button = document.getElementById("sign-out");
  if (!button) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api("/console/session", { method: "DELETE" });
    } catch (err) {
      // already signed out counts as signed out; anything else is said
      if (err.status !== 401) {
        button.disabled = false;
        mount(document.getElementById("main"), errorBox(err));
        return;
      }
    }
    window.location.assign("/console/sign-in");
  });
}

function match(pattern, path) {
  const want = pattern.split("/").filter(Boolean);
  const got = path.split("/").filter(Boolean);
  if (want.length !== got.length) return null;
  const params = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(":")) params[want[i].slice(1)] = decodeURIComponent(got[i]);
    else if (want[i] !== got[i]) return null;
  }
  return params;
}

// routes: [[pattern, render(main, params)], ...]; "" is the view's first page.
// `tabs`: [[hash, label], ...] shown above every page of the view.
export function start({ title, routes, tabs = [] }) {
  bindSignOut();
  const main = document.getElementById("main");
  const render = async () => {
    const path = window.location.hash.replace(/^#\/?/, "");
    for (const [pattern, view] of routes) {
      const params = match(pattern, path);
      if (params === null) continue;
      const body = h("div", { class: "view" });
      const nav = tabs.length
        ? h(
            "nav",
            { class: "tabs", "aria-label": `${title} sections` },
            tabs.map(([hash, label]) => {
              const current = hash.replace(/^#\/?/, "") === path.split("/")[0] || (hash === "#/" && !path);
              return h("a", { href: hash, "aria-current": current ? "page" : null }, label);
            }),
          )
        : null;
      mount(main, nav, body);
      try {
        await view(body, params);
      } catch (err) {
        mount(body, errorBox(err));
      }
      const heading = body.querySelector("h1");
      document.title = `${heading ? heading.textContent : title} · Clearframe console`;
      return;
    }
    mount(main, h("h1", {}, "Page not found"), h("p", {}, "Nothing lives at this address. ", h("a", { href: "#/" }, "Back to the start"), "."));
  };
  window.addEventListener("hashchange", () => {
    render().then(() => main.focus({ preventScroll: false }));
  });
  window.addEventListener("unhandledrejection", (event) => {
    mount(main, errorBox(event.reason));
    console.warn("unhandled", words(event.reason));
    event.preventDefault();
  });
  return render();
}

export function go(hash) {
  if (window.location.hash === hash) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else window.location.hash = hash;
}
