// Shared by every dashboard page: the key (this tab's sessionStorage only), the hub's API with
// that key, the page's frame (place, navigation, who is signed in), the published disclosure
// rules and the period grid's picker, data tables and their CSV. No figure is ever written into
// a page's HTML by the hub: it arrives here as the controlled JSON the API answers.

const KEY = "hub.dashboard.key";

export const key = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

export const PAGES = {
  demand: { title: "Demand", role: "commissioner", path: "/dashboard/demand" },
  accountability: { title: "Accountability", role: "steward", path: "/dashboard/accountability" },
  audit: { title: "Audit status", role: "auditor", path: "/dashboard/audit" },
};

const ROLE_NAMES = {
  commissioner: "a commissioner",
  steward: "a partnership steward",
  auditor: "an auditor",
  agency: "an agency",
};

export function roleName(role) {
  return ROLE_NAMES[role] || `a ${role}`;
}

/** A refusal or failure of the hub, as a sentence a person can act on. */
export class HubRefusal extends Error {
  constructor(status, sentence) {
    super(sentence);
    this.status = status;
  }
}

function refusalSentence(status, reason) {
  const why = (reason || "").replace(/^a ([aeiou])/i, "an $1");
  if (status === 401) {
    return "The hub did not accept this key: it is unknown or has been revoked. Sign in again with a valid key.";
  }
  if (status === 403) return `The hub refused this request (403 Forbidden): ${why}.`;
  if (status === 404) return `The hub has no such thing (404): ${why}.`;
  if (status === 422) return `The hub could not answer this question as asked (422): ${why}.`;
  if (status === 503) return `The hub is not ready to answer (503): ${why}.`;
  return `The hub could not answer (${status})${why ? `: ${why}` : ""}.`;
}

/** GET (or another method) a JSON route of the hub with the signed-in key. */
export async function api(path, options = {}) {
  const token = key.get();
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  let response;
  try {
    response = await fetch(path, { ...options, headers, cache: "no-store", credentials: "omit" });
  } catch {
    throw new HubRefusal(0, "The hub did not answer: check that `hub serve` is still running.");
  }
  if (response.ok) return response.json();
  let reason = "";
  try {
    reason = (await response.json()).reason || "";
  } catch {
    // not JSON: the status alone says it
  }
  throw new HubRefusal(response.status, refusalSentence(response.status, reason));
}

/** An element with attributes and children (strings become text: nothing is parsed as HTML). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function notice(container, sentence, kind = "error") {
  container.replaceChildren(el("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, sentence));
}

/**
 * Fill the page's frame and ask the hub who the key is. Returns the answer of /v1/whoami, or
 * null when no key is signed in or the hub refuses it (the gate then says why).
 */
export async function frame(current) {
  const gate = document.getElementById("gate");
  const token = key.get();
  if (!token) {
    if (gate) {
      gate.replaceChildren(
        el("div", { class: "notice" }, "You are not signed in. ",
          el("a", { href: "/dashboard" }, "Sign in with your key"), " to see this page."),
      );
    }
    return null;
  }
  let who;
  try {
    who = await api("/v1/whoami");
  } catch (error) {
    if (gate) notice(gate, error.message);
    if (error.status === 401) key.clear();
    return null;
  }
  if (who.place) document.getElementById("place").textContent = `· ${who.place}`;
  const nav = document.getElementById("nav");
  nav.replaceChildren(
    el("li", {}, el("a", { href: "/dashboard", "aria-current": current === "" ? "page" : null }, "Home")),
    ...who.pages.map((slug) =>
      el("li", {}, el("a", { href: PAGES[slug].path, "aria-current": slug === current ? "page" : null }, PAGES[slug].title)),
    ),
  );
  const signOut = el("button", { type: "button", id: "sign-out" }, "Sign out");
  signOut.addEventListener("click", () => {
    key.clear();
    window.location.assign("/dashboard");
  });
  const agency = who.agency ? ` (${who.agency})` : "";
  document.getElementById("who").replaceChildren(
    el("span", {}, `Signed in as ${roleName(who.role)}${agency}`),
    signOut,
  );
  return who;
}

/**
 * The page's own role check: a key of another role is told so, and the hub's own refusal of
 * the page's first request is shown as a sentence. Returns true when the page may go on.
 */
export async function admit(who, page, probe) {
  const gate = document.getElementById("gate");
  const wanted = PAGES[page].role;
  if (who.role === wanted) return true;
  const offered = who.pages.length
    ? `Your key's pages: ${who.pages.map((p) => PAGES[p].title).join(", ")}.`
    : [`${capitalise(roleName(who.role))} key has no dashboard pages: agencies publish their events to the hub (`, el("code", {}, "hub publish"), ") and see their own submissions through the API."];
  let refusal = "";
  try {
    await api(probe);
  } catch (error) {
    refusal = error.message;
  }
  gate.replaceChildren(
    el("div", { class: "notice error", role: "alert" },
      el("p", {}, `This page is for ${roleName(wanted).replace(/^an? /, "")}s; you are signed in with ${roleName(who.role)} key.`),
      refusal ? el("p", { id: "refusal" }, refusal) : null,
      el("p", {}, ...[offered].flat()),
    ),
  );
  return false;
}

export function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The published disclosure rules (GET /v1/disclosure, for any key). */
export function disclosureRules() {
  return api("/v1/disclosure");
}

/** The place's disclosure rules, explained (from /v1/disclosure). */
export function explainRule(container, rules) {
  if (!rules) {
    container.hidden = true;
    return;
  }
  container.hidden = false;
  container.replaceChildren(
    el("span", { class: "swatch", "aria-hidden": "true" }),
    el("p", {},
      el("strong", {}, "Disclosure control. "),
      `Every figure here has passed the place's published rules (${rules.method}): each count is perturbed by at most `,
      el("strong", { id: "rule-max-noise" }, String(rules.max_noise)),
      ` then rounded to the nearest ${rules.rounding_base}, so any figure may be off by up to `,
      el("strong", { id: "rule-max-error" }, String(rules.max_error)),
      `. A true count from 1 to ${rules.threshold} never shows as such: it and a true zero can both show as 0. `,
      "The same cell shows the same figure however and wherever it is asked. ",
      `Percentages come from the perturbed counts; a percentage of a count shown as 0, and a median or percentile of a group under ${rules.min_group_for_percentiles}, are `,
      el("strong", {}, "suppressed"),
      " (marked × on the charts and “suppressed” in the tables).",
    ),
  );
}

const KIND_GROUPS = {
  month: "Months",
  quarter: "Quarters",
  financial_year: "Financial years (April to March)",
  year: "Calendar years",
};

/** Which months a grid period covers, in words a picker shows beside its label. */
export function periodText(period) {
  if (!period) return "the whole record";
  return period.start === period.end ? period.label : `${period.label} (${period.start} to ${period.end})`;
}

/**
 * A period picker: "Whole record", then the grid's choices (from /v1/disclosure) grouped by
 * kind. Each option's value is the period's label, as `period=` takes it.
 */
export function periodOptions(select, periods) {
  const groups = Object.entries(KIND_GROUPS).map(([kind, title]) => {
    const choices = periods.choices.filter((c) => c.kind === kind);
    if (!choices.length) return null;
    return el("optgroup", { label: title, "data-kind": kind },
      ...choices.map((c) => el("option", { value: c.label }, periodText(c))));
  });
  select.replaceChildren(el("option", { value: "" }, "Whole record"), ...groups.filter(Boolean));
}

// ---- tables and CSV ---------------------------------------------------------------------------

/** Whether a value is a controlled cell ({"value": ..., "suppressed": ...}). */
export function isCell(value) {
  return value !== null && typeof value === "object" && "suppressed" in value;
}

const NUMBER = new Intl.NumberFormat("en-GB");

/** How a column's value reads in a table: "suppressed", a number with its unit, or text. */
export function shown(value, kind) {
  if (isCell(value)) {
    if (value.suppressed) return "suppressed";
    value = value.value;
  }
  if (value === null || value === undefined) return kind === "dim" ? "All" : "";
  if (typeof value === "number") {
    if (kind === "pct") return `${NUMBER.format(value)}%`;
    if (kind === "days") return `${NUMBER.format(value)} days`;
    return NUMBER.format(value);
  }
  return String(value);
}

function csvValue(value) {
  if (isCell(value)) return value.suppressed ? "suppressed" : String(value.value);
  if (value === null || value === undefined) return "all";
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * A data table: columns [{key, label, kind: "dim"|"text"|"count"|"pct"|"days"}] and rows of
 * plain objects (a row with `total: true` is a total). The first column heads each row.
 */
export function dataTable(caption, columns, rows) {
  const head = el("tr", {}, columns.map((c) =>
    el("th", { scope: "col", class: c.kind === "dim" || c.kind === "text" ? null : "num" }, c.label)));
  const body = rows.map((row) =>
    el("tr", { class: row.total ? "total" : null },
      columns.map((c, i) => {
        const value = row[c.key];
        const text = shown(value, c.kind);
        if (i === 0) return el("th", { scope: "row" }, text);
        const suppressed = isCell(value) && value.suppressed;
        const numeric = c.kind !== "dim" && c.kind !== "text";
        const kind = numeric ? "num" : c.kind === "dim" ? "dim" : "";
        return el("td", { class: [kind, suppressed ? "suppressed" : ""].join(" ").trim() || null }, text);
      })));
  return el("table", {}, el("caption", {}, caption), el("thead", {}, head), el("tbody", {}, body));
}

export function toCsv(columns, rows) {
  const lines = [columns.map((c) => csvValue(c.label)).join(",")];
  for (const row of rows) lines.push(columns.map((c) => csvValue(row[c.key])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

/** A "Download CSV" button for a table's columns and rows. */
export function downloadButton(filename, columns, rows, label) {
  const button = el("button", { type: "button", class: "secondary", "aria-label": `Download CSV: ${label}` }, "Download CSV");
  button.addEventListener("click", () => {
    const blob = new Blob([toCsv(columns, rows)], { type: "text/csv;charset=utf-8" });
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: filename });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  return button;
}
