// The admin's page: the moderation lists, the featured feed, the transparency figures (and the
// Transparency Database export), and the people who may use Clearframe with their API tokens.
// Every change is one API call that records one event; the page then shows what is now true.

import { api } from "../api.js";
import { start } from "../app.js";
import { badge, emptyState, errorBox, field, form, h, lines, load, mount, nextId, section, status, table, timeTag, toast } from "../ui.js";

const SVG = "http://www.w3.org/2000/svg";
const CATEGORIES = ["sexual", "minors", "violence_gore", "self_harm", "hate_symbols", "illegal_activity", "election_deception", "public_figures", "ip"];
const ROLES = ["user", "rights_holder", "trusted_flagger", "investigator", "reviewer", "admin", "liveness_provider", "age_assurance_provider"];
const human = (s) => String(s).replace(/_/g, " ");
const enc = encodeURIComponent;

// A button that asks once more before it acts, in the page (no window.confirm dialog).
function confirmButton(label, question, accessibleName, action) {
  const holder = h("span", { class: "confirm" });
  const first = h("button", { type: "button", class: "secondary", "aria-label": accessibleName }, label);
  const ask = () => {
    const yes = h("button", { type: "button", class: "danger" }, `Yes, ${label.toLowerCase()}`);
    const no = h("button", { type: "button", class: "secondary" }, "Keep");
    no.addEventListener("click", () => mount(holder, first));
    yes.addEventListener("click", async () => {
      yes.disabled = no.disabled = true;
      mount(holder, status("Working…"));
      try {
        await action();
      } catch (err) {
        mount(holder, errorBox(err), first);
      }
    });
    mount(holder, h("span", { class: "question" }, question), " ", yes, " ", no);
    yes.focus();
  };
  first.addEventListener("click", ask);
  return mount(holder, first);
}

function versionLine(label, version, change) {
  return h("p", { class: "version", role: "status" }, `${label} version ${version}`, change ? ` · ${change}` : "");
}

// ---- Lists ----

async function listsView(body) {
  const area = h("div");
  mount(body, h("h1", {}, "Moderation lists"), h("p", { class: "hint" }, "Terms and public figures the generation gate refuses. Each edit is recorded as an event and gives the list a new version."), area);
  let changed = { blocklist: "", figures: "", open: null };

  const render = async () => {
    await load(area, "Loading the moderation lists…", async () => {
      const data = await api("/v1/moderation/lists");
      return [blocklistSection(data.blocklist), figuresSection(data.public_figures)];
    });
  };

  function blocklistSection(blocklist) {
    const lists = blocklist.lists || {};
    const categories = [...new Set([...CATEGORIES, ...Object.keys(lists)])];
    const select = h("select", { name: "category", required: true }, categories.map((c) => h("option", { value: c, selected: c === changed.open }, human(c))));
    const term = h("input", { name: "term", maxlength: "80", required: true, autocomplete: "off" });
    const add = form({
      label: "Add a blocklist term",
      submit: "Add term",
      children: [h("div", { class: "row inline-fields" }, field("Harm category", select), field("Term", term, "A word or phrase, at most 80 characters."))],
      action: async (data) => {
        const text = String(data.get("term") || "").trim();
        if (!text) throw new Error("Enter the term to add.");
        const category = String(data.get("category"));
        const result = await api(`/v1/moderation/blocklist/${enc(category)}/terms`, { method: "POST", json: { term: text, expected_version: blocklist.version } });
        changed = { ...changed, blocklist: `added “${text}” to ${human(category)}`, open: category };
        return result;
      },
      done: (result) => {
        toast(`Term added. The blocklist is now version ${result.version}.`);
        render();
      },
    });
    const groups = categories.map((category) => {
      const terms = [...(lists[category] || [])].sort();
      const items = terms.map((t) =>
        h("li", {}, h("span", { class: "term" }, t), " ",
          confirmButton("Remove", `Remove “${t}”?`, `Remove “${t}” from ${human(category)}`, async () => {
            const result = await api(`/v1/moderation/blocklist/${enc(category)}/terms/${enc(t)}?expected_version=${blocklist.version}`, { method: "DELETE" });
            changed = { ...changed, blocklist: `removed “${t}” from ${human(category)}`, open: category };
            toast(`Term removed. The blocklist is now version ${result.version}.`);
            render();
          })),
      );
      return h(
        "details",
        { class: "category", open: category === changed.open, dataset: { category } },
        h("summary", {}, `${human(category)} `, badge(`${terms.length} term${terms.length === 1 ? "" : "s"}`)),
        items.length ? h("ul", { class: "terms" }, items) : emptyState("No terms in this category.", "Add one with the form above."),
      );
    });
    const allow = blocklist.allow || [];
    return section(
      "Blocklist",
      versionLine("Blocklist", blocklist.version, changed.blocklist),
      add,
      h("h3", {}, "Terms by harm category"),
      groups,
      allow.length ? h("p", { class: "hint" }, `Always allowed (never blocked): ${allow.join(", ")}`) : null,
    );
  }

  function figuresSection(figures) {
    const id = h("input", { name: "figure_id", required: true, maxlength: "200", autocomplete: "off", pattern: "[A-Za-z0-9_.:@-]+" });
    const name = h("input", { name: "name", required: true, maxlength: "120", autocomplete: "off" });
    const aliases = h("textarea", { name: "aliases", rows: "2" });
    const exclusions = h("textarea", { name: "exclusions", rows: "2" });
    const put = form({
      label: "Add or change a public figure",
      submit: "Save public figure",
      children: [
        field("Figure id", id, "For example pf-jane-doe. Saving an existing id replaces that figure."),
        field("Name", name),
        field("Aliases", aliases, "Other names, one per line or separated by commas."),
        field("Exclusions", exclusions, "Phrases that mention the name but not the person (one per line or comma-separated)."),
      ],
      action: async (data) => {
        const figureId = String(data.get("figure_id") || "").trim();
        if (!figureId) throw new Error("Enter the figure's id.");
        const json = { name: String(data.get("name") || "").trim(), aliases: lines(data.get("aliases")), exclusions: lines(data.get("exclusions")), expected_version: figures.version };
        const result = await api(`/v1/moderation/public-figures/${enc(figureId)}`, { method: "PUT", json });
        changed = { ...changed, figures: `saved ${json.name || figureId}` };
        return result;
      },
      done: (result) => {
        toast(`Public figure saved. The list is now version ${result.version}.`);
        render();
      },
    });
    const edit = (f) => {
      id.value = f.id;
      name.value = f.name;
      aliases.value = (f.aliases || []).join("\n");
      exclusions.value = (f.exclusions || []).join("\n");
      name.focus();
    };
    const rows = figures.figures || [];
    const filter = h("input", { type: "search", autocomplete: "off" });
    const listing = table({
        caption: `${rows.length} public figure${rows.length === 1 ? "" : "s"}`,
        columns: [
          { label: "Id", cell: (f) => h("code", {}, f.id) },
          { label: "Name", cell: (f) => f.name },
          { label: "Aliases", cell: (f) => (f.aliases || []).join(", ") || "—" },
          { label: "Exclusions", cell: (f) => (f.exclusions || []).join(", ") || "—" },
          {
            label: "Actions",
            cell: (f) =>
              h("div", { class: "row" },
                h("button", { type: "button", class: "secondary", "aria-label": `Edit ${f.name}`, on: { click: () => edit(f) } }, "Edit"),
                confirmButton("Remove", `Remove ${f.name}?`, `Remove ${f.name}`, async () => {
                  const result = await api(`/v1/moderation/public-figures/${enc(f.id)}?expected_version=${figures.version}`, { method: "DELETE" });
                  changed = { ...changed, figures: `removed ${f.name}` };
                  toast(`Public figure removed. The list is now version ${result.version}.`);
                  render();
                })),
          },
        ],
        rows,
        empty: emptyState("No public figures are listed.", "Add one with the form above: prompts naming them are then refused."),
      });
    const shown = h("p", { class: "hint", "aria-live": "polite" });
    filter.addEventListener("input", () => {
      const want = filter.value.trim().toLowerCase();
      let count = 0;
      for (const tr of listing.querySelectorAll("tbody tr")) {
        tr.hidden = Boolean(want) && !tr.textContent.toLowerCase().includes(want);
        if (!tr.hidden) count++;
      }
      shown.textContent = want ? `${count} of ${rows.length} shown` : "";
    });
    return section(
      "Public figures",
      versionLine("Public figures list", figures.version, changed.figures),
      h("h3", {}, "Add or change a public figure"),
      put,
      h("h3", {}, "Listed figures"),
      rows.length ? field("Find a figure", filter, "Filters the table by id, name, alias or exclusion.") : null,
      shown,
      h("div", { class: "figures-scroll" }, listing),
    );
  }

  await render();
}

// ---- Featured ----

async function featuredView(body) {
  const area = h("div");
  const asset = h("input", { name: "asset_id", required: true, maxlength: "200", autocomplete: "off" });
  const note = h("input", { name: "note", maxlength: "500", autocomplete: "off" });
  const render = () =>
    load(area, "Loading the featured feed…", async () => {
      const page = await api("/v1/feed/featured?limit=100");
      return table({
        caption: `${page.items.length} featured video${page.items.length === 1 ? "" : "s"}`,
        columns: [
          { label: "Asset", cell: (e) => h("code", {}, e.asset_id) },
          { label: "Title", cell: (e) => e.title || "Untitled" },
          { label: "Owner", cell: (e) => e.owner_id || "—" },
          { label: "Featured", cell: (e) => timeTag(e.featured_at) },
          { label: "Labels", cell: (e) => [...(e.labels || []).map((l) => badge(l)), e.age_restricted ? badge("18+", "warn") : null] },
          {
            label: "Actions",
            cell: (e) =>
              confirmButton("Unfeature", "Take it off the featured feed?", `Unfeature ${e.title || e.asset_id}`, async () => {
                await api(`/v1/feed/featured/${enc(e.asset_id)}`, { method: "DELETE" });
                toast("Taken off the featured feed.");
                render();
              }),
          },
        ],
        rows: page.items,
        empty: emptyState("Nothing is featured.", "Add a published video by its asset id with the form above."),
      });
    });
  mount(
    body,
    h("h1", {}, "Featured videos"),
    section(
      "Feature a video",
      form({
        label: "Feature a video",
        submit: "Feature",
        children: [field("Asset id", asset, "The published video's asset id (from the feed or a case)."), field("Note (optional)", note, "Why it is featured; kept with the event.")],
        action: async (data) => {
          const id = String(data.get("asset_id") || "").trim();
          if (!id) throw new Error("Enter the asset id of the video to feature.");
          const text = String(data.get("note") || "").trim();
          await api("/v1/feed/featured", { method: "POST", json: text ? { asset_id: id, note: text } : { asset_id: id } });
        },
        done: (_, node) => {
          node.reset();
          toast("Featured.");
          render();
        },
      }),
    ),
    section("On the featured feed", area),
  );
  await render();
}

// ---- Transparency ----

const FIGURES = [
  ["reports_received", "Reports received"],
  ["reports_from_trusted_flaggers", "From trusted flaggers"],
  ["reports_dismissed", "Reports dismissed"],
  ["actions_taken", "Actions taken"],
  ["own_initiative_actions", "Own-initiative actions"],
  ["actions_automated_detection", "Automated detection"],
  ["appeals_filed", "Appeals filed"],
  ["appeals_decided", "Appeals decided"],
  ["appeals_upheld", "Appeals upheld"],
  ["appeals_reversed", "Appeals reversed"],
  ["reversals", "Reversals"],
];

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

// Horizontal bars (labels stay readable at a phone's width); the table below says the same.
function barChart(title, pairs, describedBy) {
  const rowH = 26, labelW = 170, barW = 300, width = labelW + barW + 50;
  const height = pairs.length * rowH + 10;
  const max = Math.max(1, ...pairs.map(([, v]) => v));
  const titleId = nextId("chart-title");
  const root = svg("svg", { class: "chart admin-chart", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": titleId, "aria-describedby": describedBy });
  root.append(svg("title", { id: titleId }, title));
  pairs.forEach(([label, value], i) => {
    const y = 5 + i * rowH;
    const w = Math.round((value / max) * barW);
    root.append(
      svg("text", { x: labelW - 8, y: y + 16, "text-anchor": "end" }, label),
      svg("rect", { class: "bar", x: labelW, y: y + 3, width: Math.max(w, value ? 2 : 0), height: rowH - 8, rx: 2 }),
      svg("text", { x: labelW + w + 6, y: y + 16, class: "value" }, String(value)),
    );
  });
  root.append(svg("line", { class: "axis", x1: labelW, y1: 2, x2: labelW, y2: height - 2 }));
  return root;
}

const isoDay = (d) => d.toISOString().slice(0, 10);
const seconds = (s) => (s === null || s === undefined ? "—" : s < 3600 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);

function reportContent(report) {
  const pairs = FIGURES.map(([key, label]) => [label, Number(report[key] || 0)]);
  const tableId = nextId("figures");
  const byCategory = Object.entries(report.reports_by_category || {}).sort((a, b) => b[1] - a[1]);
  const byKind = Object.entries(report.actions_by_kind || {}).sort((a, b) => b[1] - a[1]);
  return [
    h("p", {}, "Period ", timeTag(report.period_start), " to ", timeTag(report.period_end), " (end excluded), as known at ", timeTag(report.as_of), "."),
    h("figure", { class: "chart-figure" }, barChart("Transparency figures for the period", pairs, tableId), h("figcaption", { class: "hint" }, "The same figures are in the table below.")),
    h("div", { id: tableId }, table({ caption: "Figures", columns: [{ label: "Figure", cell: (p) => p[0] }, { label: "Count", cell: (p) => String(p[1]) }], rows: pairs })),
    h("dl", { class: "facts" },
      h("dt", {}, "Median time to a decision"), h("dd", {}, seconds(report.median_time_to_decision_s)),
      h("dt", {}, "Median time to an appeal decision"), h("dd", {}, seconds(report.median_appeal_time_to_decision_s))),
    h("h3", {}, "Reports by category"),
    table({ caption: "Reports by category", columns: [{ label: "Category", cell: (p) => human(p[0]) }, { label: "Reports", cell: (p) => String(p[1]) }], rows: byCategory, empty: emptyState("No reports in this period.") }),
    h("h3", {}, "Actions by kind"),
    table({ caption: "Actions by kind", columns: [{ label: "Kind", cell: (p) => human(p[0]) }, { label: "Actions", cell: (p) => String(p[1]) }], rows: byKind, empty: emptyState("No actions in this period.") }),
    (report.notes || []).length ? h("ul", { class: "hint" }, report.notes.map((n) => h("li", {}, n))) : null,
  ];
}

async function downloadStatements(progress) {
  const all = [];
  let after = 0;
  for (;;) {
    mount(progress, status(`Fetched ${all.length} statement${all.length === 1 ? "" : "s"}…`));
    const page = await api(`/v1/transparency/statements?after_position=${after}&limit=100`);
    all.push(...page.statements);
    if (!page.statements.length || page.next_after_position === after) break;
    after = page.next_after_position;
  }
  const blob = new Blob([JSON.stringify({ statements: all }, null, 2)], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const name = `clearframe-statements-${isoDay(new Date())}.json`;
  const a = h("a", { href: url, download: name, class: "visually-hidden" }, "download");
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  mount(progress, h("p", { role: "status" }, `Saved ${all.length} statement${all.length === 1 ? "" : "s"} as ${name}.`));
}

async function transparencyView(body) {
  const today = new Date();
  const monthAgo = new Date(today.getTime() - 30 * 86400_000);
  const tomorrow = new Date(today.getTime() + 86400_000);
  const startIn = h("input", { type: "date", name: "start", value: isoDay(monthAgo), required: true });
  const endIn = h("input", { type: "date", name: "end", value: isoDay(tomorrow), required: true });
  const asOfIn = h("input", { type: "date", name: "as_of" });
  const result = h("div");
  const progress = h("div", { "aria-live": "polite" });
  const exportButton = h("button", { type: "button" }, "Download statements (JSON)");
  exportButton.addEventListener("click", async () => {
    exportButton.disabled = true;
    try {
      await downloadStatements(progress);
    } catch (err) {
      mount(progress, errorBox(err));
    } finally {
      exportButton.disabled = false;
    }
  });

  const show = () => {
    const start = startIn.value, end = endIn.value, asOf = asOfIn.value;
    if (!start || !end) return mount(result, errorBox(new Error("Choose the first and the last day of the period.")));
    if (end <= start) return mount(result, errorBox(new Error("The period's end must come after its start.")));
    const q = new URLSearchParams({ start: `${start}T00:00:00Z`, end: `${end}T00:00:00Z` });
    if (asOf) q.set("as_of", `${asOf}T23:59:59Z`);
    return load(result, "Recomputing the figures from the event log…", async () => reportContent(await api(`/v1/transparency/report?${q}`)));
  };

  mount(
    body,
    h("h1", {}, "Transparency"),
    section(
      "Report",
      form({
        label: "Choose the report's period",
        submit: "Show figures",
        children: [
          h("div", { class: "row inline-fields" },
            field("From (UTC)", startIn),
            field("Until, excluded (UTC)", endIn),
            field("As known at (optional)", asOfIn, "The end of this day (UTC): later decisions are left out. Empty: as known now.")),
        ],
        action: async () => show(),
      }),
      result,
    ),
    section(
      "Transparency Database export",
      h("p", {}, "Every statement of reasons, in the body shape of the EU Transparency Database's statements API, saved as one JSON file."),
      exportButton,
      progress,
    ),
  );
  await show();
}

// ---- People ----

function rolesFieldset(legend, name, checked = []) {
  return h("fieldset", { class: "roles" }, h("legend", {}, legend),
    ROLES.map((r) => {
      const id = nextId(name);
      return h("label", { class: "check", for: id }, h("input", { type: "checkbox", id, name, value: r, checked: checked.includes(r) }), human(r));
    }));
}

async function peopleView(body) {
  const secretArea = h("div", { "aria-live": "polite" });
  const area = h("div");
  let people = [];
  let chosen = "";
  let shownToken = "";

  const showSecret = (person, issued) => {
    shownToken = issued.token_id;
    const input = h("input", { type: "text", readonly: true, value: issued.token, class: "secret", spellcheck: "false" });
    const copy = h("button", { type: "button", class: "secondary" }, "Copy");
    copy.addEventListener("click", async () => {
      input.select();
      try {
        await navigator.clipboard.writeText(issued.token);
        toast("Token copied.");
      } catch {
        toast("Press Ctrl+C (⌘C on a Mac) to copy the selected token.");
      }
    });
    const close = h("button", { type: "button", class: "secondary" }, "I have stored it");
    close.addEventListener("click", () => {
      shownToken = "";
      mount(secretArea);
    });
    mount(secretArea, h("section", { class: "card secret-card", "aria-label": "New API token" },
      h("h2", {}, `New token for ${person}`),
      h("p", { class: "notice" }, "This is the only time the token is shown: Clearframe keeps only a keyed hash of it. Copy it now and hand it over safely."),
      h("div", { class: "row" }, field("API token", input, "Select it and copy it, or press Copy."), copy),
      close));
    input.focus();
    input.select();
  };

  const render = () =>
    load(area, "Loading people and tokens…", async () => {
      people = (await api("/v1/admin/principals")).principals;
      const byId = Object.fromEntries(people.map((p) => [p.principal_id, p]));
      const tokens = people.flatMap((p) => p.tokens.map((t) => ({ ...t, person: p })));
      tokens.sort((a, b) => Number(a.revoked) - Number(b.revoked) || String(b.created_at).localeCompare(String(a.created_at)));
      const options = () => people.map((p) => h("option", { value: p.principal_id, selected: p.principal_id === chosen }, `${p.name} (${p.principal_id})`));

      const issue = form({
        label: "Issue an API token",
        submit: "Issue token",
        children: [
          field("Person", h("select", { name: "principal_id", required: true }, options())),
          field("Label", h("input", { name: "label", maxlength: "200", autocomplete: "off" }), "What the token is for, e.g. “laptop” or “ingest job”."),
        ],
        action: async (data) => {
          const pid = String(data.get("principal_id") || "");
          if (!pid) throw new Error("Choose whom the token is for.");
          chosen = pid;
          return api(`/v1/admin/principals/${enc(pid)}/tokens`, { method: "POST", json: { label: String(data.get("label") || "").trim() } });
        },
        done: (issued) => {
          showSecret(byId[issued.principal_id]?.name || issued.principal_id, issued);
          render();
        },
      });

      const rolesForm = form({
        label: "Change a person's roles",
        submit: "Save roles",
        children: [
          field("Person", h("select", { name: "principal_id", required: true, on: { change: (e) => { chosen = e.target.value; render(); } } }, options())),
          rolesFieldset("Roles (exactly these)", "roles", (byId[chosen] || people[0] || { roles: [] }).roles),
        ],
        action: async (data) => {
          const pid = String(data.get("principal_id") || "");
          const roles = data.getAll("roles").map(String);
          if (!roles.length) throw new Error("Choose at least one role.");
          chosen = pid;
          return api(`/v1/admin/principals/${enc(pid)}/roles`, { method: "PUT", json: { roles } });
        },
        done: (r) => {
          toast(r.changed ? `Roles saved: ${r.roles.map(human).join(", ")}.` : "Those were the roles already; nothing changed.");
          render();
        },
      });

      return [
        section(
          "People",
          table({
            caption: `${people.length} principal${people.length === 1 ? "" : "s"}`,
            columns: [
              { label: "Name", cell: (p) => p.name },
              { label: "Id", cell: (p) => h("code", {}, p.principal_id) },
              { label: "Roles", cell: (p) => h("span", { class: "badges" }, p.roles.map((r) => badge(human(r), r === "admin" ? "warn" : ""))) },
              { label: "Created", cell: (p) => timeTag(p.created_at) },
              { label: "Status", cell: (p) => (p.disabled ? badge("disabled", "bad") : badge("active", "ok")) },
              { label: "Active tokens", cell: (p) => String(p.tokens.filter((t) => !t.revoked).length) },
            ],
            rows: people,
            empty: emptyState("Nobody is here yet.", "Create the first principal with the form below."),
          }),
        ),
        section(
          "API tokens",
          table({
            caption: `${tokens.length} token${tokens.length === 1 ? "" : "s"} (tokens do not expire; revoke the ones no longer needed)`,
            columns: [
              { label: "Person", cell: (t) => t.person.name },
              { label: "Label", cell: (t) => t.label || "—" },
              { label: "Hash prefix", cell: (t) => h("code", {}, t.hash_prefix) },
              { label: "Issued", cell: (t) => timeTag(t.created_at) },
              { label: "Status", cell: (t) => (t.revoked ? [badge("revoked", "bad"), " ", timeTag(t.revoked_at)] : badge("active", "ok")) },
              {
                label: "Actions",
                cell: (t) =>
                  t.revoked
                    ? "—"
                    : confirmButton("Revoke", "It stops working at once.", `Revoke token ${t.label || t.hash_prefix} of ${t.person.name}`, async () => {
                        await api(`/v1/admin/tokens/${enc(t.token_id)}`, { method: "DELETE" });
                        if (t.token_id === shownToken) mount(secretArea);
                        toast(`Token ${t.label || t.hash_prefix} of ${t.person.name} revoked.`);
                        render();
                      }),
              },
            ],
            rows: tokens,
            empty: emptyState("No API tokens.", "Issue one with the form below."),
          }),
          h("h3", {}, "Issue a token"),
          people.length ? issue : emptyState("Create a principal first.", "A token belongs to a principal."),
          h("p", { class: "hint" }, "One-time sign-in links are issued from the command line only: clearframe principal login-link PRINCIPAL_ID."),
        ),
        section("Change roles", people.length ? rolesForm : emptyState("Create a principal first.")),
      ];
    });

  const name = h("input", { name: "name", required: true, maxlength: "200", autocomplete: "off" });
  const pid = h("input", { name: "principal_id", maxlength: "64", autocomplete: "off", pattern: "[A-Za-z0-9_.:@-]+" });
  const create = form({
    label: "Create a principal",
    submit: "Create principal",
    children: [
      field("Name", name, "The person's or the service's name, as shown to reviewers and in the audit trail."),
      rolesFieldset("Roles", "roles", ["user"]),
      field("Id (optional)", pid, "Letters, digits and _ . : @ - only. Empty: one is generated."),
    ],
    action: async (data) => {
      const roles = data.getAll("roles").map(String);
      if (!String(data.get("name") || "").trim()) throw new Error("Enter the principal's name.");
      if (!roles.length) throw new Error("Choose at least one role.");
      const json = { name: String(data.get("name")).trim(), roles };
      const wanted = String(data.get("principal_id") || "").trim();
      if (wanted) json.principal_id = wanted;
      return api("/v1/admin/principals", { method: "POST", json });
    },
    done: (created, node) => {
      node.reset();
      chosen = created.principal_id;
      toast(`${created.name} created (${created.principal_id}). Issue a token for them below.`);
      render();
    },
  });

  mount(body, h("h1", {}, "People and API tokens"), secretArea, area, section("Create a principal", create));
  await render();
}

start({
  title: "Admin",
  tabs: [["#/", "Lists"], ["#/featured", "Featured"], ["#/transparency", "Transparency"], ["#/people", "People"]],
  routes: [
    ["", listsView],
    ["featured", featuredView],
    ["transparency", transparencyView],
    ["people", peopleView],
  ],
});
