// The controlled answers as the API gives them: {dims, totals_over, rows, totals, position,
// treeSize}, each row its dimension values and its cells ({"value": n, "suppressed": false} or
// {"value": null, "suppressed": true}). Filters are applied by asking for the filter's cut and
// keeping the matching rows: every row is already controlled, nothing is recomputed.
import { api, isCell } from "./common.js";

const LABELS = {
  month: "Month",
  locality: "Locality",
  agency: "Agency",
  sector: "Sector",
  need: "Need",
  service: "Service",
  from_agency: "From agency",
  to_agency: "To agency",
  pathway: "Pathway",
  year: "Year",
  outcome: "Outcome",
  partner: "Partner",
  period: "Period",
  count_referrals: "Referrals made",
  count_contacts: "Contacts recorded",
  count_people: "People",
  count_repeat: "Back within 90 days",
  count_failure: "Failure demand",
  repeat_pct: "Repeat %",
  failure_pct: "Failure demand %",
  count_many_agencies: "Known to 3+ agencies",
  many_agencies_pct: "Known to 3+ agencies %",
  count_started: "Services started",
  count_waiting: "Waiting at month end",
  median_wait_days: "Median wait",
  p90_wait_days: "90th percentile wait",
  count_declined: "Declined or redirected",
  count_redirected: "Redirected",
  count_people_ping_pong: "People passed on 3+ times",
  redirected_pct: "Redirected %",
  count_served: "Served",
  count_services_ended: "Services ended",
  count_disengaged: "Disengaged",
  disengaged_pct: "Disengaged %",
  median_first_service_days: "Median days to first service",
  count_cohort: "Cohort",
  count_attained: "Attained",
  attained_pct: "Attained %",
  target_percent: "Target %",
};

export function label(name) {
  return LABELS[name] || name.replaceAll("_", " ");
}

export function kindOf(name) {
  if (name.endsWith("_pct") || name.endsWith("_percent")) return "pct";
  if (name.endsWith("_days")) return "days";
  return "count";
}

/** Ask one question: cuts, and one period of the grid by its label (none: the whole record). */
export function ask(slug, by, period, base = "/v1/questions/") {
  const params = new URLSearchParams();
  if (by.length) params.set("by", [...new Set(by)].join(","));
  if (period) params.set("period", period);
  const query = params.toString();
  return api(`${base}${slug}${query ? `?${query}` : ""}`);
}

/** The measure columns of an answer, in order. */
export function measures(answer) {
  const first = answer.rows[0] || answer.totals[0];
  return first ? Object.keys(first).filter((k) => isCell(first[k])) : [];
}

/** Table columns: the given dims, then the given (or all) measures. */
export function columns(answer, dims, only) {
  return [
    ...dims.map((d) => ({ key: d, label: label(d), kind: "dim" })),
    ...(only || measures(answer)).map((m) => ({ key: m, label: label(m), kind: kindOf(m) })),
  ];
}

/** The rows of exactly these dims present (a total lacks the dims it sums over). */
export function rowsWith(answer, dims) {
  const wanted = new Set(dims);
  return [...answer.rows, ...answer.totals].filter((row) =>
    answer.dims.every((d) => wanted.has(d) === (d in row)));
}

/** Rows matching every active filter that applies (filters: {name: {value, match(row, v)}}). */
export function matching(rows, filters) {
  return rows.filter((row) => Object.values(filters).every((f) => f.match(row, f.value)));
}

export function distinct(rows, name) {
  return [...new Set(rows.map((r) => r[name]).filter((v) => v !== undefined && v !== null))].sort();
}
