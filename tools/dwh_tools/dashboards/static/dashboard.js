// The page's filters and "Download CSV", over the rows embedded beside each chart.
// Each chart's figure is drawn (by Plotly, from the page) over all its rows; a filter keeps the
// points whose rows pass it and redraws the chart with Plotly.react. No network is used.
(function () {
  "use strict";

  const ALONG = ["x", "y", "z", "text", "hovertext", "customdata", "ids", "width",
                 "marker.color", "marker.size", "marker.opacity"];
  const charts = {};
  // window.dwhDashboard: apply(filter), csv(key), filter() and drawn, the latest redraw.
  const api = {apply: apply, csv: csv, filter: () => current, drawn: Promise.resolve()};
  let current = {from: "", to: "", state: ""};

  function read(key) {
    const spec = JSON.parse(document.getElementById("chart-data-" + key).textContent);
    const div = document.getElementById("chart-" + key);
    const chart = {key: key, spec: spec, div: div, kept: spec.rows.map(() => true)};
    if (div && div.data && spec.traces) {
      // The figure as drawn from Python, before any filter: every filter starts from it.
      chart.data = div.data.map((t) => clone(t));
      chart.layout = clone(div.layout);
    }
    charts[key] = chart;
  }

  function clone(value) {
    if (Array.isArray(value)) return value.map(clone);
    if (ArrayBuffer.isView(value)) return Array.from(value);
    if (value && typeof value === "object") {
      const out = {};
      for (const k of Object.keys(value)) out[k] = clone(value[k]);
      return out;
    }
    return value;
  }

  // The rows a filter keeps: their source applies (all-states rows only while no state is
  // chosen, a state's own rows only while one is), their date is in the range (compared at the
  // inputs' precision: "2024-01" against a month, "2024-01-31" against a day), their state is the
  // chosen one; then the last N dates (or rows) of those.
  function keep(spec, f) {
    const cols = spec.sources.map((s) => ({
      date: spec.date ? s.columns.indexOf(spec.date) : -1,
      state: spec.state ? s.columns.indexOf(spec.state) : -1,
    }));
    const active = spec.sources.map((s) =>
      s.scope === "any" || (s.scope === "all" ? !f.state : Boolean(f.state)));
    const kept = spec.rows.map(([src, values]) => {
      if (!active[src]) return false;
      const c = cols[src];
      if (c.date >= 0) {
        const d = String(values[c.date]);
        if (f.from && d.slice(0, f.from.length) < f.from) return false;
        if (f.to && d.slice(0, f.to.length) > f.to) return false;
      }
      if (c.state >= 0 && f.state && values[c.state] !== f.state) return false;
      return true;
    });
    if (spec.last) {
      const at = spec.rows.map((r, n) => n).filter((n) => kept[n]);
      let last;
      if (spec.last_by === "rows") {
        last = new Set(at.slice(-spec.last));
      } else {
        const dateOf = (n) => spec.rows[n][1][cols[spec.rows[n][0]].date];
        const dates = [...new Set(at.map(dateOf))].sort().slice(-spec.last);
        last = new Set(at.filter((n) => dates.includes(dateOf(n))));
      }
      return kept.map((k, n) => k && last.has(n));
    }
    return kept;
  }

  function pick(trace, path, idx, n) {
    const parts = path.split(".");
    let obj = trace;
    for (const p of parts.slice(0, -1)) {
      if (!obj || typeof obj !== "object") return;
      obj = obj[p];
    }
    const name = parts[parts.length - 1];
    if (!obj || !Array.isArray(obj[name]) || obj[name].length !== n) return;
    obj[name] = idx.map((i) => obj[name][i]);
  }

  function redraw(chart) {
    const spec = chart.spec;
    if (!chart.data) return Promise.resolve();
    const along = spec.along || ALONG;
    const data = chart.data.map((full, t) => {
      const points = spec.traces[t] || [];
      const idx = points.map((row, i) => i).filter((i) => chart.kept[points[i]]);
      const trace = clone(full);
      for (const path of along) pick(trace, path, idx, points.length);
      trace.visible = idx.length > 0;
      return trace;
    });
    // The layout from before any zoom: autoranged axes fit the kept points, fixed ones stay.
    const layout = clone(chart.layout);
    if (spec.title && spec.last === 1) {
      const shown = spec.rows.filter((r, n) => chart.kept[n]);
      const col = spec.sources[0].columns.indexOf(spec.date);
      const card = chart.div.closest(".card");
      card.querySelector("h2").textContent =
        shown.length ? spec.title + ", " + shown[0][1][col] : spec.title;
    }
    const note = chart.div.closest(".card").querySelector("[data-filtered-empty]");
    if (note) note.hidden = chart.kept.some(Boolean);
    return Plotly.react(chart.div, data, layout);
  }

  // Apply a filter ({from, to, state}; "" is no bound) to every chart; resolves once redrawn.
  function apply(f) {
    current = {from: f.from || "", to: f.to || "", state: f.state || ""};
    const drawn = [];
    for (const chart of Object.values(charts)) {
      const spec = chart.spec;
      if (!spec.traces || (!spec.date && !spec.state)) continue;
      chart.kept = keep(spec, current);
      drawn.push(redraw(chart));
    }
    links();
    api.drawn = Promise.all(drawn);
    return api.drawn;
  }

  function field(value) {
    if (value === null || value === undefined) return "";
    const s = String(value);
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  // The chart's rows as the filter keeps them, as CSV (RFC 4180: CRLF line ends, fields with a
  // comma, quote or line break quoted, quotes doubled) under the mart's column names.
  function csv(key) {
    const chart = charts[key];
    const spec = chart.spec;
    const rows = spec.rows.filter((r, n) => chart.kept[n]);
    const shown = spec.sources.findIndex((s) =>
      s.scope === "any" || (s.scope === "all" ? !current.state : Boolean(current.state)));
    const columns = spec.sources[rows.length ? rows[0][0] : Math.max(shown, 0)].columns;
    const lines = [columns.map(field).join(",")];
    for (const [, values] of rows) lines.push(values.map(field).join(","));
    return lines.join("\r\n") + "\r\n";
  }

  // Each "Download CSV" link holds a Blob of its chart's rows as filtered, made anew after every
  // filter and on every click (before the click's default action reads the link).
  function link(a) {
    const blob = new Blob([csv(a.dataset.csv)], {type: "text/csv;charset=utf-8"});
    if (a.href.startsWith("blob:")) URL.revokeObjectURL(a.href);
    a.href = URL.createObjectURL(blob);
  }

  function links() {
    for (const a of document.querySelectorAll("a[data-csv]")) link(a);
  }

  function fromForm(form) {
    const value = (name) => (form.elements[name] ? form.elements[name].value : "");
    return {from: value("from"), to: value("to"), state: value("state")};
  }

  for (const el of document.querySelectorAll("script[data-chart-rows]")) read(el.dataset.chartRows);
  for (const a of document.querySelectorAll("a[data-csv]")) {
    a.addEventListener("click", () => link(a));
  }
  const form = document.querySelector("form[data-filters]");
  if (form) {
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("change", () => apply(fromForm(form)));
    form.addEventListener("reset", () => setTimeout(() => apply(fromForm(form)), 0));
  }
  window.dwhDashboard = api;
  apply(form ? fromForm(form) : current);
})();
