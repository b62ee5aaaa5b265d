// Chart cards: one chart drawn by plotly.js (the hub serves it from the plotly wheel), the
// filters that apply to it, its suppressed cells marked and explained, and its data table with a
// CSV download. Nothing here draws a chart by hand: plotly does.
import { dataTable, downloadButton, el, isCell } from "./common.js";

export const FONT = 'system-ui, "DejaVu Sans", "Liberation Sans", Arial, sans-serif';

// Dark enough on white for lines and bars (at least 3:1), distinct from one another.
export const COLOURS = [
  "#1d4ed8", "#c2410c", "#15803d", "#b91c1c", "#6d28d9", "#0e7490", "#a16207",
  "#be185d", "#4d7c0f", "#334155", "#7c2d12", "#0f766e", "#9333ea", "#475569",
];

export const CONFIG = { displayModeBar: false, displaylogo: false, responsive: true, scrollZoom: false };
export const SUPPRESSED_NAME = "× suppressed (not shown)";

/** A shown cell's value, or null for a suppressed (or absent) one. */
export function value(cell) {
  return isCell(cell) && !cell.suppressed ? cell.value : null;
}

export function isSuppressed(cell) {
  return isCell(cell) && cell.suppressed;
}

function merge(base, extra) {
  const out = { ...base };
  for (const [name, given] of Object.entries(extra)) {
    if (given === undefined) continue;
    const mine = out[name];
    const plain = (x) => x && typeof x === "object" && !Array.isArray(x);
    out[name] = plain(mine) && plain(given) ? merge(mine, given) : given;
  }
  return out;
}

/** The dashboard's plotly layout with `extra` merged in. */
export function layout(extra = {}) {
  const axis = {
    gridcolor: "#e3e7ed", linecolor: "#6b7280", zerolinecolor: "#9ca3af",
    automargin: true, tickfont: { size: 12 }, title: { font: { size: 13 } },
  };
  return merge({
    font: { family: FONT, size: 13, color: "#1a1d23" },
    paper_bgcolor: "#ffffff",
    plot_bgcolor: "#ffffff",
    margin: { l: 56, r: 16, t: 12, b: 40 },
    height: 340,
    hovermode: "closest",
    hoverlabel: { font: { family: FONT, size: 13 } },
    legend: { orientation: "h", x: 0, y: -0.18, yanchor: "top", font: { size: 12 } },
    xaxis: axis,
    yaxis: { ...axis, rangemode: "tozero" },
  }, extra);
}

/** A month axis (x values "YYYY-MM"). */
export const MONTHS = { type: "date", tickformat: "%b %Y", hoverformat: "%B %Y" };

/**
 * One trace marking suppressed cells with ×, one mark per position, its hover naming what is
 * suppressed there. points: [{x, y, what}].
 */
export function suppressedTrace(points, extra = {}) {
  const groups = new Map();
  for (const p of points) {
    const id = JSON.stringify([p.x, p.y]);
    if (!groups.has(id)) groups.set(id, { x: p.x, y: p.y, what: [] });
    groups.get(id).what.push(p.what);
  }
  const marks = [...groups.values()];
  return {
    type: "scatter",
    mode: "markers",
    name: SUPPRESSED_NAME,
    x: marks.map((m) => m.x),
    y: marks.map((m) => m.y),
    text: marks.map((m) => `Suppressed: ${m.what.join(", ")}`),
    hovertemplate: "%{text}<extra></extra>",
    marker: { symbol: "x", size: 9, color: "#374151", line: { width: 1, color: "#ffffff" } },
    cliponaxis: false,
    meta: "suppressed",
    ...extra,
  };
}

/** A card: heading, description, the filters that apply, chart, suppression note, table. */
export class Card {
  constructor(parent, { id, title, description, level = 2, wide = false }) {
    this.id = id;
    this.title = title;
    this.state = el("p", { class: "chart-state" }, "Loading…");
    this.applies = el("p", { class: "applies" });
    this.chart = el("div", {
      class: wide ? "chart wide" : "chart",
      id: `chart-${id}`,
      role: "img",
      "aria-label": `${title}: a chart of the figures in the table below it`,
    });
    this.note = el("div", { class: "suppressed-note" });
    this.head = el("div", { class: "table-head" });
    this.table = el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": `${title}: data table` });
    this.section = el("section", { class: "card", id: `card-${id}`, "aria-labelledby": `${id}-title`, "data-state": "loading" },
      el(`h${level}`, { id: `${id}-title` }, title),
      description ? el("p", { class: "desc" }, description) : null,
      this.applies, this.state, this.chart, this.note, this.head, this.table);
    parent.append(this.section);
    // plotly follows the window's size, not its box's: follow the box too (cards added beside
    // a drawn one narrow it).
    this.drawnWidth = 0;
    new ResizeObserver(([entry]) => {
      const now = Math.round(entry.contentRect.width);
      if (!this.drawnWidth || now === this.drawnWidth || !this.chart.data) return;
      this.drawnWidth = now;
      window.Plotly.Plots.resize(this.chart);
    }).observe(this.chart);
  }

  loading() {
    this.section.dataset.state = "loading";
    this.section.setAttribute("aria-busy", "true");
    this.state.textContent = "Loading…";
    this.state.hidden = false;
  }

  fail(sentence) {
    this.section.dataset.state = "error";
    this.section.removeAttribute("aria-busy");
    window.Plotly.purge(this.chart);
    this.state.hidden = false;
    this.state.replaceChildren(el("span", { class: "card-error", role: "alert" }, sentence));
    this.note.replaceChildren();
    this.head.replaceChildren();
    this.table.replaceChildren();
  }

  /** Draw: {traces, layout, columns, rows, caption, filename, empty}. */
  async render({ traces, layout: look, columns, rows, caption, filename, empty }) {
    const drawn = traces.some((t) => t.meta !== "suppressed" && hasData(t));
    this.state.hidden = drawn;
    this.state.textContent = drawn ? "" : empty || "Nothing to draw: every figure in this selection is suppressed or there is none.";
    this.chart.hidden = !drawn && traces.every((t) => t.type === "sankey");
    if (this.chart.hidden) window.Plotly.purge(this.chart);
    else await window.Plotly.react(this.chart, traces, look, CONFIG);
    this.drawnWidth = Math.round(this.chart.getBoundingClientRect().width);
    const suppressed = rows.reduce((n, row) => n + columns.filter((c) => isSuppressed(row[c.key])).length, 0);
    this.note.replaceChildren(
      suppressed ? el("span", { class: "swatch", "aria-hidden": "true" }) : "",
      suppressed
        ? `${suppressed} ${suppressed === 1 ? "cell" : "cells"} of this table ${suppressed === 1 ? "is" : "are"} suppressed: marked × on the chart (or left out of it) and “suppressed” in the table, because the group behind ${suppressed === 1 ? "it is" : "them is"} too small to show (a percentage of a count shown as 0, or a median of too few).`
        : "No cell of this table is suppressed.",
    );
    this.head.replaceChildren(
      el("p", { class: "hint" }, `${rows.length} ${rows.length === 1 ? "row" : "rows"}`),
      downloadButton(filename, columns, rows, this.title),
    );
    this.table.replaceChildren(dataTable(caption, columns, rows));
    this.section.dataset.state = "ready";
    this.section.removeAttribute("aria-busy");
  }
}

function hasData(trace) {
  const values = trace.type === "sankey" ? trace.link.value : trace.type === "heatmap" ? trace.z.flat() : trace.orientation === "h" ? trace.x : trace.y;
  return (values || []).some((v) => v !== null && v !== undefined);
}
