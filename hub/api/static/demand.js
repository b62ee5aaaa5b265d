// The commissioner's page: questions 1-5 and 7 as charts, each with its table, under one set of
// filters. The period is one of the hub's fixed grid (a month, quarter, financial or calendar
// year, from /v1/disclosure's choices) or the whole record: never a span of its own. A filter
// applies to a chart when its question can be cut by it: the chart asks for that cut and keeps
// the matching rows. Where a filter cannot apply, the chart says so.
import { ask, distinct, label } from "./answers.js";
import { Card } from "./charts.js";
import { admit, disclosureRules, el, explainRule, frame, HubRefusal, notice, periodOptions, periodText } from "./common.js";
import { bounces, journeys, manyAgencies, overMonths, repeatDemand, waits } from "./demand-charts.js";

const FILTERS = ["locality", "agency", "need", "sector"];
const equals = (name) => (row, v) => row[name] === v;

function byName(names) {
  return Object.fromEntries(names.map((n) => [n, { cut: n, match: equals(n) }]));
}

const CHARTS = [
  {
    id: "demand-locality", slug: "demand", title: "Demand per month, by locality",
    description: "Referrals made or contacts recorded each month, one line per locality where people live; the dotted line is the whole place, on the right-hand axis.",
    cuts: ["locality"], applies: byName(FILTERS), draw: overMonths("locality", { totalName: "All localities" }),
  },
  {
    id: "demand-agency", slug: "demand", title: "Demand per month, by agency",
    description: "Each month's referrals or contacts, stacked by the agency that recorded them.",
    cuts: ["agency"], applies: byName(FILTERS), draw: overMonths("agency", { bars: true }),
  },
  {
    id: "demand-need", slug: "demand", title: "Demand per month, by need",
    description: "Each month's referrals or contacts, stacked by the need recorded.",
    cuts: ["need"], applies: byName(FILTERS), draw: overMonths("need", { bars: true }),
  },
  {
    id: "repeat", slug: "repeat_demand", title: "Repeat and failure demand",
    description: "People back for the same need within 90 days, and the failure demand among them: back after a referral declined or redirected, or a service that ended other than completed.",
    cuts: ["month"], applies: byName(["locality", "need"]), draw: repeatDemand,
  },
  {
    id: "waits", slug: "waits", title: "Waits from referral to service start",
    description: "The median and the 90th percentile of days from a referral to the service it led to starting, by the month the service started.",
    cuts: ["month"], applies: byName(["agency"]), draw: waits,
  },
  {
    id: "many-agencies", slug: "many_agencies", title: "People known to 3 or more agencies, by locality",
    description: "People any three or more agencies were in contact with in the 12 months to the end of the period's last month.",
    cuts: ["locality", "month"], applies: byName(["locality"]), draw: manyAgencies,
  },
  {
    id: "bounces", slug: "bounces", title: "Referral bounces between agencies",
    description: "Referrals declined or redirected, from the referring agency (rows) to the agency that declined them (columns).",
    cuts: ["agency_pair"], wide: true,
    applies: { agency: { cut: null, match: (r, v) => r.from_agency === v || r.to_agency === v } },
    draw: bounces,
  },
  {
    id: "journeys", slug: "journeys", title: "Common pathways between agencies",
    description: "The first three agencies people met, in order: each band's width is the people who went that way. People who met one agency only have no band; the table lists every pathway.",
    cuts: [], wide: true,
    applies: { ...byName(["locality", "need"]), agency: { cut: null, match: (r, v) => r.pathway.split(" > ").includes(v) } },
    draw: journeys,
  },
];

function appliesText(chart, state) {
  const names = ["period", ...FILTERS.filter((f) => chart.applies[f])];
  const ignored = FILTERS.filter((f) => state.filters[f] && !chart.applies[f]);
  const parts = [el("strong", {}, "Filters that apply: "), `${names.join(", ")}.`];
  if (chart.id === "bounces") parts.push(" Agency keeps the pairs it is in.");
  if (chart.id === "journeys") parts.push(" Agency keeps the pathways through it.");
  if (ignored.length) {
    const which = ignored.map((f) => `${f} (${state.filters[f]})`).join(" and ");
    parts.push(el("span", { class: "not-applied" },
      `The ${which} ${ignored.length === 1 ? "filter does" : "filters do"} not apply here: the ${chart.slug.replaceAll("_", " ")} question cannot be cut by ${ignored.join(" or ")}.`));
  }
  return parts;
}

async function drawChart(chart, card, state, generation) {
  const active = FILTERS.filter((f) => state.filters[f] && chart.applies[f]);
  const applied = Object.fromEntries(active.map((f) => [f, { value: state.filters[f], match: chart.applies[f].match }]));
  const cutsFromFilters = active.map((f) => chart.applies[f].cut).filter(Boolean);
  card.applies.replaceChildren(...appliesText(chart, state));
  card.loading();
  try {
    const answer = await ask(chart.slug, [...chart.cuts, ...cutsFromFilters], state.period);
    if (generation !== current) return null;
    const drawn = chart.draw(answer, { ...state, applied }, cutsFromFilters);
    const what = [periodText(answer.period), ...active.map((f) => `${f} ${state.filters[f]}`)];
    if (chart.slug === "demand") what.unshift(label(state.measure).toLowerCase());
    if (drawn.caption) what.push(drawn.caption);
    await card.render({
      ...drawn,
      caption: `${chart.title}: ${what.join(", ")}`,
      filename: `${chart.id}_${state.period || "whole-record"}${active.map((f) => `_${state.filters[f]}`).join("")}.csv`,
    });
    if (drawn.extra) card.note.append(" ", drawn.extra);
    return answer;
  } catch (error) {
    if (!(error instanceof HubRefusal)) console.error(error);
    if (generation === current) card.fail(error.message);
    return null;
  }
}

let current = 0;

function readForm(form) {
  const data = new FormData(form);
  return {
    period: data.get("period") || "",
    filters: Object.fromEntries(FILTERS.map((f) => [f, data.get(f) || ""])),
    measure: data.get("measure") || "count_referrals",
  };
}

async function apply(form, cards) {
  const state = readForm(form);
  document.getElementById("filters-error").textContent = "";
  const query = new URLSearchParams(state.period ? { period: state.period } : {});
  query.set("measure", state.measure);
  for (const f of FILTERS) if (state.filters[f]) query.set(f, state.filters[f]);
  history.replaceState(null, "", `?${query}`);
  const generation = ++current;
  const status = document.getElementById("status");
  const grid = document.getElementById("charts");
  grid.dataset.state = "loading";
  status.textContent = `Updating ${CHARTS.length} charts…`;
  const answers = await Promise.all(CHARTS.map((chart, i) => drawChart(chart, cards[i], state, generation)));
  if (generation !== current) return;
  const got = answers.filter(Boolean);
  const failed = CHARTS.length - got.length;
  const position = Math.max(0, ...got.map((a) => a.position));
  const tree = Math.max(0, ...got.map((a) => a.treeSize || 0));
  const chosen = form.elements.period.selectedOptions[0];
  status.textContent = `${got.length} of ${CHARTS.length} charts updated for ${state.period ? chosen.textContent : "the whole record"}`
    + `${FILTERS.filter((f) => state.filters[f]).map((f) => `, ${f} ${state.filters[f]}`).join("")}: figures as the hub's store stood at position ${position.toLocaleString("en-GB")}`
    + `${tree ? ` (signed checkpoint of ${tree.toLocaleString("en-GB")} events)` : ""}.${failed ? ` ${failed} could not be drawn: each says why.` : ""}`;
  grid.dataset.state = "ready";
}

function options(select, values, all) {
  select.replaceChildren(
    ...(all ? [el("option", { value: "" }, all)] : []),
    ...values.map((v) => el("option", { value: v }, v)),
  );
}

async function main() {
  const who = await frame("demand");
  if (!who || !(await admit(who, "demand", "/v1/questions"))) return;
  const page = document.getElementById("page");
  let rules;
  let vocab;
  try {
    [rules, vocab] = await Promise.all([
      disclosureRules(),
      Promise.all(FILTERS.map((cut) => ask("demand", [cut]))),
    ]);
  } catch (error) {
    notice(document.getElementById("gate"), error.message);
    return;
  }
  explainRule(document.getElementById("rule"), rules);
  if (!rules.periods.choices.length) {
    notice(document.getElementById("gate"), "The hub holds no demand yet: once agencies have published, the charts appear here.", "info");
    return;
  }
  const form = document.getElementById("filters");
  periodOptions(form.elements.period, rules.periods);
  const names = { locality: "All localities", agency: "All agencies", need: "All needs", sector: "All sectors" };
  vocab.forEach((answer, i) => {
    const cut = FILTERS[i];
    options(form.elements[cut], distinct(answer.rows, cut), names[cut]);
  });
  const defaults = () => {
    form.elements.period.value = "";
    for (const f of FILTERS) form.elements[f].value = "";
    form.elements.measure.value = "count_referrals";
  };
  defaults();
  const given = new URLSearchParams(window.location.search);
  for (const name of ["period", "measure", ...FILTERS]) {
    const v = given.get(name);
    if (v && [...form.elements[name].options].some((o) => o.value === v)) form.elements[name].value = v;
  }
  page.hidden = false;
  const grid = document.getElementById("charts");
  const cards = CHARTS.map((chart) => new Card(grid, chart));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply(form, cards);
  });
  document.getElementById("reset").addEventListener("click", () => {
    defaults();
    apply(form, cards);
  });
  await apply(form, cards);
}

main();
