// The investigator's console: drop a clip or an image found in the wild, see which
// generations it came from (frames side by side, matched ranges on a timeline), their full
// records and the file's provenance report; and the investigator's own (audited) searches.

import { api, mediaUrl, upload } from "../api.js";
import { start } from "../app.js";
import { humanize } from "../schema.js";
import {
  badge, emptyState, errorBox, h, load, mount, section, status, table, timeTag, when,
} from "../ui.js";

const enc = encodeURIComponent;
const seconds = (t) => `${Number(t).toFixed(1)} s`;

// ---- frames of the dropped file, read in the browser (the file never leaves it twice) ----

function localVideo(file) {
  return new Promise((resolve) => {
    const video = h("video", { muted: true, preload: "auto", playsinline: true });
    video.addEventListener("loadeddata", () => resolve(video), { once: true });
    video.addEventListener("error", () => resolve(null), { once: true });
    video.src = URL.createObjectURL(file);
  });
}

function seek(video, t) {
  return new Promise((resolve) => {
    const done = () => resolve(true);
    video.addEventListener("seeked", done, { once: true });
    video.currentTime = Math.min(t, Math.max(0, (video.duration || t) - 0.05));
    setTimeout(() => resolve(false), 4000);
  });
}

// One video element seeks to one time at a time: frames are read in turn, never in parallel.
function localFrame(source, t) {
  if (source.kind === "image") return Promise.resolve(source.url);
  if (!source.video) return Promise.resolve(null);
  source.turn = (source.turn || Promise.resolve()).then(() => grab(source, t));
  return source.turn;
}

async function grab(source, t) {
  await seek(source.video, t);
  const canvas = document.createElement("canvas");
  const scale = 320 / (source.video.videoWidth || 320);
  canvas.width = 320;
  canvas.height = Math.round((source.video.videoHeight || 180) * scale);
  canvas.getContext("2d").drawImage(source.video, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL("image/jpeg", 0.8);
}

function figure(alt, srcPromise) {
  const img = h("img", { alt, width: 320, height: 180 });
  const box = h("figure", {}, img, h("figcaption", {}, alt));
  Promise.resolve(srcPromise).then(
    (src) => { if (src) img.src = src; else mount(box, h("p", { class: "hint" }, "This browser cannot show frames of this file.")); },
    (err) => mount(box, errorBox(err)),
  );
  return box;
}

// ---- the match ----

function rangeBar(label, range, length) {
  const total = Math.max(length, range[1], 0.001);
  const span = h("span", {});
  span.style.left = `${(100 * range[0]) / total}%`;
  span.style.width = `${Math.max(1, (100 * (range[1] - range[0])) / total)}%`;
  return h("div", {},
    h("p", { class: "hint" }, `${label}: ${seconds(range[0])} – ${seconds(range[1])} of ${seconds(total)}`),
    h("div", { class: "timeline", role: "img", "aria-label": `${label}: matched from ${seconds(range[0])} to ${seconds(range[1])}` }, span));
}

function holdsOf(record) {
  if (!record.holds.length) return badge("visible", "ok");
  return record.holds.map((hold) => badge(`${hold.kind}${hold.reason ? `: ${hold.reason}` : ""}`, "bad"));
}

function listOfEvents(items, empty) {
  if (!items || !items.length) return h("p", { class: "hint" }, empty);
  return h("ol", { class: "events" }, items.map((item) => {
    const at = item.at || item.occurred_at || item.decided_at || item.taken_at;
    const what = item.type || item.event || item.kind || item.stage || item.outcome || "";
    const rest = Object.entries(item)
      .filter(([k, v]) => !["at", "occurred_at", "decided_at", "taken_at", "type", "event", "kind"].includes(k) && !/blob/.test(k) && v !== null && v !== "" && typeof v !== "object")
      .map(([k, v]) => `${humanize(k)}: ${v}`)
      .join("; ");
    return h("li", {}, at ? [timeTag(at), " "] : null, h("strong", {}, humanize(String(what).replace(/([a-z])([A-Z])/g, "$1_$2"))), rest ? ` — ${rest}` : "");
  }));
}

function c2paFacts(c2pa) {
  const entries = Object.entries(c2pa || {}).filter(([, v]) => v !== null && v !== undefined && typeof v !== "object");
  if (!entries.length) return h("p", { class: "hint" }, "No C2PA facts on record.");
  return h("dl", { class: "facts" }, entries.map(([k, v]) => h("div", {}, h("dt", {}, humanize(k)), h("dd", {}, String(v)))));
}

function recordFacts(record) {
  return h("dl", { class: "facts" },
    [
      ["Prompt", record.prompt ?? "—"],
      ["Account", record.account_id ?? "—"],
      ["Status", record.status ?? "—"],
      ["Requested", when(record.requested_at)],
      ["Signed", when(record.signed_at)],
      ["Published", when(record.published_at)],
      ["Watermark serial", record.watermark_payload ?? "—"],
    ].map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))),
    h("div", {}, h("dt", {}, "Holds"), h("dd", {}, holdsOf(record))));
}

function matchCard(match, rank, source) {
  const record = match.record;
  const times = [0.15, 0.5, 0.85].map((f) => match.query_range_s[0] + f * (match.query_range_s[1] - match.query_range_s[0]));
  const pairs = times.map((t) => {
    const g = match.generation_range_s[0] + (t - match.query_range_s[0]) * (match.speed || 1);
    return h("div", { class: "pair" },
      figure(`Your file at ${seconds(t)}`, localFrame(source, t)),
      figure(`Generation at ${seconds(g)}`, mediaUrl(`/v1/assets/${enc(match.asset_id)}/frames?at=${g.toFixed(3)}&width=320`)));
  });
  const title = match.generation_id ? `Generation ${match.generation_id}` : `Asset ${match.asset_id}`;
  return section(`${rank}. ${title}`,
    h("p", {}, `Score ${match.score.toFixed(3)} · ${match.matched_frames} matched frames · speed ×${match.speed.toFixed(2)} `,
      badge(match.visibility, match.visibility === "visible" ? "ok" : "bad"),
      match.flags.map((f) => [" ", badge(humanize(f), "warn")])),
    rangeBar("Your file", match.query_range_s, source.duration || match.query_range_s[1]),
    rangeBar("The generation", match.generation_range_s, match.generation_range_s[1]),
    h("h3", {}, "Frames side by side"),
    h("div", { class: "pairs" }, pairs),
    h("h3", {}, "Record"),
    recordFacts(record),
    h("h3", {}, "Moderation"), listOfEvents(record.moderation, "No moderation decisions on record."),
    h("h3", {}, "Enforcement"), listOfEvents(record.enforcement, "No enforcement on this video."),
    h("h3", {}, "C2PA"), c2paFacts(record.c2pa),
    h("h3", {}, "What happened to it"), listOfEvents(record.timeline && record.timeline.length ? record.timeline : record.history, "No history on record."),
    match.generation_id ? h("p", {}, h("a", { href: `#/record/${enc(match.generation_id)}` }, "Open the full record")) : null);
}

function provenanceCard(report) {
  const c = report.c2pa;
  const w = report.watermark;
  return section("Provenance of the file",
    h("p", {}, h("strong", {}, humanize(report.conclusion)), report.consistent ? "" : " — the signals disagree; see the notes"),
    h("dl", { class: "facts" },
      [
        ["SHA-256", report.sha256],
        ["Size", `${report.size_bytes.toLocaleString()} bytes`],
        ["C2PA", `${c.state}${c.signer ? ` (signed by ${c.signer})` : ""}`],
        ["C2PA status codes", c.status_codes.join(", ") || "—"],
        ["Source type", c.digital_source_type || "—"],
        ["Watermark serial", w.serial || (w.error ? `not read: ${w.error}` : "none found")],
        ["Generation", report.generation_id || "—"],
      ].map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v)))),
    report.notes.length ? h("ul", {}, report.notes.map((n) => h("li", {}, n))) : null);
}

// ---- the search page ----

function uploadStep(label) {
  const bar = h("progress", { max: 100, value: 0, "aria-label": label });
  const text = h("span", {}, `${label}: 0%`);
  const node = h("div", { class: "loading", role: "status", "aria-busy": "true" }, text, bar);
  return {
    node,
    progress(fraction) {
      const pct = Math.round(fraction * 100);
      bar.value = pct;
      text.textContent = pct >= 100 ? `${label}: uploaded, now working on it…` : `${label}: ${pct}%`;
    },
  };
}

async function runSearch(file, results) {
  const source = { kind: file.type.startsWith("image/") ? "image" : "video", url: URL.createObjectURL(file), video: null, duration: 0 };
  if (source.kind === "video") {
    source.video = await localVideo(file);
    source.duration = source.video ? source.video.duration || 0 : 0;
  }
  const preview = source.kind === "image"
    ? h("img", { src: source.url, alt: `Your file: ${file.name}`, class: "preview" })
    : source.video
      ? h("video", { src: source.url, controls: true, class: "preview", "aria-label": `Your file: ${file.name}` })
      : h("p", { class: "hint" }, "This browser cannot play the file; the server can still search it.");
  const searching = uploadStep("Searching");
  mount(results, section(`Your file: ${file.name}`, preview, h("p", { class: "hint" }, `${(file.size / 1e6).toFixed(2)} MB`)), searching.node);
  const body = new FormData();
  body.append("file", file, file.name);
  let report;
  try {
    report = await upload("/v1/reverse-search/searches", body, searching.progress);
  } catch (err) {
    searching.node.replaceWith(errorBox(err));
    return;
  }
  const found = h("div", {}, h("h2", {}, report.verdict === "match" ? `${report.matches.length} matching generation${report.matches.length === 1 ? "" : "s"}` : "No match"),
    h("p", {}, report.message),
    report.matches.map((m, i) => matchCard(m, i + 1, source)));
  searching.node.replaceWith(found);
  const checking = uploadStep("Checking provenance");
  results.append(checking.node);
  const again = new FormData();
  again.append("file", file, file.name);
  try {
    checking.node.replaceWith(provenanceCard(await upload("/v1/provenance/verify", again, checking.progress)));
  } catch (err) {
    checking.node.replaceWith(errorBox(err));
  }
}

function searchPage(body) {
  const results = h("div", { class: "results" });
  const input = h("input", { type: "file", id: "query-file", name: "file", accept: "video/*,image/*" });
  const zone = h("div", { class: "drop" },
    h("label", { for: "query-file" }, h("strong", {}, "Drop a clip or an image here, or choose a file")),
    h("p", { class: "hint", id: "query-hint" }, "MP4, WebM, MOV, PNG or JPEG. The search is recorded in your audit trail by the file's hash."),
    input);
  input.setAttribute("aria-describedby", "query-hint");
  const go = (file) => { if (file) runSearch(file, results); };
  input.addEventListener("change", () => go(input.files[0]));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    go(e.dataTransfer.files[0]);
  });
  mount(body, h("h1", {}, "Find where a clip came from"), zone, results);
}

// ---- history and records ----

async function historyPage(body) {
  const list = h("div");
  mount(body, h("h1", {}, "My searches"), h("p", { class: "hint" }, "Every search you ran, newest first, as the audit trail holds it: the file's hash and size, never its content."), list);
  await load(list, "Loading your searches…", async () => {
    const { searches } = await api("/v1/reverse-search/searches/mine?limit=100");
    return table({
      columns: [
        { label: "When", cell: (s) => timeTag(s.at) },
        { label: "Kind", cell: (s) => s.query_kind },
        { label: "File hash", cell: (s) => h("code", { title: s.query_sha256 }, s.query_sha256.slice(0, 16)) },
        { label: "Size", cell: (s) => `${s.query_bytes.toLocaleString()} bytes` },
        { label: "Best match", cell: (s) => (s.results.length && s.results[0].generation_id ? h("a", { href: `#/record/${enc(s.results[0].generation_id)}` }, `${s.results[0].generation_id} (${s.results[0].score.toFixed(3)})`) : "no match") },
        { label: "Matches", cell: (s) => String(s.results.length) },
      ],
      rows: searches,
      empty: emptyState("You have not searched yet.", "Drop a file on the Search page to start."),
    });
  });
}

async function recordPage(body, { id }) {
  mount(body, status("Loading the record…"));
  let record;
  try {
    record = await api(`/v1/reverse-search/generations/${enc(id)}`);
  } catch (err) {
    mount(body, h("h1", {}, "Record"), errorBox(err));
    return;
  }
  mount(body,
    h("h1", {}, `Generation ${record.generation_id}`),
    section("Request", h("dl", { class: "facts" },
      [["Prompt", record.prompt ?? "—"], ["Account", record.account_id ?? "—"], ["Status", record.status ?? "—"]]
        .map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))))),
    section("Moderation", listOfEvents(record.moderation, "No moderation decisions on record.")),
    section("Timeline", listOfEvents(record.timeline, "No events on record.")),
    record.assets.map((asset) => section(`Asset ${asset.asset_id}`,
      recordFacts({ ...asset, prompt: record.prompt }),
      h("h3", {}, "Enforcement"), listOfEvents(asset.enforcement, "No enforcement."),
      h("h3", {}, "C2PA"), c2paFacts(asset.c2pa),
      h("h3", {}, "History"), listOfEvents(asset.history, "No history."))));
}

start({
  title: "Investigate",
  tabs: [["#/", "Search"], ["#/history", "My searches"]],
  routes: [
    ["", searchPage],
    ["history", historyPage],
    ["record/:id", recordPage],
  ],
});
