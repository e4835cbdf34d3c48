// Building blocks of every view. Elements are made with h(), never from HTML strings: text the
// API returns (a prompt, a name) is always text, never markup.

import { ApiError } from "./api.js";

let uid = 0;
export const nextId = (prefix) => `${prefix}-${++uid}`;

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function mount(container, ...children) {
  container.replaceChildren();
  append(container, children);
  return container;
}

export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function timeTag(iso) {
  return h("time", { datetime: iso || "" }, when(iso));
}

export function words(err) {
  if (err instanceof ApiError) return err.words;
  return (err && err.message) || "Something went wrong.";
}

export function errorBox(err) {
  return h("div", { class: "error", role: "alert" }, words(err));
}

export function emptyState(title, hint) {
  return h("div", { class: "empty" }, h("p", { class: "empty-title" }, title), hint ? h("p", {}, hint) : null);
}

export function status(label) {
  return h("p", { class: "loading", role: "status", "aria-busy": "true" }, h("span", { class: "spinner", "aria-hidden": "true" }), label);
}

// Show progress in `container` while `work` runs, then what it returns (or why it failed).
export async function load(container, label, work) {
  mount(container, status(label));
  try {
    const content = await work();
    mount(container, content);
    return true;
  } catch (err) {
    mount(container, errorBox(err));
    return false;
  }
}

export function toast(message) {
  const box = document.getElementById("toast");
  if (!box) return;
  box.textContent = message;
  box.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => box.classList.remove("show"), 6000);
}

export function section(title, ...children) {
  const id = nextId("section");
  return h("section", { class: "card", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

// A labelled control: <label for> bound to the control's id, and a hint tied by aria-describedby.
export function field(label, control, hint) {
  const id = control.id || nextId("field");
  control.id = id;
  const parts = [h("label", { for: id }, label), control];
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    parts.push(h("p", { class: "hint", id: hintId }, hint));
  }
  return h("div", { class: "field" }, ...parts);
}

export function table({ caption, columns, rows, empty }) {
  if (!rows.length) return empty || emptyState("Nothing here yet.");
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, columns.map((c) => h("td", {}, c.cell(row)))))),
    ),
  );
}

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind}`.trim() }, text);
}

// A form whose submit runs `action(formData)` with the button disabled and progress shown;
// the API's refusal appears in words above the button, and nothing typed is lost.
export function form({ label, submit, action, children, done }) {
  const message = h("div", { class: "form-message", "aria-live": "polite" });
  const button = h("button", { type: "submit" }, submit);
  const node = h("form", { "aria-label": label, novalidate: true }, ...children, message, button);
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    mount(message, status("Sending…"));
    try {
      const result = await action(new FormData(node), node);
      mount(message);
      if (done) done(result, node);
    } catch (err) {
      mount(message, errorBox(err));
    } finally {
      button.disabled = false;
    }
  });
  return node;
}

export function link(href, text) {
  return h("a", { href }, text);
}

export function lines(text) {
  return String(text || "")
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}
