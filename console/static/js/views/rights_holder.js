// The rights holder's pages: their opt-outs (file, amend, withdraw) and, per opt-out, what it
// blocked per day and which of its terms or reference files matched. Who asked is never shown:
// the API does not say, and this page does not guess.

import { api, readBack } from "../api.js";
import { start, go } from "../app.js";
import {
  badge,
  emptyState,
  errorBox,
  field,
  form,
  h,
  lines,
  load,
  mount,
  section,
  status,
  table,
  timeTag,
  toast,
} from "../ui.js";

const SCOPES = [
  ["prompts", "Prompts", "refuse a request that names or describes the work"],
  ["outputs", "Outputs", "block a made video that looks like your reference files (needs at least one reference file)"],
  ["training", "Training", "keep the work out of training data"],
];

const TERM_LISTS = [
  ["works", "Works", "Titles, one per line or separated by commas."],
  ["characters", "Characters", "Character names, one per line or separated by commas."],
  ["aliases", "Other names", "Nicknames and other names people use, one per line or separated by commas."],
  ["misspellings", "Misspellings", "Common misspellings of the names above, one per line or separated by commas."],
];


// ---- building the request from a form ----

function termsFrom(data) {
  const terms = {};
  for (const [key] of TERM_LISTS) terms[key] = lines(data.get(key));
  // a description may itself hold commas: one per line only
  terms.descriptions = String(data.get("descriptions") || "")
    .split("\n")
    .map((s) => s.trim())
    .filter(Boolean);
  return terms;
}

function referenceFrom(data) {
  const uri = String(data.get("ref_uri") || "").trim();
  const sha256 = String(data.get("ref_sha256") || "").trim();
  if (!uri && !sha256) return null;
  if (!uri || !sha256) throw new Error("A reference file needs both its stored address and its SHA-256.");
  const kind = String(data.get("ref_kind") || "image");
  const mediaType = String(data.get("ref_media_type") || "").trim() || (kind === "clip" ? "video/mp4" : "image/jpeg");
  return { uri, sha256, media_type: mediaType, kind };
}

function territoriesFrom(data) {
  const list = lines(String(data.get("territories") || "").replace(/\s+/g, ","));
  return list.length ? list : ["*"];
}

function scopesFrom(data) {
  return data.getAll("scopes").map(String);
}

// ---- form parts ----

function termFields(terms = {}) {
  return [
    ...TERM_LISTS.map(([key, label, hint]) =>
      field(label, h("textarea", { name: key, rows: 2 }, (terms[key] || []).join("\n")), hint),
    ),
    field(
      "Descriptions",
      h("textarea", { name: "descriptions", rows: 2 }, (terms.descriptions || []).join("\n")),
      "Optional. Short descriptions (8 to 300 characters), one per line: a prompt that paraphrases the work without naming it is compared with them.",
    ),
  ];
}

function scopeFields(chosen = ["prompts"]) {
  return h(
    "fieldset",
    {},
    h("legend", {}, "Where it applies"),
    SCOPES.map(([value, label, hint]) =>
      h(
        "label",
        { class: "check" },
        h("input", { type: "checkbox", name: "scopes", value, checked: chosen.includes(value) }),
        `${label}: ${hint}`,
      ),
    ),
  );
}

function territoryField(territories = ["*"]) {
  return field(
    "Territories",
    h("input", { name: "territories", value: territories.join(", "), autocomplete: "off", spellcheck: "false" }),
    "ISO 3166 two-letter codes separated by commas (US, GB, FR), or * for worldwide.",
  );
}

function referenceFields(title) {
  return h(
    "fieldset",
    {},
    h("legend", {}, title),
    h(
      "p",
      { class: "hint" },
      "Optional. A reference image or clip already in Clearframe's media store, named by its address and content hash; outputs that look like it are blocked.",
    ),
    field("Stored address", h("input", { name: "ref_uri", autocomplete: "off", spellcheck: "false", placeholder: "file:///…" })),
    field("SHA-256 of the file", h("input", { name: "ref_sha256", autocomplete: "off", spellcheck: "false", maxlength: 64 }), "64 hexadecimal characters."),
    field(
      "Kind of file",
      h("select", { name: "ref_kind" }, h("option", { value: "image" }, "Image"), h("option", { value: "clip" }, "Video clip")),
    ),
    field(
      "File type",
      h("input", { name: "ref_media_type", autocomplete: "off", spellcheck: "false", placeholder: "image/jpeg" }),
      "Optional: image/jpeg for an image and video/mp4 for a clip unless you say otherwise.",
    ),
  );
}

// ---- words ----

function statusBadge(optout) {
  return optout.status === "active" ? badge("Active", "ok") : badge("Withdrawn", "warn");
}

function namesOf(optout) {
  const t = optout.terms;
  const names = [...t.works, ...t.characters, ...t.aliases];
  return names.length ? names.join(", ") : t.descriptions.length ? `“${t.descriptions[0]}”` : "—";
}

function scopeWords(scopes) {
  return scopes.length ? scopes.map((s) => (SCOPES.find(([v]) => v === s) || [s, s])[1]).join(", ") : "—";
}

function territoryWords(territories) {
  return territories.includes("*") ? "Worldwide" : territories.join(", ");
}

// ---- the list ----

async function listPage(body) {
  mount(body, h("h1", {}, "Your opt-outs"));
  const box = h("div");
  body.append(
    h(
      "p",
      {},
      "Each opt-out keeps your works and characters out of generated videos. ",
      h("a", { href: "#/new" }, "File an opt-out"),
      " to add one.",
    ),
    box,
  );
  await load(box, "Loading your opt-outs…", async () => {
    const { optouts } = await api("/v1/optouts");
    return table({
      caption: `${optouts.length} opt-out${optouts.length === 1 ? "" : "s"}`,
      columns: [
        { label: "Protects", cell: (o) => h("a", { href: `#/optout/${encodeURIComponent(o.optout_id)}` }, namesOf(o)) },
        { label: "Status", cell: statusBadge },
        { label: "Where", cell: (o) => scopeWords(o.scopes) },
        { label: "Territories", cell: (o) => territoryWords(o.territories) },
        { label: "Blocked requests", cell: (o) => String(o.blocked_requests) },
        { label: "Blocked outputs", cell: (o) => String(o.blocked_outputs) },
        { label: "Filed", cell: (o) => timeTag(o.filed_at) },
      ],
      rows: [...optouts].reverse(),
      empty: emptyState("You have not filed an opt-out yet.", h("span", {}, "Use ", h("a", { href: "#/new" }, "File an opt-out"), " to name the works and characters to keep out.")),
    });
  });
}

// ---- filing ----

function filePage(body) {
  const name = h("input", { name: "rights_holder_name", required: true, autocomplete: "organization", maxlength: 200 });
  mount(
    body,
    h("h1", {}, "File an opt-out"),
    section(
      "What to keep out",
      form({
        label: "File an opt-out",
        submit: "File opt-out",
        children: [
          field("Rights holder", name, "The name the opt-out is filed under (your company or your own name)."),
          ...termFields(),
          scopeFields(),
          territoryField(),
          referenceFields("Reference file"),
        ],
        action: async (data) => {
          const reference = referenceFrom(data);
          const json = {
            rights_holder_name: String(data.get("rights_holder_name") || "").trim(),
            terms: termsFrom(data),
            scopes: scopesFrom(data),
            territories: territoriesFrom(data),
            reference_media: reference ? [reference] : [],
          };
          if (!json.rights_holder_name) throw new Error("Enter the rights holder's name first.");
          if (!json.scopes.length) throw new Error("Choose at least one place where the opt-out applies.");
          const accepted = await api("/v1/optouts", { method: "POST", json });
          await readBack(`/v1/optouts/${encodeURIComponent(accepted.optout_id)}`, () => true);
          return accepted;
        },
        done: (accepted) => {
          toast("Opt-out filed. It applies to new requests from now on.");
          go(`#/optout/${encodeURIComponent(accepted.optout_id)}`);
        },
      }),
    ),
  );
  name.focus();
}

// ---- one opt-out ----

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function shortDay(day) {
  const d = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? day : d.toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
}

// Blocked counts per UTC day as grouped bars (requests, outputs), drawn as SVG elements; the
// same figures follow as a table for anyone who cannot see the chart.
function blockedChart(byDay) {
  const days = byDay.slice(-30);
  const width = 640;
  const height = 220;
  const left = 36;
  const bottom = 36;
  const top = 12;
  const plot = height - bottom - top;
  const max = Math.max(1, ...days.map((d) => Math.max(d.prompts, d.outputs)));
  const step = (width - left - 8) / days.length;
  const bar = Math.max(2, Math.min(24, step / 2 - 3));
  const titleId = `chart-title-${Math.random().toString(36).slice(2, 8)}`;
  const total = days.reduce((n, d) => n + d.prompts + d.outputs, 0);
  const chart = svg(
    "svg",
    { class: "chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": titleId },
    svg("title", { id: titleId, text: `Blocked per day: ${total} in all over ${days.length} day${days.length === 1 ? "" : "s"}; the table below gives each day's figures.` }),
  );
  const scale = (n) => (n / max) * plot;
  // a few gridline labels: 0, half, max
  for (const value of [...new Set([0, Math.round(max / 2), max])]) {
    const y = top + plot - scale(value);
    chart.append(svg("line", { class: "axis grid", x1: left, x2: width - 4, y1: y, y2: y }));
    chart.append(svg("text", { x: left - 6, y: y + 4, "text-anchor": "end", text: String(value) }));
  }
  days.forEach((d, i) => {
    const x = left + i * step + step / 2;
    const group = svg("g", {});
    for (const [key, offset, cls] of [["prompts", -bar - 1, "bar"], ["outputs", 1, "bar outputs"]]) {
      const v = d[key];
      const barHeight = scale(v);
      const rect = svg("rect", { class: cls, x: x + offset, y: top + plot - barHeight, width: bar, height: Math.max(barHeight, v ? 1 : 0) });
      rect.append(svg("title", { text: `${d.day}: ${v} ${key === "prompts" ? "requests" : "outputs"} blocked` }));
      group.append(rect);
    }
    if (days.length <= 12 || i % Math.ceil(days.length / 12) === 0) {
      group.append(svg("text", { x, y: height - bottom + 16, "text-anchor": "middle", text: shortDay(d.day) }));
    }
    chart.append(group);
  });
  chart.append(svg("line", { class: "axis", x1: left, x2: width - 4, y1: top + plot, y2: top + plot }));
  const legend = h(
    "p",
    { class: "legend" },
    h("span", { class: "key prompts", "aria-hidden": "true" }),
    "Requests refused ",
    h("span", { class: "key outputs", "aria-hidden": "true" }),
    "Outputs blocked",
  );
  return h("figure", { class: "chart-figure" }, chart, legend);
}

function statsView(stats) {
  const facts = h(
    "dl",
    { class: "facts" },
    h("dt", {}, "Requests refused"),
    h("dd", { dataset: { count: "requests" } }, String(stats.blocked_requests)),
    h("dt", {}, "Outputs blocked"),
    h("dd", { dataset: { count: "outputs" } }, String(stats.blocked_outputs)),
  );
  if (!stats.by_day.length) {
    return h(
      "div",
      {},
      facts,
      emptyState(
        "Nothing blocked yet.",
        "When a request names your work, or a video looks like your reference files, it is counted here (the count can take a few seconds to appear).",
      ),
    );
  }
  return h(
    "div",
    {},
    facts,
    blockedChart(stats.by_day),
    table({
      caption: "Blocked per day (UTC)",
      columns: [
        { label: "Day", cell: (d) => h("time", { datetime: d.day }, d.day) },
        { label: "Requests refused", cell: (d) => String(d.prompts) },
        { label: "Outputs blocked", cell: (d) => String(d.outputs) },
      ],
      rows: [...stats.by_day].reverse(),
    }),
    h("h3", {}, "What matched"),
    table({
      caption: "Terms and reference files that matched",
      columns: [
        { label: "What", cell: (m) => (m.kind === "term" ? "Term" : "Reference file") },
        { label: "Value", cell: (m) => h("span", { class: "value" }, m.kind === "reference_media" && m.uri ? m.uri : m.value) },
        { label: "Requests refused", cell: (m) => String(m.prompts) },
        { label: "Outputs blocked", cell: (m) => String(m.outputs) },
      ],
      rows: stats.matched,
      empty: emptyState("No single term or file is named for these blocks.", "A block by description or by the filing as a whole is counted above."),
    }),
  );
}

function detailsView(o) {
  const t = o.terms;
  const list = (items) => (items.length ? items.join(", ") : "—");
  return h(
    "dl",
    { class: "facts" },
    h("dt", {}, "Status"),
    h("dd", {}, statusBadge(o), o.withdrawn_at ? [" since ", timeTag(o.withdrawn_at)] : null),
    h("dt", {}, "Rights holder"),
    h("dd", {}, o.rights_holder_name),
    h("dt", {}, "Works"),
    h("dd", {}, list(t.works)),
    h("dt", {}, "Characters"),
    h("dd", {}, list(t.characters)),
    h("dt", {}, "Other names"),
    h("dd", {}, list(t.aliases)),
    h("dt", {}, "Misspellings"),
    h("dd", {}, list(t.misspellings)),
    h("dt", {}, "Descriptions"),
    h("dd", {}, list(t.descriptions)),
    h("dt", {}, "Where"),
    h("dd", {}, scopeWords(o.scopes)),
    h("dt", {}, "Territories"),
    h("dd", {}, territoryWords(o.territories)),
    h("dt", {}, "Reference files"),
    h("dd", {}, o.reference_media.length ? h("ul", { class: "plain" }, o.reference_media.map((m) => h("li", {}, `${m.kind === "clip" ? "Clip" : "Image"}: ${m.uri}`))) : "None"),
    h("dt", {}, "Filed"),
    h("dd", {}, timeTag(o.filed_at)),
    h("dt", {}, "Last changed"),
    h("dd", {}, timeTag(o.updated_at), ` (version ${o.version})`),
  );
}

function amendForm(o, reload) {
  return form({
    label: "Amend this opt-out",
    submit: "Save changes",
    children: [
      h("p", { class: "hint" }, "What you save here replaces the opt-out's terms, places and territories."),
      ...termFields(o.terms),
      scopeFields(o.scopes),
      territoryField(o.territories),
      referenceFields("Add a reference file"),
    ],
    action: async (data) => {
      const reference = referenceFrom(data);
      const scopes = scopesFrom(data);
      if (!scopes.length) throw new Error("Choose at least one place where the opt-out applies.");
      const json = {
        // brands are not edited on this page: keep them as filed
        terms: { ...termsFrom(data), brands: o.terms.brands },
        scopes,
        territories: territoriesFrom(data),
      };
      if (reference) json.reference_media = [...o.reference_media, reference];
      const path = `/v1/optouts/${encodeURIComponent(o.optout_id)}`;
      const accepted = await api(path, { method: "PATCH", json });
      await readBack(path, (now) => now.version >= accepted.stream_version);
      return accepted;
    },
    done: () => {
      toast("Opt-out amended.");
      reload();
    },
  });
}

function withdrawForm(o, reload) {
  const node = form({
    label: "Withdraw this opt-out",
    submit: "Withdraw opt-out",
    children: [
      field(
        "Why are you withdrawing it?",
        h("textarea", { name: "reason", maxlength: 500, rows: 2 }),
        "Optional. Once withdrawn, requests naming the work are no longer refused.",
      ),
    ],
    action: async (data) => {
      const path = `/v1/optouts/${encodeURIComponent(o.optout_id)}`;
      await api(`${path}/withdraw`, { method: "POST", json: { reason: String(data.get("reason") || "").trim() } });
      await readBack(path, (now) => now.status === "withdrawn");
    },
    done: () => {
      toast("Opt-out withdrawn.");
      reload();
    },
  });
  node.querySelector("button[type=submit]").classList.add("danger");
  return node;
}

async function optoutPage(body, { id }) {
  const path = `/v1/optouts/${encodeURIComponent(id)}`;
  const reload = () => go(`#/optout/${encodeURIComponent(id)}`);
  mount(body, h("p", {}, h("a", { href: "#/" }, "← All opt-outs")), status("Loading the opt-out…"));
  let optout;
  try {
    optout = await api(path);
  } catch (err) {
    mount(body, h("p", {}, h("a", { href: "#/" }, "← All opt-outs")), h("h1", {}, "Opt-out"), errorBox(err));
    return;
  }
  const statsBox = h("div", { class: "stats" });
  const refresh = h("button", { type: "button", class: "secondary" }, "Refresh counts");
  const loadStats = () => load(statsBox, "Counting what this opt-out blocked…", async () => statsView(await api(`${path}/stats`)));
  refresh.addEventListener("click", async () => {
    refresh.disabled = true;
    await loadStats();
    refresh.disabled = false;
  });
  mount(
    body,
    h("p", {}, h("a", { href: "#/" }, "← All opt-outs")),
    h("h1", {}, `Opt-out: ${namesOf(optout)}`),
    h("div", { class: "grid" }, section("This opt-out", detailsView(optout)), section("Blocked over time", h("div", { class: "row spread" }, h("p", { class: "hint" }, "Who asked is never shown."), refresh), statsBox)),
    optout.status === "active"
      ? [section("Amend", amendForm(optout, reload)), section("Withdraw", withdrawForm(optout, reload))]
      : h("p", { class: "notice" }, "This opt-out was withdrawn; it no longer blocks anything. File a new one to protect the work again."),
  );
  await loadStats();
}

start({
  title: "Rights",
  tabs: [
    ["#/", "Opt-outs"],
    ["#/new", "File an opt-out"],
  ],
  routes: [
    ["", listPage],
    ["new", filePage],
    ["optout/:id", optoutPage],
  ],
});
