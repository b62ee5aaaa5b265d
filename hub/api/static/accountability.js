// The steward's page: the partnership's own record (GET /v1/partnerships/{slug}) and question 6
// (GET /v1/partnerships/{slug}/attainment, under the same disclosure control commissioners get):
// per shared outcome, attainment against its target over time; each partner's commitment against
// its own target; the target revisions, reviews and decisions recorded.
import { ask, columns, label } from "./answers.js";
import { Card, layout, suppressedTrace, value, isSuppressed } from "./charts.js";
import { admit, api, dataTable, disclosureRules, downloadButton, el, explainRule, frame, notice } from "./common.js";

function describeOutcome(outcome) {
  if (!outcome) return "";
  const cohort = outcome.cohort || {};
  const rule = outcome.attainment || {};
  const parts = [];
  if (cohort.events?.length) parts.push(`Cohort: people with ${cohort.events.map((e) => e.replace(/^hub\./, "").replaceAll(".", " ")).join(" or ")}`);
  if (cohort.needs?.length) parts.push(`for ${cohort.needs.join(" or ")}`);
  const within = rule.within_days ? ` within ${rule.within_days} days` : "";
  const instrument = rule.instrument ? ` on ${rule.instrument}` : "";
  if (rule.min_value !== undefined && rule.min_value !== null) parts.push(`attained: an outcome of at least ${rule.min_value}${instrument}${within}`);
  return `${parts.join(", ")}. Target: ${outcome.target_percent}% in each ${outcome.period_months}-month period.`;
}

function outcomeCard(grid, code, outcome) {
  return new Card(grid, {
    id: `outcome-${code}`,
    title: outcome ? outcome.name : code,
    description: describeOutcome(outcome),
    level: 3,
  });
}

async function drawOutcome(card, code, outcome, answer, record) {
  const rows = answer.rows.filter((r) => r.outcome === code).sort((a, b) => a.period.localeCompare(b.period));
  card.applies.replaceChildren(el("strong", {}, "Outcome: "), el("code", {}, code));
  const answered = rows.length ? value(rows.at(-1).target_percent) : null;
  const revised = (record.revisions || []).filter((r) => r.outcome === code).at(-1);
  if (revised && answered !== null && Math.round(revised.target_percent) !== answered) {
    card.applies.append(el("span", { class: "not-applied" },
      `The partners revised this target to ${revised.target_percent}% on ${revised.revised_at.slice(0, 10)} (see “Targets revised”); the hub's attainment answer still measures against ${answered}%.`));
  }
  const periods = rows.map((r) => r.period);
  const marks = rows.filter((r) => isSuppressed(r.attained_pct)).map((r) => ({ x: r.period, y: 0, what: `attained % in ${r.period}` }));
  const traces = [
    {
      type: "bar", name: "Attained %", x: periods, y: rows.map((r) => value(r.attained_pct)),
      marker: { color: "#1d4ed8" }, width: 0.5,
      hovertemplate: "%{x}: %{y}% attained<extra></extra>",
    },
    {
      type: "scatter", mode: "lines+markers", name: "Target %", x: periods, y: rows.map((r) => value(r.target_percent)),
      line: { color: "#b91c1c", width: 2, dash: "dash" }, marker: { symbol: "diamond", size: 10 },
      hovertemplate: "%{x}: target %{y}%<extra></extra>",
    },
  ];
  if (marks.length) traces.push(suppressedTrace(marks));
  await card.render({
    traces,
    layout: layout({
      height: 300,
      xaxis: { type: "category" },
      yaxis: { range: [0, 100], title: { text: "% of the cohort" }, ticksuffix: "%" },
    }),
    columns: columns(answer, ["period"]),
    rows,
    caption: `${outcome ? outcome.name : code}: attainment against the target, by period`,
    filename: `attainment_${code}.csv`,
  });
}

async function commitmentsCard(parent, record, answer) {
  const agreed = new Map(record.commitments.map((c) => [`${c.partner}|${c.outcome}`, c]));
  const rows = answer.rows.map((r) => {
    const c = agreed.get(`${r.partner}|${r.outcome}`) || {};
    return { ...r, contribution: c.contribution || "", measure: c.measure || "" };
  }).sort((a, b) => a.partner.localeCompare(b.partner) || a.outcome.localeCompare(b.outcome));
  const names = rows.map((r) => `${r.partner} · ${r.outcome}`);
  const card = new Card(parent, {
    id: "commitments",
    title: "Each partner's commitment against its own target",
    description: "For every commitment a partner made toward a shared outcome: the share of its own cohort that attained it, against the target the partner set itself.",
    level: 2,
  });
  card.applies.replaceChildren("One bar per commitment; the diamond is the partner's own target.");
  const marks = rows.filter((r) => isSuppressed(r.attained_pct)).map((r) => ({ x: 0, y: `${r.partner} · ${r.outcome}`, what: `attained % (${r.partner}, ${r.outcome})` }));
  const traces = [
    {
      type: "bar", orientation: "h", name: "Attained %", y: names, x: rows.map((r) => value(r.attained_pct)),
      marker: { color: "#0e7490" }, hovertemplate: "%{y}: %{x}% attained<extra></extra>",
    },
    {
      type: "scatter", mode: "markers", name: "Own target %", y: names, x: rows.map((r) => value(r.target_percent)),
      marker: { symbol: "diamond", size: 12, color: "#b91c1c", line: { width: 1, color: "#ffffff" } },
      hovertemplate: "%{y}: target %{x}%<extra></extra>",
    },
  ];
  if (marks.length) traces.push(suppressedTrace(marks));
  await card.render({
    traces,
    layout: layout({
      height: Math.max(300, 110 + 34 * rows.length),
      margin: { l: 280 },
      xaxis: { range: [0, 100], ticksuffix: "%", title: { text: "% of the partner's cohort" } },
      yaxis: { type: "category", autorange: "reversed", ticklabelstandoff: 10 },
    }),
    columns: [
      { key: "partner", label: "Partner", kind: "dim" },
      { key: "outcome", label: "Outcome", kind: "dim" },
      { key: "contribution", label: "Commitment", kind: "text" },
      { key: "measure", label: "Its own measure", kind: "text" },
      ...["count_cohort", "count_attained", "attained_pct", "target_percent"].map((m) => ({ key: m, label: label(m), kind: m.startsWith("count_") ? "count" : "pct" })),
    ],
    rows,
    caption: "Each partner's commitment: attainment against its own target",
    filename: `commitments_${record.slug}.csv`,
  });
  card.table.classList.add("tall");
}

function recordTable(parent, { id, title, empty, caption, columns: cols, rows, filename }) {
  const section = el("section", { class: "card", id, "aria-labelledby": `${id}-title` }, el("h2", { id: `${id}-title` }, title));
  if (!rows.length) {
    section.append(el("p", {}, empty));
  } else {
    section.append(
      el("div", { class: "table-head" }, el("p", { class: "hint" }, `${rows.length} recorded`), downloadButton(filename, cols, rows, title)),
      el("div", { class: "table-wrap tall" }, dataTable(caption, cols, rows)),
    );
  }
  parent.append(section);
}

async function load(slug) {
  const content = document.getElementById("content");
  const status = document.getElementById("status");
  content.dataset.state = "loading";
  content.replaceChildren();
  status.textContent = `Loading the partnership ${slug}…`;
  const base = `/v1/partnerships/${encodeURIComponent(slug)}/`;
  let record;
  let byPeriod;
  let byPartner;
  try {
    [record, byPeriod, byPartner] = await Promise.all([
      api(`/v1/partnerships/${encodeURIComponent(slug)}`),
      ask("attainment", ["period"], null, base),
      ask("attainment", ["partner"], null, base),
    ]);
  } catch (error) {
    status.textContent = "";
    notice(content, error.message);
    content.dataset.state = "error";
    return;
  }
  history.replaceState(null, "", `?partnership=${encodeURIComponent(slug)}`);
  content.append(el("section", { class: "panel", "aria-labelledby": "partnership-name" },
    el("h2", { id: "partnership-name" }, record.name),
    el("p", {}, el("strong", {}, `${record.partners.length} partners: `), record.partners.join(", ")),
    el("p", { class: "hint" }, `${record.outcomes.length} shared outcomes, ${record.commitments.length} commitments; the partnership's record is at version ${record.version}.`)));

  const outcomes = new Map(record.outcomes.map((o) => [o.code, o]));
  const codes = [...new Set([...record.outcomes.map((o) => o.code), ...byPeriod.rows.map((r) => r.outcome)])];
  const grid = el("div", { class: "grid" });
  content.append(el("section", { "aria-labelledby": "outcomes-title" },
    el("h2", { id: "outcomes-title" }, "Shared outcomes: attainment against target over time"),
    el("p", { class: "desc" }, "Each period's cohort (people who met the outcome's cohort rule in it), the share who attained the outcome, and the target the partners agreed."),
    grid));
  const cards = codes.map((code) => outcomeCard(grid, code, outcomes.get(code)));
  await Promise.all(codes.map((code, i) => drawOutcome(cards[i], code, outcomes.get(code), byPeriod, record)));
  await commitmentsCard(content, record, byPartner);

  recordTable(content, {
    id: "revisions", title: "Targets revised", filename: `revisions_${slug}.csv`,
    empty: "No target has been revised: every target is as first agreed.",
    caption: "Target revisions, with their reasons",
    columns: [
      { key: "outcome", label: "Outcome", kind: "dim" },
      { key: "target_percent", label: "New target %", kind: "pct" },
      { key: "reason", label: "Reason", kind: "text" },
      { key: "revised_at", label: "Revised at", kind: "text" },
    ],
    rows: record.revisions,
  });
  recordTable(content, {
    id: "reviews", title: "Reviews and decisions", filename: `reviews_${slug}.csv`,
    empty: "No review has been recorded yet.",
    caption: "Reviews held: the decision taken and why",
    columns: [
      { key: "outcome", label: "Outcome", kind: "dim" },
      { key: "decision", label: "Decision", kind: "text" },
      { key: "rationale", label: "Rationale", kind: "text" },
      { key: "held_at", label: "Held at", kind: "text" },
    ],
    rows: record.reviews,
  });
  const position = Math.max(byPeriod.position, byPartner.position);
  status.textContent = `${record.name}: figures as the hub's store stood at position ${position.toLocaleString("en-GB")}.`;
  content.dataset.state = "ready";
}

async function main() {
  const who = await frame("accountability");
  const probe = `/v1/partnerships/${encodeURIComponent((who && who.partnership) || "partnership")}`;
  if (!who || !(await admit(who, "accountability", probe))) return;
  try {
    explainRule(document.getElementById("rule"), await disclosureRules());
  } catch (error) {
    notice(document.getElementById("rule"), error.message);
  }
  document.getElementById("page").hidden = false;
  const form = document.getElementById("choose");
  const input = form.elements.partnership;
  input.value = new URLSearchParams(window.location.search).get("partnership") || who.partnership || "";
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const slug = input.value.trim();
    if (slug) load(slug);
  });
  if (input.value) await load(input.value);
  else document.getElementById("status").textContent = "Type the partnership's slug and press Show.";
}

main();
