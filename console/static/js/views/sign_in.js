// Sign in with an API token, or redeem a one-time link (its secret rides in #link=..., which
// the browser never sends to a server). Either gives an HttpOnly session cookie.

import { api } from "../api.js";
import { errorBox, field, h, mount, status } from "../ui.js";

const main = document.getElementById("main");

function destination(home) {
  const next = new URLSearchParams(window.location.search).get("next") || "";
  // only a console page of this origin: never an address another site put in the link
  return /^\/console(\/[a-z-]*)?$/.test(next) ? next : home;
}

async function signIn(credential) {
  const session = await api("/console/session", { method: "POST", json: credential });
  window.location.replace(destination(session.home));
}

function tokenForm(problem) {
  const input = h("input", { type: "password", name: "token", autocomplete: "off", required: true, spellcheck: "false" });
  const message = h("div", { "aria-live": "polite" }, problem ? errorBox(problem) : null);
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    { class: "card narrow", "aria-labelledby": "sign-in-title", novalidate: true },
    h("h1", { id: "sign-in-title" }, "Sign in to the Clearframe console"),
    field("API token", input, "Paste the token you were given (it starts with cf_). It stays in this browser's session only."),
    message,
    button,
    h("p", { class: "hint" }, "No token? An administrator can send you a one-time sign-in link."),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) {
      mount(message, errorBox(new Error("Enter your API token first.")));
      input.focus();
      return;
    }
    button.disabled = true;
    mount(message, status("Signing in…"));
    try {
      await signIn({ token });
    } catch (err) {
      button.disabled = false;
      mount(message, errorBox(err));
      input.focus();
    }
  });
  mount(main, form);
  input.focus();
}

async function boot() {
  const link = new URLSearchParams(window.location.hash.slice(1)).get("link");
  if (link) {
    // drop the secret from the address bar and history before anything else
    history.replaceState(null, "", window.location.pathname + window.location.search);
    mount(main, h("h1", {}, "Signing you in"), status("Checking your sign-in link…"));
    try {
      await signIn({ link });
      return;
    } catch (err) {
      tokenForm(err);
      return;
    }
  }
  tokenForm(null);
}

boot();
