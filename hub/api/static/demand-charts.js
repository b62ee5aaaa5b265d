// The demand page's charts: each takes a controlled answer, the page's state (the filters that
// apply to it as `applied`, the demand measure) and the cuts the filters added, and returns the
// plotly traces and layout and the rows of its table. Rows are kept or left out, never summed.
import { columns, distinct, label, matching, rowsWith } from "./answers.js";
import { COLOURS, isSuppressed, layout, MONTHS, suppressedTrace, value } from "./charts.js";

const SIDE_LEGEND = { orientation: "v", x: 1.02, y: 1, yanchor: "top", xanchor: "left", font: { size: 11 } };

/** Lines (or stacked bars) over the months: one series per value of `dim`, a total line. */
export function overMonths(dim, { bars = false, totalName = null } = {}) {
  return (answer, state, active) => {
    const measure = state.measure;
    const dims = ["month", dim, ...active.filter((f) => f !== dim && answer.dims.includes(f))];
    const detail = matching(rowsWith(answer, dims), state.applied);
    const series = distinct(detail, dim);
    const months = distinct([...answer.rows, ...answer.totals], "month");
    const traces = [];
    const marks = [];
    series.forEach((name, i) => {
      const cells = new Map(detail.filter((r) => r[dim] === name).map((r) => [r.month, r[measure]]));
      traces.push({
        type: bars ? "bar" : "scatter",
        mode: bars ? undefined : "lines+markers",
        name,
        x: months,
        y: months.map((m) => value(cells.get(m))),
        marker: { color: COLOURS[i % COLOURS.length], size: bars ? undefined : 5 },
        line: bars ? undefined : { width: 2 },
        hovertemplate: `${name}<br>%{x|%B %Y}: %{y}<extra></extra>`,
      });
      for (const m of months) if (isSuppressed(cells.get(m))) marks.push({ x: m, y: 0, what: name });
    });
    let totals = [];
    if (totalName && !state.applied[dim]) {
      totals = matching(rowsWith(answer, dims.filter((d) => d !== dim)), state.applied);
      const cells = new Map(totals.map((r) => [r.month, r[measure]]));
      // The whole place on its own (right) axis: on the localities' axis it would flatten them.
      traces.push({
        type: "scatter", mode: "lines", name: `${totalName} (right axis)`, x: months, yaxis: "y2",
        y: months.map((m) => value(cells.get(m))),
        line: { color: "#111827", width: 2.5, dash: "dot" },
        hovertemplate: `${totalName}<br>%{x|%B %Y}: %{y}<extra></extra>`,
      });
      for (const m of months) if (isSuppressed(cells.get(m))) marks.push({ x: m, y: 0, what: totalName });
    }
    if (marks.length) traces.push(suppressedTrace(marks));
    const rows = [...detail, ...totals.map((r) => ({ ...r, total: true }))].sort(
      (a, b) => a.month.localeCompare(b.month) || (a.total ? 1 : 0) - (b.total ? 1 : 0) || String(a[dim]).localeCompare(String(b[dim])));
    return {
      traces,
      layout: layout({
        barmode: bars ? "stack" : undefined,
        bargap: 0.15,
        xaxis: MONTHS,
        yaxis: { title: { text: label(measure) } },
        height: Math.max(380, 60 + 20 * (traces.length + 1)),
        legend: totals.length ? { ...SIDE_LEGEND, x: 1.14 } : SIDE_LEGEND,
        margin: { r: 8 },
        yaxis2: totals.length ? {
          overlaying: "y", side: "right", rangemode: "tozero", showgrid: false, automargin: true, tickmode: "auto", tickformat: ",d",
          title: { text: `${totalName}`, font: { size: 13 } }, tickfont: { size: 12 }, linecolor: "#6b7280",
        } : undefined,
      }),
      columns: columns(answer, dims),
      rows,
    };
  };
}

export function repeatDemand(answer, state, active) {
  const dims = ["month", ...active];
  const rows = matching(rowsWith(answer, dims), state.applied).sort((a, b) => a.month.localeCompare(b.month));
  const shown = [["count_repeat", "#1d4ed8"], ["count_failure", "#c2410c"]];
  const marks = [];
  const traces = shown.map(([m, colour]) => {
    for (const r of rows) if (isSuppressed(r[m])) marks.push({ x: r.month, y: 0, what: label(m) });
    return {
      type: "bar", name: label(m), x: rows.map((r) => r.month), y: rows.map((r) => value(r[m])),
      marker: { color: colour }, hovertemplate: `${label(m)}<br>%{x|%B %Y}: %{y}<extra></extra>`,
    };
  });
  if (marks.length) traces.push(suppressedTrace(marks));
  return {
    traces,
    layout: layout({ barmode: "group", xaxis: MONTHS, yaxis: { title: { text: "People" } } }),
    columns: columns(answer, dims),
    rows,
  };
}

export function manyAgencies(answer, state) {
  const latest = distinct(answer.rows, "month").at(-1);
  const detail = matching(rowsWith(answer, ["locality", "month"]), state.applied).filter((r) => r.month === latest);
  const totals = state.applied.locality ? [] : rowsWith(answer, ["month"]).filter((r) => r.month === latest);
  const localities = distinct(detail, "locality");
  const cell = new Map(detail.map((r) => [r.locality, r]));
  const marks = localities.filter((l) => isSuppressed(cell.get(l).count_many_agencies)).map((l) => ({ x: 0, y: l, what: l }));
  const traces = [{
    type: "bar", orientation: "h", name: label("count_many_agencies"), y: localities,
    x: localities.map((l) => value(cell.get(l).count_many_agencies)),
    customdata: localities.map((l) => {
      const pct = value(cell.get(l).many_agencies_pct);
      return pct === null ? "share suppressed" : `${pct}% of the people known`;
    }),
    marker: { color: "#0e7490" },
    hovertemplate: "%{y}: %{x} people (%{customdata})<extra></extra>",
  }];
  if (marks.length) traces.push(suppressedTrace(marks));
  return {
    traces,
    layout: layout({
      height: Math.max(320, 90 + 24 * localities.length),
      showlegend: true,
      margin: { l: 120 },
      xaxis: { title: { text: "People known to 3 or more agencies" }, rangemode: "tozero" },
      yaxis: { type: "category", autorange: "reversed", ticklabelstandoff: 10 },
    }),
    columns: columns(answer, ["month", "locality"]),
    rows: [...detail, ...totals.map((r) => ({ ...r, total: true }))],
    caption: latest ? `in the 12 months to the end of ${latest}` : "",
  };
}

export function waits(answer, state, active) {
  const dims = ["month", ...active];
  const rows = matching(rowsWith(answer, dims), state.applied).sort((a, b) => a.month.localeCompare(b.month));
  const lines = [["median_wait_days", "#1d4ed8", "solid"], ["p90_wait_days", "#b91c1c", "dash"]];
  const marks = [];
  const traces = lines.map(([m, colour, dash]) => {
    for (const r of rows) if (isSuppressed(r[m])) marks.push({ x: r.month, y: 0, what: label(m) });
    return {
      type: "scatter", mode: "lines+markers", name: label(m), x: rows.map((r) => r.month),
      y: rows.map((r) => value(r[m])), line: { color: colour, width: 2, dash }, marker: { size: 6 },
      hovertemplate: `${label(m)}<br>%{x|%B %Y}: %{y} days<extra></extra>`,
    };
  });
  if (marks.length) traces.push(suppressedTrace(marks));
  return {
    traces,
    layout: layout({ xaxis: MONTHS, yaxis: { title: { text: "Days from referral to service start" } } }),
    columns: columns(answer, dims),
    rows,
  };
}

export function bounces(answer, state) {
  const detail = matching(rowsWith(answer, ["from_agency", "to_agency"]), state.applied);
  const totals = state.applied.agency ? [] : rowsWith(answer, ["from_agency"]).concat(rowsWith(answer, ["to_agency"]), rowsWith(answer, []));
  const from = distinct(detail, "from_agency");
  const to = distinct(detail, "to_agency");
  const cell = new Map(detail.map((r) => [`${r.from_agency}|${r.to_agency}`, r.count_declined]));
  const z = from.map((f) => to.map((t) => value(cell.get(`${f}|${t}`))));
  const marks = [];
  for (const f of from) for (const t of to) if (isSuppressed(cell.get(`${f}|${t}`))) marks.push({ x: t, y: f, what: `${f} → ${t}` });
  const traces = [{
    type: "heatmap", name: label("count_declined"), x: to, y: from, z,
    colorscale: [[0, "#eff6ff"], [0.5, "#60a5fa"], [1, "#1e3a8a"]],
    zmin: 0, xgap: 2, ygap: 2, hoverongaps: false,
    texttemplate: "%{z}", textfont: { size: 12 },
    showscale: false,
    hovertemplate: "%{y} → %{x}: %{z} declined or redirected<extra></extra>",
  }];
  if (marks.length) traces.push(suppressedTrace(marks, { marker: { symbol: "x", size: 12, color: "#111827" } }));
  return {
    traces,
    layout: layout({
      height: Math.max(360, 140 + 30 * from.length),
      margin: { l: 150, b: 140 },
      showlegend: marks.length > 0,
      legend: { y: -0.5 },
      xaxis: { type: "category", title: { text: "Referred to (declined or redirected by)" }, tickangle: -35, showgrid: false },
      yaxis: { type: "category", title: { text: "Referred from" }, autorange: "reversed", showgrid: false },
    }),
    columns: columns(answer, ["from_agency", "to_agency"]),
    rows: [...detail, ...totals.map((r) => ({ ...r, total: true }))],
  };
}

export function journeys(answer, state, active) {
  const dims = ["pathway", ...active];
  const rows = matching(rowsWith(answer, dims), state.applied);
  const nodes = new Map();
  const links = new Map();
  const agencies = distinct(rows.flatMap((r) => r.pathway.split(" > ").map((agency) => ({ agency }))), "agency");
  const node = (agency, step) => {
    const id = `${step}|${agency}`;
    if (!nodes.has(id)) nodes.set(id, { index: nodes.size, label: agency, step, colour: COLOURS[agencies.indexOf(agency) % COLOURS.length] });
    return nodes.get(id).index;
  };
  let left = 0;
  for (const row of rows) {
    const people = value(row.count_people);
    if (people === null) {
      left += isSuppressed(row.count_people) ? 1 : 0;
      continue;
    }
    const steps = row.pathway.split(" > ");
    for (let i = 0; i + 1 < steps.length; i++) {
      const id = `${node(steps[i], i + 1)}>${node(steps[i + 1], i + 2)}`;
      links.set(id, (links.get(id) || 0) + people);
    }
  }
  const ordered = [...nodes.values()].sort((a, b) => a.index - b.index);
  const pairs = [...links.entries()].map(([id, n]) => [...id.split(">").map(Number), n]);
  const traces = [{
    type: "sankey",
    arrangement: "snap",
    valueformat: "d",
    node: {
      label: ordered.map((n) => n.label),
      customdata: ordered.map((n) => `step ${n.step}`),
      color: ordered.map((n) => n.colour),
      pad: 12, thickness: 18, line: { color: "#ffffff", width: 1 },
      hovertemplate: "%{label} (%{customdata}): %{value} people<extra></extra>",
    },
    link: {
      source: pairs.map((p) => p[0]), target: pairs.map((p) => p[1]), value: pairs.map((p) => p[2]),
      color: pairs.map((p) => `${ordered[p[0]].colour}55`),
      hovertemplate: "%{source.label} → %{target.label}: %{value} people<extra></extra>",
    },
  }];
  const sorted = [...rows].sort((a, b) => (value(b.count_people) ?? -1) - (value(a.count_people) ?? -1) || a.pathway.localeCompare(b.pathway));
  return {
    traces,
    layout: layout({ height: Math.max(420, 26 * nodes.size), margin: { l: 8, r: 8, t: 8, b: 8 }, font: { size: 12 } }),
    columns: columns(answer, dims),
    rows: sorted,
    extra: left ? `${left} of ${rows.length} pathways have a suppressed count and are left out of the flows; the table lists them.` : "",
  };
}
