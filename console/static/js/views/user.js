// A person's own pages: their videos (and why one was refused, and what they can do about it),
// their cameos (who may use their face, where it appeared), their inbox, their reports, the
// decisions taken about them and their appeals.

import { api, readBack, session, upload } from "../api.js";
import { go, start } from "../app.js";
import {
  badge,
  emptyState,
  errorBox,
  field,
  form,
  h,
  load,
  mount,
  section,
  status,
  table,
  timeTag,
  toast,
  words,
} from "../ui.js";

const enc = encodeURIComponent;
const humanise = (s) => String(s || "").replace(/[_-]+/g, " ");


// ---- words ----

const GENERATION_STATUS = {
  requested: ["Waiting for the checks", ""],
  approved: ["Approved, waiting to render", ""],
  rendering: ["Rendering", ""],
  completed: ["Made, being checked", ""],
  signed: ["Made, being published", ""],
  published: ["Made", "ok"],
  refused: ["Refused", "bad"],
  blocked: ["Blocked after it was made", "bad"],
  failed: ["Failed", "warn"],
  removed: ["Removed", "warn"],
};

function generationBadge(status) {
  const [text, kind] = GENERATION_STATUS[status] || [humanise(status), ""];
  return badge(text, kind);
}

const AUDIENCE = {
  only_me: "Only me",
  approved_people: "People I approve",
  mutual_follows: "People I follow who follow me back",
  everyone: "Everyone",
};

const APPEAL_STATUS = {
  filed: "Received, waiting for a reviewer to be assigned",
  assigned: "With a reviewer",
  decided: "Decided",
};

const OUTCOME = {
  upheld: "Not reversed: the decision stands",
  reversed: "Reversed: the decision was undone",
};

function appealStatusWords(a) {
  const words = APPEAL_STATUS[a.status] || humanise(a.status);
  if (a.status !== "decided" && a.rights_holder_due_at && !a.rights_holder_responded) {
    return `${words}; the rights holder may answer until ${new Date(a.rights_holder_due_at).toLocaleDateString()}`;
  }
  return words;
}

function outcomeWords(a) {
  if (!a.outcome) return a.status === "decided" ? "Decided" : "Not decided yet";
  return OUTCOME[a.outcome] || humanise(a.outcome);
}

// ---- appeals: one form for a decision about you, or a blocked video ----

function appealForm(decisionId, onFiled) {
  const statement = h("textarea", { name: "statement", required: true, maxlength: 5000, rows: 4 });
  return form({
    label: "Appeal",
    submit: "Send appeal",
    children: [
      field(
        "Why should this decision be reversed?",
        statement,
        "A reviewer who was not involved in the decision reads this. Say what the decision got wrong.",
      ),
    ],
    action: (data) => {
      const text = String(data.get("statement") || "").trim();
      if (!text) throw new Error("Write why the decision should be reversed first.");
      return api("/v1/appeals", { method: "POST", json: { decision_id: decisionId, statement: text } });
    },
    done: (filed, node) => {
      mount(
        node,
        h(
          "p",
          { class: "notice", role: "status" },
          filed.assigned ? "Appeal sent: a reviewer has it. " : "Appeal sent: a reviewer will be assigned. ",
          h("a", { href: "#/appeals" }, "Follow it under Appeals"),
          ".",
        ),
      );
      toast("Appeal sent.");
      if (onFiled) onFiled(filed);
    },
  });
}

// A button that shows the appeal form beneath it (and hides it again).
function appealToggle(decisionId, label) {
  const slot = h("div", { class: "appeal-slot" });
  const button = h("button", { type: "button", class: "secondary", "aria-expanded": "false" }, label);
  let shown = null;
  button.addEventListener("click", () => {
    if (shown) {
      shown.remove();
      shown = null;
      button.setAttribute("aria-expanded", "false");
      return;
    }
    shown = appealForm(decisionId, () => button.remove());
    slot.append(shown);
    button.setAttribute("aria-expanded", "true");
    const area = shown.querySelector("textarea");
    if (area) area.focus();
  });
  return h("div", { class: "appeal" }, button, slot);
}

// ---- videos ----

async function download(generation, button) {
  button.disabled = true;
  const old = button.textContent;
  button.textContent = "Preparing download…";
  button.setAttribute("aria-busy", "true");
  try {
    const response = await api(`/v1/generations/${enc(generation.generation_id)}/download`);
    const url = URL.createObjectURL(await response.blob());
    const a = h("a", { href: url, download: `${generation.generation_id}.mp4`, class: "hidden-link" }, "download");
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    toast("Download started.");
  } catch (err) {
    toast(words(err));
    button.after(errorBox(err));
  } finally {
    button.textContent = old;
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

function recourse(g) {
  if (g.status === "refused") {
    return h(
      "div",
      { class: "recourse" },
      h("p", {}, `Refused before it was made: ${humanise(g.reason_category) || "it broke a rule"}.`),
      h(
        "p",
        { class: "hint" },
        "A refused prompt is not a decision about your account and cannot be appealed: reword it without the refused part and try again.",
      ),
    );
  }
  if (g.status === "blocked") {
    return h(
      "div",
      { class: "recourse" },
      h("p", {}, `Blocked when it was checked after rendering: ${humanise(g.reason_category) || "it broke a rule"}.`),
      g.review
        ? appealToggle(g.review.decision_id, "Ask for a human review")
        : h("p", { class: "hint" }, "A review of this block cannot be asked for here."),
    );
  }
  if (g.status === "failed") return h("p", { class: "hint" }, "Rendering failed; nothing was charged for it. Try again.");
  return null;
}

function videoRow(g) {
  const made = g.status === "published" && g.asset_id;
  const actions = [];
  if (made) {
    const button = h("button", { type: "button", "aria-label": `Download video ${g.generation_id}` }, "Download");
    button.addEventListener("click", () => download(g, button));
    actions.push(button);
  }
  return h(
    "li",
    { class: "card video" },
    h("div", { class: "row spread" }, h("p", { class: "prompt" }, g.prompt), generationBadge(g.status)),
    h(
      "p",
      { class: "hint" },
      `${g.duration_s} s · ${g.width}×${g.height} · ${humanise(g.tier)} tier · asked `,
      timeTag(g.requested_at),
      g.prompt_rewritten ? " · the prompt was rewritten to leave out a brand" : "",
    ),
    recourse(g),
    actions.length ? h("div", { class: "row" }, actions) : null,
  );
}

async function videosPage(body) {
  mount(body, h("h1", {}, "Your videos"));
  const box = h("div");
  const refresh = h("button", { type: "button", class: "secondary" }, "Refresh");
  refresh.addEventListener("click", () => go("#/videos"));
  body.append(h("div", { class: "row spread" }, h("p", { class: "hint" }, "The newest first. A video being made changes status on its own; refresh to see it."), refresh), box);
  await load(box, "Loading your videos…", async () => {
    const { items } = await api("/v1/generations?limit=50");
    if (!items.length) {
      return emptyState("You have not asked for a video yet.", "Videos you ask for through the app or the API appear here, with their status.");
    }
    return h("ul", { class: "videos" }, items.map(videoRow));
  });
}

// ---- cameos ----

function cameoState(c) {
  if (c.retired_at) return badge("Retired", "warn");
  if (c.liveness.result !== "passed") return badge(`Liveness ${c.liveness.result}`, "bad");
  if (!c.face_template) return badge("Not enrolled", "warn");
  return badge("Active", "ok");
}

function registerForm() {
  const bar = h("progress", { max: 1, value: 0, hidden: true, "aria-label": "Upload progress" });
  const frames = h("input", { type: "file", name: "frames", accept: "image/jpeg,image/png,image/webp", multiple: true });
  const video = h("input", { type: "file", name: "video", accept: "video/mp4,video/quicktime,video/webm" });
  const node = form({
    label: "Register a cameo",
    submit: "Register cameo",
    children: [
      field("Handle", h("input", { name: "handle", required: true, minlength: 3, maxlength: 30, autocomplete: "off", spellcheck: "false" }), "3 to 30 characters; how others name your cameo in a prompt."),
      field("Display name", h("input", { name: "display_name", required: true, maxlength: 80, autocomplete: "name" })),
      field("Who may use it", h("select", { name: "audience" }, Object.entries(AUDIENCE).map(([v, l]) => h("option", { value: v }, l)))),
      h(
        "fieldset",
        {},
        h("legend", {}, "Liveness capture"),
        h("p", { class: "hint" }, "Clearframe checks that the capture shows one live person, and that it is you. Send several photos, or one short video."),
        field("Photos of your face", frames, "Three or more photos from slightly different angles (JPEG, PNG or WebP)."),
        field("Or a selfie video", video, "A few seconds, turning your head slowly left and right (MP4, MOV or WebM)."),
      ),
      bar,
    ],
    action: async (data) => {
      const sent = new FormData();
      for (const key of ["handle", "display_name", "audience"]) sent.append(key, String(data.get(key) || "").trim());
      const photos = [...frames.files];
      if (video.files.length) sent.append("video", video.files[0]);
      else if (photos.length) for (const f of photos) sent.append("frames", f);
      else throw new Error("Add photos of your face or a selfie video: the cameo is made from them.");
      bar.hidden = false;
      bar.value = 0;
      try {
        const enrolled = await upload("/v1/cameos", sent, (p) => {
          bar.value = p;
        });
        await readBack(`/v1/cameos/${enc(enrolled.cameo_id)}`, () => true);
        return enrolled;
      } finally {
        bar.hidden = true;
      }
    },
    done: (enrolled) => {
      toast("Cameo registered.");
      go(`#/cameo/${enc(enrolled.cameo_id)}`);
    },
  });
  return node;
}

async function cameosPage(body) {
  mount(
    body,
    h("h1", {}, "Your cameos"),
    // a grant names an account by its id: this is where a person finds their own to share
    h("p", {}, "Your account id is ", h("code", { class: "account-id" }, session.principal),
      ". Give it to someone who wants to let you use their cameo."),
  );
  const box = h("div");
  body.append(box, section("Register a cameo", registerForm()));
  await load(box, "Loading your cameos…", async () => {
    const { cameos } = await api("/v1/cameos");
    return table({
      caption: "Cameos",
      columns: [
        { label: "Cameo", cell: (c) => h("a", { href: `#/cameo/${enc(c.cameo_id)}` }, `${c.display_name} (@${c.handle})`) },
        { label: "State", cell: cameoState },
        { label: "Who may use it", cell: (c) => AUDIENCE[c.audience] || humanise(c.audience) },
        { label: "Approved people", cell: (c) => String(c.approved_people.length) },
        { label: "Registered", cell: (c) => timeTag(c.registered_at) },
      ],
      rows: cameos,
      empty: emptyState("You have no cameo yet.", "Register one below with a liveness capture; then choose who may put you in their videos."),
    });
  });
}

function audienceForm(c, reload) {
  const select = h(
    "select",
    { name: "audience" },
    Object.entries(AUDIENCE).map(([v, l]) => h("option", { value: v, selected: v === c.audience }, l)),
  );
  return form({
    label: "Who may use this cameo",
    submit: "Change audience",
    children: [field("Who may use it", select, "People you approve below may use it whatever you choose here, until you revoke them.")],
    action: async (data) => {
      const audience = String(data.get("audience"));
      await api(`/v1/cameos/${enc(c.cameo_id)}/audience`, { method: "PUT", json: { audience } });
      await readBack(`/v1/cameos/${enc(c.cameo_id)}`, (now) => now.audience === audience);
    },
    done: () => {
      toast("Audience changed.");
      reload();
    },
  });
}

function grantsSection(c, reload) {
  const revoke = (grantee, button) => async () => {
    button.disabled = true;
    const where = button.closest("td");
    where.querySelectorAll(".error").forEach((e) => e.remove());
    try {
      await api(`/v1/cameos/${enc(c.cameo_id)}/grants/${enc(grantee)}`, { method: "DELETE" });
      await readBack(`/v1/cameos/${enc(c.cameo_id)}`, (now) => !now.approved_people.includes(grantee));
      toast(`Revoked: ${grantee} may no longer use this cameo.`);
      reload();
    } catch (err) {
      button.disabled = false;
      where.append(errorBox(err));
    }
  };
  const grantInput = h("input", { name: "grantee_id", required: true, maxlength: 128, autocomplete: "off", spellcheck: "false" });
  const grantForm = form({
    label: "Allow an account to use this cameo",
    submit: "Grant",
    children: [
      field("Account to allow", grantInput, "Their account id, as in p_1a2b…; ask them for it."),
      field("Until (optional)", h("input", { type: "datetime-local", name: "expires_at" }), "Leave empty for no end date; you can revoke at any time."),
    ],
    action: async (data) => {
      const grantee = String(data.get("grantee_id") || "").trim();
      if (!grantee) throw new Error("Enter the account id of the person to allow.");
      const until = String(data.get("expires_at") || "");
      const json = { grantee_id: grantee };
      if (until) json.expires_at = new Date(until).toISOString();
      await api(`/v1/cameos/${enc(c.cameo_id)}/grants`, { method: "POST", json });
      await readBack(`/v1/cameos/${enc(c.cameo_id)}`, (now) => now.approved_people.includes(grantee));
    },
    done: () => {
      toast("Granted.");
      reload();
    },
  });
  return section(
    "People you allow",
    table({
      caption: "Allowed accounts",
      columns: [
        { label: "Account", cell: (p) => h("code", {}, p) },
        {
          label: "Action",
          cell: (p) => {
            const button = h("button", { type: "button", class: "danger", "aria-label": `Revoke ${p}` }, "Revoke");
            button.addEventListener("click", revoke(p, button));
            return button;
          },
        },
      ],
      rows: c.approved_people,
      empty: emptyState("Nobody is allowed by name.", "Enter an account below and press Grant to let that person use this cameo."),
    }),
    c.revoked_people.length ? h("p", { class: "hint" }, `Revoked earlier: ${c.revoked_people.join(", ")}.`) : null,
    grantForm,
  );
}

function historyEntry(e) {
  const details = Object.entries(e.details || {})
    .filter(([, v]) => v !== null && v !== "")
    .map(([k, v]) => `${humanise(k)}: ${typeof v === "object" ? JSON.stringify(v) : v}`)
    .join("; ");
  return details;
}

function historySection(c) {
  const box = h("div");
  const node = section("History", box);
  load(box, "Loading the history…", async () => {
    const { history } = await api(`/v1/cameos/${enc(c.cameo_id)}/history`);
    return table({
      caption: "Everything that happened to this cameo",
      columns: [
        { label: "When", cell: (e) => timeTag(e.at) },
        { label: "What", cell: (e) => humanise(e.action) },
        { label: "Who", cell: (e) => e.actor_id },
        { label: "About", cell: (e) => e.subject_id || "—" },
        { label: "Details", cell: historyEntry },
      ],
      rows: [...history].reverse(),
      empty: emptyState("No history yet."),
    });
  });
  return node;
}

function actionButton(label, aria, run, kind = "secondary") {
  const button = h("button", { type: "button", class: kind, "aria-label": aria }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    const cell = button.closest("td") || button.parentElement;
    cell.querySelectorAll(".error").forEach((e) => e.remove());
    try {
      await run();
    } catch (err) {
      button.disabled = false;
      cell.append(errorBox(err));
    }
  });
  return button;
}

function appearancesSection(c, reload) {
  const box = h("div");
  load(box, "Loading where this cameo appears…", async () => {
    const { appearances } = await api(`/v1/cameos/${enc(c.cameo_id)}/appearances`);
    return table({
      caption: "Videos that use this cameo",
      columns: [
        { label: "Video", cell: (a) => h("code", {}, a.generation_id) },
        { label: "Made by", cell: (a) => a.creator_id },
        { label: "Status", cell: (a) => (a.removed_reason ? badge(`Removed: ${a.removed_reason}`, "warn") : humanise(a.status)) },
        {
          label: "Action",
          cell: (a) =>
            a.removed_reason || a.status === "removed"
              ? "—"
              : actionButton("Remove", `Remove video ${a.generation_id}`, async () => {
                  await api(`/v1/cameos/${enc(c.cameo_id)}/appearances/${enc(a.generation_id)}/remove`, {
                    method: "POST",
                    json: { reason: "removed by the cameo's owner" },
                  });
                  toast("The video was taken down.");
                  reload();
                }, "danger"),
        },
      ],
      rows: appearances,
      empty: emptyState("No video uses this cameo yet.", "When someone you allow puts you in a video, it is listed here and you can take it down."),
    });
  });
  return section("Where it appears", box);
}

function thumbnail(url, label) {
  const img = h("img", { alt: label, class: "thumb", width: 64, height: 64 });
  api(url)
    .then((t) => {
      img.src = t.data_url;
    })
    .catch(() => img.replaceWith(h("span", { class: "hint" }, "No picture")));
  return img;
}

function likenessSection(c, reload) {
  const box = h("div");
  const archived = h("input", { type: "checkbox", name: "include_archived" });
  const show = () =>
    load(box, "Looking for your face in videos…", async () => {
      const view = await api(`/v1/cameos/${enc(c.cameo_id)}/likeness${archived.checked ? "?include_archived=true" : ""}`);
      const base = `/v1/cameos/${enc(c.cameo_id)}/likeness`;
      return h(
        "div",
        {},
        table({
          caption: "Videos your face was found in",
          columns: [
            { label: "Face", cell: (v) => (v.thumbnail_url ? thumbnail(v.thumbnail_url, `Face found in ${v.generation_id}`) : "—") },
            { label: "Video", cell: (v) => h("code", {}, v.generation_id) },
            { label: "Status", cell: (v) => [humanise(v.status), v.archived ? " (archived)" : ""] },
            { label: "With consent", cell: (v) => (v.consented ? badge(`Yes: ${humanise(v.consent_reason)}`, "ok") : badge(`No: ${humanise(v.consent_reason)}`, "bad")) },
            { label: "Where", cell: (v) => v.time_ranges.map((r) => `${r.start_s.toFixed(1)}–${r.end_s.toFixed(1)} s`).join(", ") || "—" },
            {
              label: "Actions",
              cell: (v) =>
                h(
                  "div",
                  { class: "row" },
                  v.archived
                    ? null
                    : actionButton("Archive", `Archive match ${v.generation_id}`, async () => {
                        await api(`${base}/${enc(v.generation_id)}/archive`, { method: "POST" });
                        toast("Archived.");
                        show();
                      }),
                  v.status === "removed" || v.removed_by_you
                    ? null
                    : actionButton("Remove", `Remove video ${v.generation_id}`, async () => {
                        await api(`${base}/${enc(v.generation_id)}/remove`, { method: "POST", json: { reason: "my likeness, without my consent" } });
                        toast("The video was taken down.");
                        reload();
                      }, "danger"),
                ),
            },
          ],
          rows: view.videos,
          empty: emptyState("Your face was not found in any video.", "Clearframe checks new videos for your face; matches appear here."),
        }),
        view.refused_attempts.length
          ? table({
              caption: "Attempts refused because they used your cameo without consent",
              columns: [
                { label: "When", cell: (r) => timeTag(r.at) },
                { label: "By", cell: (r) => r.requester_id || "—" },
                { label: "Stage", cell: (r) => humanise(r.stage) },
                { label: "Why", cell: (r) => humanise(r.reason) },
              ],
              rows: view.refused_attempts,
            })
          : null,
      );
    });
  archived.addEventListener("change", show);
  show();
  return section("Likeness matches", h("label", { class: "check" }, archived, "Show archived matches too"), box);
}

async function cameoPage(body, { id }) {
  const back = () => h("p", {}, h("a", { href: "#/cameos" }, "← All cameos"));
  const reload = () => go(`#/cameo/${enc(id)}`);
  mount(body, back(), status("Loading the cameo…"));
  let c;
  try {
    c = await api(`/v1/cameos/${enc(id)}`);
  } catch (err) {
    mount(body, back(), h("h1", {}, "Cameo"), errorBox(err));
    return;
  }
  mount(
    body,
    back(),
    h("h1", {}, `Cameo: ${c.display_name} (@${c.handle})`),
    h(
      "div",
      { class: "grid" },
      section(
        "This cameo",
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, "State"),
          h("dd", {}, cameoState(c)),
          h("dt", {}, "Who may use it"),
          h("dd", {}, AUDIENCE[c.audience] || humanise(c.audience)),
          h("dt", {}, "Liveness"),
          h("dd", {}, `${humanise(c.liveness.result)} `, timeTag(c.liveness.checked_at)),
          h("dt", {}, "Registered"),
          h("dd", {}, timeTag(c.registered_at)),
          h("dt", {}, "Cameo id"),
          h("dd", {}, h("code", {}, c.cameo_id)),
        ),
      ),
      section("Audience", audienceForm(c, reload)),
    ),
    grantsSection(c, reload),
    appearancesSection(c, reload),
    likenessSection(c, reload),
    historySection(c),
  );
}

// ---- inbox ----

async function inboxPage(body) {
  mount(body, h("h1", {}, "Inbox"));
  const box = h("div");
  body.append(box);
  const show = () =>
    load(box, "Loading your messages…", async () => {
      const { notifications } = await api("/v1/inbox?limit=100");
      if (!notifications.length) {
        return emptyState("No messages.", "Decisions about your videos, reports and appeals arrive here.");
      }
      return h(
        "ul",
        { class: "inbox" },
        notifications.map((n) =>
          h(
            "li",
            { class: `card message${n.read_at ? " read" : ""}` },
            h("div", { class: "row spread" }, h("h2", {}, n.subject), n.read_at ? badge("Read") : badge("New", "warn")),
            h("p", { class: "body" }, n.body),
            h(
              "div",
              { class: "row spread" },
              h("p", { class: "hint" }, timeTag(n.created_at)),
              n.read_at
                ? null
                : actionButton("Mark as read", `Mark “${n.subject}” as read`, async () => {
                    await api(`/v1/inbox/${enc(n.notification_id)}/read`, { method: "POST" });
                    show();
                  }),
            ),
          ),
        ),
      );
    });
  await show();
}

// ---- reports ----

async function reportsPage(body) {
  mount(body, h("h1", {}, "Your reports"));
  const box = h("div");
  body.append(box);
  await load(box, "Loading your reports…", async () => {
    const { reports } = await api("/v1/reports/mine?limit=100");
    return table({
      caption: "Reports you filed",
      columns: [
        { label: "Filed", cell: (r) => timeTag(r.filed_at) },
        { label: "About", cell: (r) => `${humanise(r.target.kind)} ${r.target.id}` },
        { label: "Why", cell: (r) => humanise(r.category) },
        { label: "What you said", cell: (r) => r.explanation },
        { label: "Outcome", cell: (r) => (r.outcome ? [humanise(r.outcome), " ", timeTag(r.decided_at)] : "Not decided yet") },
      ],
      rows: reports,
      empty: emptyState("You have not reported anything.", "Report a video from the app when it breaks the rules; what happens to your report shows here."),
    });
  });
}

// ---- decisions and appeals ----

function reasonsOf(statement) {
  if (!statement || typeof statement !== "object") return "";
  const pick = statement.decision_facts || statement.illegal_content_explanation || statement.incompatible_content_explanation || "";
  return typeof pick === "string" ? pick : "";
}

function decisionCard(a) {
  const ends = a.ends_at ? ["Until ", timeTag(a.ends_at)] : null;
  return h(
    "li",
    { class: "card decision" },
    h("div", { class: "row spread" }, h("h2", {}, `${humanise(a.kind)}: ${humanise(a.category)}`), a.reversed_at ? badge("Reversed", "ok") : a.strike ? badge("Strike", "bad") : null),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "About"),
      h("dd", {}, `${humanise(a.target.kind)} ${a.target.id}`),
      h("dt", {}, "Taken"),
      h("dd", {}, timeTag(a.taken_at)),
      ends ? [h("dt", {}, "Lasts"), h("dd", {}, ends)] : null,
      reasonsOf(a.statement_of_reasons) ? [h("dt", {}, "Why"), h("dd", {}, reasonsOf(a.statement_of_reasons))] : null,
      a.reversed_at ? [h("dt", {}, "Reversed"), h("dd", {}, timeTag(a.reversed_at), a.reversal_reason ? `: ${a.reversal_reason}` : "")] : null,
      h("dt", {}, "Reference"),
      h("dd", {}, h("code", {}, a.puid || a.action_id)),
    ),
    a.reversed_at ? null : appealToggle(a.action_id, "Appeal this decision"),
  );
}

async function decisionsPage(body) {
  mount(body, h("h1", {}, "Decisions about you"));
  const box = h("div");
  body.append(h("p", { class: "hint" }, "What the reviewers decided about your account and your videos. You may appeal each one."), box);
  await load(box, "Loading the decisions…", async () => {
    const { actions } = await api("/v1/enforcement/mine");
    if (!actions.length) return emptyState("No decision has been taken about you.", "If a reviewer acts on your account or a video of yours, it appears here and you can appeal it.");
    return h("ul", { class: "decisions" }, actions.map(decisionCard));
  });
}

async function appealsPage(body) {
  mount(body, h("h1", {}, "Your appeals"));
  const box = h("div");
  body.append(box);
  await load(box, "Loading your appeals…", async () => {
    const { appeals } = await api("/v1/appeals/mine");
    return table({
      caption: "Appeals you sent",
      columns: [
        { label: "Sent", cell: (a) => timeTag(a.filed_at) },
        { label: "Decision", cell: (a) => [humanise(a.decision_kind), " ", h("code", {}, a.decision_id)] },
        { label: "Status", cell: (a) => appealStatusWords(a) },
        { label: "Outcome", cell: (a) => [outcomeWords(a), a.decided_at ? [" ", timeTag(a.decided_at)] : null] },
        { label: "Reasons given", cell: (a) => a.reasons || "—" },
        { label: "What you said", cell: (a) => a.statement },
      ],
      rows: appeals,
      empty: emptyState("You have not appealed anything.", h("span", {}, "Appeal a decision under ", h("a", { href: "#/decisions" }, "Decisions"), ", or ask for a review of a blocked video under ", h("a", { href: "#/videos" }, "Videos"), ".")),
    });
  });
}

start({
  title: "My videos",
  tabs: [
    ["#/videos", "Videos"],
    ["#/cameos", "Cameos"],
    ["#/inbox", "Inbox"],
    ["#/reports", "Reports"],
    ["#/decisions", "Decisions"],
    ["#/appeals", "Appeals"],
  ],
  routes: [
    // the first page is the videos tab, under its own address so that the tab shows as current
    ["", () => window.location.replace("#/videos")],
    ["videos", videosPage],
    ["cameos", cameosPage],
    ["cameo/:id", cameoPage],
    ["inbox", inboxPage],
    ["reports", reportsPage],
    ["decisions", decisionsPage],
    ["appeals", appealsPage],
  ],
});
