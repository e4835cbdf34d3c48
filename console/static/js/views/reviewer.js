// The reviewer's console: the triage queue, a case with its evidence and the enforcement
// form, the appeals assigned to this reviewer, and blocked outputs awaiting a human.

import { api, mediaUrl, readBack, session } from "../api.js";
import { go, start } from "../app.js";
import { bodySchema, constrain, humanize } from "../schema.js";
import {
  badge, emptyState, errorBox, field, form, h, lines, load, mount, section, status, table,
  timeTag, toast, when,
} from "../ui.js";

const enc = encodeURIComponent;

// ---- shared pieces ----

function leaseText(claimedBy, expiresAt) {
  if (!claimedBy) return "Free to claim";
  const who = claimedBy === session.principal ? "you" : claimedBy;
  return `Claimed by ${who} until ${when(expiresAt)}`;
}

function minutesLeft(iso) {
  return Math.max(0, Math.round((new Date(iso).getTime() - Date.now()) / 60000));
}

// Why a case ranks where it does, from the facts triage ranked it by.
function whyRanked(c) {
  const reasons = [];
  if (c.categories.length) reasons.push(`harm: ${c.categories.map(humanize).join(", ")}`);
  reasons.push(`${c.report_count} report${c.report_count === 1 ? "" : "s"}`);
  if (c.trusted_flagger) reasons.push("a trusted flagger reported it");
  const waited = c.effective_priority - c.priority;
  if (waited > 0.0005) reasons.push(`+${waited.toFixed(2)} for time waiting`);
  for (const [key, value] of Object.entries(c.signals || {})) {
    if (value === false || value === null || value === 0) continue;
    if (typeof value === "object") {
      // a map of scores: only the ones that say something, highest first
      const said = scoreRows(Object.fromEntries(Object.entries(value).filter(([, v]) => v !== 0)));
      if (said) reasons.push(`${humanize(key)}: ${said}`);
      continue;
    }
    reasons.push(`${humanize(key)}${value === true ? "" : `: ${value}`}`);
  }
  return h("ul", { class: "why" }, reasons.map((r) => h("li", {}, r)));
}

function targetText(target) {
  return `${target.kind === "asset" ? "Video" : "Account"} ${target.id}`;
}

function frameImage(url, alt) {
  // not loading="lazy": the bytes are already fetched into a blob, and a lazy image below
  // the fold stays blank in a printout or a full-page capture
  const img = h("img", { alt, class: "frame", width: 240, height: 135 });
  const box = h("figure", { class: "frame-box" }, img, h("figcaption", {}, alt));
  mediaUrl(url).then(
    (src) => { img.src = src; },
    (err) => mount(box, errorBox(err)),
  );
  return box;
}

// The asset player and frames of a video target (looked up by asset id: reports name assets).
async function assetEvidence(assetId, times) {
  let asset;
  try {
    asset = await api(`/v1/assets/${enc(assetId)}`);
  } catch (err) {
    return section("The video", errorBox(err));
  }
  const parts = [];
  let video = null;
  if (asset.playable) {
    video = h("video", { controls: true, preload: "metadata", class: "player", "aria-label": `Video ${assetId}` });
    const holder = h("div", { class: "player-box" }, status("Loading the video…"));
    mediaUrl(`/v1/assets/${enc(assetId)}/media`).then(
      (src) => { video.src = src; mount(holder, video); },
      (err) => mount(holder, errorBox(err)),
    );
    parts.push(holder);
  } else {
    parts.push(h("p", { class: "notice" }, "This output was blocked: it is not played, and its frames are shown blurred."));
  }
  const marks = [...new Set(times.filter((t) => t !== null && t !== undefined))];
  if (video && marks.length) {
    parts.push(h("p", {}, "Reported moments: ", marks.map((t) =>
      h("button", { type: "button", class: "link-button", on: { click: () => { video.currentTime = t; video.focus(); } } }, `${t.toFixed(1)} s`))));
  }
  const frameTimes = marks.length ? marks : [0, 1];
  parts.push(h("div", { class: "frames" }, frameTimes.map((t) =>
    frameImage(`/v1/assets/${enc(assetId)}/frames?at=${t}&width=320`, `Frame at ${t.toFixed(1)} s`))));
  parts.push(h("p", { class: "hint" }, `Visibility: ${asset.visibility}. Generation ${asset.generation_id}.`));
  const moderation = await moderationEvidence(asset.generation_id);
  return [section("The video", ...parts), moderation];
}

function scoreRows(scores) {
  return Object.entries(scores || {})
    .filter(([, v]) => typeof v === "number")
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${humanize(k)} ${v.toFixed(2)}`)
    .join(", ");
}

// What the automated checks saw: the prompt decision's scores and evidence, and the output's
// verdicts with the sampled frames and their scores (OutputModerated).
async function moderationEvidence(generationId) {
  let record;
  try {
    record = await api(`/v1/generations/${enc(generationId)}/moderation`);
  } catch (err) {
    return section("Moderation evidence", errorBox(err));
  }
  const parts = [];
  const d = record.decision;
  if (d) {
    const p = d.prompt_decision || {};
    parts.push(h("h3", {}, "The prompt"), h("dl", { class: "facts" },
      [
        ["Decision", d.approved ? "approved" : `refused${d.reason_category ? ` (${humanize(d.reason_category)})` : ""}`],
        ["Checked at", d.stage ? humanize(d.stage) : "—"],
        ["Language", p.language ? `${p.language.code} (${p.language.status})` : "—"],
        ["Scores", scoreRows(p.scores) || "—"],
        ["Policy", p.policy_version || "—"],
      ].map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v)))));
    if (p.evidence && p.evidence.length) {
      parts.push(h("ul", {}, p.evidence.slice(0, 10).map((e) =>
        h("li", {}, `${humanize(e.category || "")}: ${e.kind || e.source || ""} ${e.detail ? `“${e.detail}”` : ""} ${typeof e.score === "number" ? e.score.toFixed(2) : ""}`))));
    }
  }
  const o = record.output;
  if (o) {
    parts.push(h("h3", {}, "The output"), h("p", {}, `Decision: ${o.decision}${o.blocked_categories.length ? ` (${o.blocked_categories.map(humanize).join(", ")})` : ""}, policy ${o.policy_version}.`));
    parts.push(table({
      caption: "Verdicts per category",
      columns: [
        { label: "Category", cell: (v) => humanize(v.category || "") },
        { label: "Outcome", cell: (v) => v.outcome || v.status || "—" },
        { label: "Highest score", cell: (v) => (typeof v.max_score === "number" ? v.max_score.toFixed(2) : "—") },
        { label: "Threshold", cell: (v) => (typeof v.threshold === "number" ? v.threshold.toFixed(2) : "—") },
      ],
      rows: o.verdicts || [],
      empty: emptyState("No per-category verdicts were recorded."),
    }));
    const frames = (o.frame_scores || []).slice(0, 8);
    parts.push(table({
      caption: "Sampled frames with their scores",
      columns: [
        { label: "Time", cell: (f) => seconds(f.time_s) },
        { label: "Frame", cell: (f) => frameImage(`/v1/generations/${enc(generationId)}/frames?at=${f.time_s || 0}&width=160`, `Output frame at ${seconds(f.time_s)}`) },
        { label: "Scores", cell: (f) => Object.entries(f.scores || {}).map(([classifier, s]) => h("div", {}, `${classifier}: ${scoreRows(s) || "—"}`)) },
      ],
      rows: frames,
      empty: emptyState("No frames were scored."),
    }));
  }
  if (!parts.length) parts.push(emptyState("No automated decision is on record for this video."));
  return section("Moderation evidence", ...parts);
}

const seconds = (t) => `${Number(t || 0).toFixed(1)} s`;

function historyList(history) {
  if (!history.length) return emptyState("Nothing has happened on this case yet.");
  return h("ol", { class: "events" }, history.map((e) =>
    h("li", {}, timeTag(e.at), " ", h("strong", {}, humanize(e.type.replace(/([a-z])([A-Z])/g, "$1_$2"))),
      ` by ${e.actor_id} (${e.actor_role})`,
      Object.keys(e.facts).length ? h("span", { class: "hint" }, " — ", Object.entries(e.facts).map(([k, v]) => `${humanize(k)}: ${Array.isArray(v) ? v.join(", ") : v}`).join("; ")) : null)));
}

function casesTable(cases, caption) {
  return table({
    caption,
    columns: [
      { label: "Case", cell: (c) => h("a", { href: `#/case/${enc(c.case_id)}` }, targetText(c.target)) },
      { label: "Status", cell: (c) => badge(c.status, c.status === "open" ? "warn" : "") },
      { label: "Harm", cell: (c) => c.categories.map(humanize).join(", ") || "—" },
      { label: "Filed", cell: (c) => timeTag(c.first_filed_at) },
    ],
    rows: cases,
    empty: emptyState("No related cases."),
  });
}

// A decision is recorded at once, and the pages that list it catch up a moment later (read
// models follow the event log): show that, and render when the page will say it.
async function untilRecorded(body, label, path, isRecorded) {
  mount(body, status(label));
  try {
    await readBack(path, isRecorded, { tries: 60, wait: 500 });
  } catch {
    // the page, loaded again next, says what is wrong
  }
}

// ---- the queue ----

async function queuePage(body) {
  const list = h("div");
  const claimNext = h("button", { type: "button" }, "Claim the next case");
  claimNext.addEventListener("click", async () => {
    claimNext.disabled = true;
    try {
      const claim = await api("/v1/cases/next", { method: "POST", json: {} });
      if (claim.case_id) go(`#/case/${enc(claim.case_id)}`);
      else toast("The queue is empty: nothing to claim.");
    } catch (err) {
      mount(list, errorBox(err));
    } finally {
      claimNext.disabled = false;
    }
  });
  mount(body, h("div", { class: "page-head" }, h("h1", {}, "Review queue"), claimNext),
    h("p", { class: "hint" }, "Most urgent first. Each case says why it ranks where it does; claiming it gives you a lease that others see."),
    list);
  await load(list, "Loading the queue…", async () => {
    const { cases } = await api("/v1/cases/queue?limit=100");
    return table({
      caption: `${cases.length} open case${cases.length === 1 ? "" : "s"}`,
      columns: [
        { label: "Rank", cell: (c) => String(cases.indexOf(c) + 1) },
        { label: "Priority", cell: (c) => c.effective_priority.toFixed(2) },
        { label: "Why it ranks here", cell: whyRanked },
        { label: "Target", cell: (c) => h("a", { href: `#/case/${enc(c.case_id)}`, "aria-label": `Open case: ${targetText(c.target)}` }, targetText(c.target)) },
        { label: "First report", cell: (c) => timeTag(c.first_filed_at) },
        { label: "Lease", cell: (c) => leaseText(c.claimed_by, c.claim_expires_at) },
      ],
      rows: cases,
      empty: emptyState("The queue is empty.", "New reports appear here as they are triaged; check back later."),
    });
  });
}

// ---- a case ----

function leaseBox(c, reload) {
  const box = h("div", { class: "lease", role: "status" });
  const mine = c.claimed_by === session.principal;
  const act = (label, path, message) => {
    const button = h("button", { type: "button" }, label);
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await api(path, { method: "POST", json: path.endsWith("/claim") ? {} : undefined });
        toast(message);
        reload();
      } catch (err) {
        button.disabled = false;
        box.append(errorBox(err));
      }
    });
    return button;
  };
  if (c.status !== "open") {
    box.append(`Decided ${when(c.decided_at)} by ${c.decided_by || "—"}.`);
  } else if (mine) {
    box.append(`You hold this case until ${when(c.claim_expires_at)} (${minutesLeft(c.claim_expires_at)} min left). `,
      act("Renew the lease", `/v1/cases/${enc(c.case_id)}/claim`, "Lease renewed."), " ",
      act("Release", `/v1/cases/${enc(c.case_id)}/release`, "Released: the case is back in the queue."));
  } else if (c.claimed_by) {
    box.append(leaseText(c.claimed_by, c.claim_expires_at));
  } else {
    box.append("Nobody holds this case. ", act("Claim this case", `/v1/cases/${enc(c.case_id)}/claim`, "Claimed: the lease is yours."));
  }
  return box;
}

function select(name, values, { multiple = false, blank = null } = {}) {
  const control = h("select", { name, multiple });
  if (blank) control.append(h("option", { value: "" }, blank));
  for (const v of values) control.append(h("option", { value: v }, humanize(v)));
  return control;
}

// The statement-of-reasons form: choices and limits are the API's own (CaseAction).
async function enforcementForm(c, reload) {
  const rules = await bodySchema("CaseAction");
  const text = (name, multiline = false) => constrain(h(multiline ? "textarea" : "input", { name, rows: multiline ? 3 : null }), rules[name]);
  const kind = select("kind", rules.kind.enum);
  const category = select("category", rules.category.enum, { blank: "Choose a category" });
  category.required = true;
  const keywords = select("category_specification", rules.category_specification.items.enum, { multiple: true });
  keywords.size = 6;
  const ground = select("ground", rules.ground.enum);
  const duration = constrain(h("input", { name: "duration_days", type: "number", inputmode: "numeric" }), rules.duration_days);
  const strike = h("input", { type: "checkbox", name: "strike" });
  const suspendOnly = field("Suspension length in days", duration, "Only for a suspension.");
  const syncKind = () => { suspendOnly.hidden = kind.value !== "suspend_account"; };
  kind.addEventListener("change", syncKind);
  syncKind();
  return form({
    label: "Enforcement with a statement of reasons",
    submit: "Take action",
    children: [
      field("Action", kind),
      field("Statement category", category, "The Transparency Database's category for this decision."),
      field("Keywords", keywords, "Optional; hold Ctrl or Cmd to choose several."),
      field("Ground", ground),
      field("Legal or contractual reference", text("ground_reference"), "The law or the terms-of-service clause, e.g. “Terms §4.2”."),
      field("Why the content breaks it", text("ground_explanation", true)),
      field("Facts and circumstances", text("facts", true), "What was found and how; the affected person reads this."),
      suspendOnly,
      h("div", { class: "field check" }, strike, h("label", { for: strike.id = "strike-box" }, "Count a strike against the account")),
      field("Territorial scope", h("input", { name: "territorial_scope" }), "Country codes separated by commas; empty means everywhere."),
      field("Internal notes", text("notes", true), "Seen by reviewers only."),
    ],
    action: async (data) => {
      const body = {
        kind: data.get("kind"),
        category: data.get("category") || undefined,
        category_specification: data.getAll("category_specification"),
        ground: data.get("ground"),
        ground_reference: data.get("ground_reference"),
        ground_explanation: data.get("ground_explanation"),
        facts: data.get("facts"),
        strike: data.get("strike") === "on",
        territorial_scope: lines(data.get("territorial_scope")),
      };
      if (body.kind === "suspend_account" && data.get("duration_days")) body.duration_days = Number(data.get("duration_days"));
      if (data.get("notes")) body.notes = data.get("notes");
      return api(`/v1/cases/${enc(c.case_id)}/actions`, { method: "POST", json: body });
    },
    done: async (taken) => {
      toast(`Action taken: ${humanize(taken.kind)} (statement ${taken.puid}).`);
      await untilRecorded(document.querySelector(".view"), "Recording the decision…", `/v1/cases/${enc(c.case_id)}`, (x) => x.status !== "open");
      reload();
    },
  });
}

function dismissForm(c, reload) {
  const reasons = h("textarea", { name: "reasons", rows: 3, minlength: 10, maxlength: 5000, required: true });
  return form({
    label: "Dismiss the reports",
    submit: "Dismiss",
    children: [field("Why no action is needed", reasons, "The reporters are told the outcome.")],
    action: (data) => api(`/v1/cases/${enc(c.case_id)}/dismiss`, { method: "POST", json: { reasons: data.get("reasons") } }),
    done: async () => {
      toast("Dismissed.");
      await untilRecorded(document.querySelector(".view"), "Recording the decision…", `/v1/cases/${enc(c.case_id)}`, (x) => x.status !== "open");
      reload();
    },
  });
}

async function casePage(body, { id }) {
  const reload = () => casePage(body, { id });
  mount(body, status("Loading the case…"));
  let c;
  try {
    c = await api(`/v1/cases/${enc(id)}`);
  } catch (err) {
    mount(body, h("h1", {}, "Case"), errorBox(err), h("p", {}, h("a", { href: "#/" }, "Back to the queue")));
    return;
  }
  const parts = [
    h("p", {}, h("a", { href: "#/" }, "← Queue")),
    h("h1", {}, `Case: ${targetText(c.target)}`),
    h("p", {}, badge(c.status, c.status === "open" ? "warn" : ""), ` Priority ${c.effective_priority.toFixed(2)}. `),
    whyRanked(c),
    leaseBox(c, reload),
  ];
  const evidence = c.target.kind === "asset"
    ? await assetEvidence(c.target.id, c.reports.map((r) => r.at_seconds))
    : [section("The account", h("p", {}, `Reports about account ${c.target.id}.`))];
  parts.push(...[evidence].flat());
  parts.push(section("Reports", table({
    columns: [
      { label: "Filed", cell: (r) => timeTag(r.filed_at) },
      { label: "Category", cell: (r) => humanize(r.category) },
      { label: "What the reporter says", cell: (r) => r.explanation },
      { label: "At", cell: (r) => (r.at_seconds === null ? "—" : `${r.at_seconds.toFixed(1)} s`) },
      { label: "Reporter", cell: (r) => [r.reporter_id, r.trusted_flagger ? badge("trusted flagger", "ok") : null] },
    ],
    rows: c.reports,
    empty: emptyState("No reports: this case was opened on the service's own initiative."),
  })));
  parts.push(section("History", historyList(c.history)));
  parts.push(section("Related cases", casesTable(c.related, "Cases on the same video or account")));
  if (c.status === "open" && c.claimed_by === session.principal) {
    parts.push(section("Decide", await enforcementForm(c, reload), h("h3", {}, "Or dismiss"), dismissForm(c, reload)));
  } else if (c.status === "open") {
    parts.push(section("Decide", h("p", {}, "Claim the case to decide it.")));
  } else if (c.action_ids.length) {
    parts.push(section("Decisions", h("ul", {}, c.action_ids.map((a) => h("li", {}, `Action ${a}`)))));
  }
  mount(body, parts);
}

// ---- appeals ----

async function appealsPage(body) {
  const list = h("div");
  mount(body, h("h1", {}, "Appeals"), h("p", { class: "hint" }, "Appeals assigned to you, and unassigned ones an administrator may give you. You never see an appeal of a decision you took part in."), list);
  await load(list, "Loading appeals…", async () => {
    const { appeals } = await api("/v1/appeals/queue");
    return table({
      columns: [
        { label: "Filed", cell: (a) => timeTag(a.filed_at) },
        { label: "Decision", cell: (a) => humanize(a.decision_kind) },
        { label: "The appellant says", cell: (a) => a.statement },
        { label: "Status", cell: (a) => [badge(a.status), a.reviewer_id === session.principal ? " (yours)" : ""] },
        { label: "", cell: (a) => h("a", { href: `#/appeal/${enc(a.appeal_id)}`, "aria-label": `Open appeal ${a.appeal_id}` }, "Open") },
      ],
      rows: appeals,
      empty: emptyState("No appeals are waiting.", "Appeals assigned to you appear here."),
    });
  });
}

function statementFacts(sor) {
  const keys = ["decision_ground", "category", "illegal_content_legal_ground", "incompatible_content_ground", "illegal_content_explanation", "incompatible_content_explanation", "decision_facts", "decision_visibility", "decision_account", "automated_detection", "automated_decision"];
  return h("dl", { class: "facts" }, keys.filter((k) => sor[k] !== undefined && sor[k] !== null && sor[k] !== "").map((k) =>
    h("div", {}, h("dt", {}, humanize(k)), h("dd", {}, Array.isArray(sor[k]) ? sor[k].map(humanize).join(", ") : humanize(sor[k]).length < 60 && /^[A-Z_]+$/.test(String(sor[k])) ? humanize(sor[k]) : String(sor[k])))));
}

async function appealPage(body, { id }) {
  const reload = () => appealPage(body, { id });
  mount(body, status("Loading the appeal…"));
  let a;
  try {
    a = await api(`/v1/appeals/${enc(id)}`);
  } catch (err) {
    mount(body, h("h1", {}, "Appeal"), errorBox(err));
    return;
  }
  const parts = [
    h("p", {}, h("a", { href: "#/appeals" }, "← Appeals")),
    h("h1", {}, `Appeal of a ${humanize(a.decision_kind).toLowerCase()} decision`),
    h("p", {}, badge(a.status), ` Filed ${when(a.filed_at)} by ${a.appellant_id} (${a.appellant_role}).`),
    section("What the appellant says", h("blockquote", {}, a.statement)),
  ];
  if (a.rights_holder_response) parts.push(section("The rights holder's response", h("blockquote", {}, a.rights_holder_response)));
  const original = a.original_decision;
  if (original && original.statement_of_reasons) {
    parts.push(section("The original decision",
      h("p", {}, `${humanize(original.kind)} on ${targetText(original.target)}, ${when(original.taken_at)}, by ${original.decided_by}.`),
      statementFacts(original.statement_of_reasons)));
    if (original.target.kind === "asset") parts.push(...[await assetEvidence(original.target.id, [])].flat());
  } else if (original && original.reports) {
    parts.push(section("The original case", h("p", {}, `${targetText(original.target)}: ${original.status}.`)));
  }
  if (a.status !== "decided" && a.reviewer_id === session.principal) {
    const outcome = h("fieldset", {}, h("legend", {}, "Outcome"),
      h("div", { class: "check" }, h("input", { type: "radio", name: "outcome", value: "upheld", id: "outcome-upheld" }), h("label", { for: "outcome-upheld" }, "Uphold the decision")),
      h("div", { class: "check" }, h("input", { type: "radio", name: "outcome", value: "reversed", id: "outcome-reversed" }), h("label", { for: "outcome-reversed" }, "Reverse the decision")));
    const reasons = h("textarea", { name: "reasons", rows: 4, required: true, maxlength: 5000 });
    parts.push(section("Decide the appeal", form({
      label: "Decide the appeal",
      submit: "Decide appeal",
      children: [outcome, field("Reasons for the appellant", reasons, "The appellant receives these words.")],
      action: (data) => {
        if (!data.get("outcome")) throw new Error("Choose whether to uphold or reverse the decision.");
        return api(`/v1/appeals/${enc(id)}/decide`, { method: "POST", json: { outcome: data.get("outcome"), reasons: data.get("reasons") } });
      },
      done: async (decided) => {
        toast(`Appeal ${decided.outcome || "decided"}.`);
        await untilRecorded(body, "Recording the decision…", `/v1/appeals/${enc(id)}`, (x) => x.status === "decided");
        reload();
      },
    })));
  } else if (a.status === "decided") {
    parts.push(section("Outcome", h("p", {}, `${humanize(a.outcome || "")} on ${when(a.decided_at)}: ${a.reasons || ""}`)));
  } else {
    parts.push(section("Decide the appeal", h("p", {}, a.reviewer_id ? `Assigned to ${a.reviewer_id}.` : "Not assigned yet: an administrator assigns it.")));
  }
  mount(body, parts);
}

// ---- blocked outputs ----

async function blockedPage(body) {
  const list = h("div");
  mount(body, h("h1", {}, "Blocked outputs"), h("p", { class: "hint" }, "Outputs the automated checks blocked whose requester asked a person to look. Frames are shown blurred."), list);
  await load(list, "Loading blocked outputs…", async () => {
    const { blocks } = await api("/v1/output-blocks/queue");
    return table({
      columns: [
        { label: "Blocked", cell: (b) => timeTag(b.blocked_at) },
        { label: "Categories", cell: (b) => b.blocked_categories.map(humanize).join(", ") },
        { label: "Frames that caused it", cell: (b) => h("div", { class: "frames" }, b.causing_frames.slice(0, 3).map((f) =>
          frameImage(`/v1/generations/${enc(b.generation_id)}/frames?at=${f.time_s || 0}&width=160`, `Blurred frame at ${(f.time_s || 0).toFixed(1)} s: ${Object.entries(f.scores || {}).map(([k, v]) => `${humanize(k)} ${scoreRows(v)}`).join("; ")}`))) },
        { label: "Appeal", cell: (b) => h("a", { href: `#/appeal/${enc(b.appeal.appeal_id)}`, "aria-label": `Open the appeal of the block of ${b.generation_id}` }, b.appeal.status) },
      ],
      rows: blocks,
      empty: emptyState("No blocked output is waiting for a person.", "When a requester asks for a human review of a block, it appears here."),
    });
  });
}

start({
  title: "Review",
  tabs: [["#/", "Queue"], ["#/appeals", "Appeals"], ["#/blocked", "Blocked outputs"]],
  routes: [
    ["", queuePage],
    ["case/:id", casePage],
    ["appeals", appealsPage],
    ["appeal/:id", appealPage],
    ["blocked", blockedPage],
  ],
});
