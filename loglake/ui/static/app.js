// LogLake console. Every value from the lake reaches the page through textContent (never innerHTML),
// so a log line is always text. State lives in the URL, so every view can be linked and bookmarked.
"use strict";

const LEVEL_COLOURS = {
  TRACE: "#a3a3a3", DEBUG: "#60a5fa", INFO: "#22c55e", NOTICE: "#14b8a6", WARN: "#f59e0b",
  ERROR: "#ef4444", CRITICAL: "#b91c1c", FATAL: "#7f1d1d", NULL: "#d4d4d4", ALL: "#2563eb",
};
const PALETTE = ["#2563eb", "#f59e0b", "#22c55e", "#ef4444", "#8b5cf6", "#14b8a6", "#ec4899", "#64748b"];

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(child == null ? "" : String(child)));
  }
  return node;
}

const ISO_TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2}(?:\.\d+)?)\+00:00$/;

function text(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === "object") return JSON.stringify(value);
  const time = typeof value === "string" && ISO_TIME.exec(value);
  return time ? `${time[1]} ${time[2]}Z` : String(value);  // the tables hold UTC
}

function cell(value, numeric) {
  const shown = text(value);
  if (shown === null) return el("td", { class: "null" }, "NULL");
  return el("td", numeric ? { class: "num" } : {}, shown);
}

async function api(path, params) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(params || {})) if (v !== null && v !== undefined && v !== "") url.searchParams.set(k, v);
  const response = await fetch(url, { credentials: "same-origin" });
  const body = await response.json();
  const problem = document.getElementById("problem");
  if (!response.ok) {
    problem.hidden = false;
    problem.textContent = body.error + (body.hint ? "\n" + body.hint : "");
    throw new Error(body.error);
  }
  problem.hidden = true;
  return body;
}

function params() { return new URLSearchParams(location.search); }

function go(changes) {
  const p = params();
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined || v === "") p.delete(k);
    else p.set(k, v);
  }
  history.pushState(null, "", location.pathname + (p.toString() ? "?" + p : ""));
  route();
}

function fillHead(table, columns) {
  const head = table.tHead;
  head.replaceChildren(el("tr", {}, ...columns.map((c) => el("th", {}, c))));
}

// --- explorer ------------------------------------------------------------------------------------

const RANGES = { "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3 };

function window_() {
  const p = params();
  let from = p.get("from"), to = p.get("to");
  const range = p.get("range");
  if (!from && RANGES[range]) { to = Date.now(); from = to - RANGES[range]; }
  return { from, to, q: p.get("q") || "" };
}

let histogramPlot = null;

function drawHistogram(data) {
  const box = document.getElementById("histogram");
  box.replaceChildren();
  if (histogramPlot) { histogramPlot.destroy(); histogramPlot = null; }
  if (!data.times.length) { box.append(el("p", { class: "note" }, "no events in this range")); return; }
  const order = Object.keys(data.levels).sort();
  const xs = data.times.map((t) => t / 1000);
  const stacked = [];
  let running = xs.map(() => 0);
  for (const level of order) {
    running = running.map((v, i) => v + data.levels[level][i]);
    stacked.push(running);
  }
  // Drawn tallest first, so each level's own band shows on top of the ones below it.
  const series = [{}];
  const columns = [xs];
  for (let i = order.length - 1; i >= 0; i--) {
    const level = order[i];
    series.push({
      label: level, fill: LEVEL_COLOURS[level] || PALETTE[i % PALETTE.length], stroke: "transparent",
      paths: uPlot.paths.bars({ size: [0.9, 60] }), points: { show: false },
      value: (u, v, s, idx) => (idx == null ? "" : data.levels[level][idx]),
    });
    columns.push(stacked[i]);
  }
  histogramPlot = new uPlot({
    width: box.clientWidth || 900, height: 180, series,
    cursor: { drag: { x: true, y: false } },
    scales: { y: { range: (u, min, max) => [0, Math.max(1, max)] } },
    hooks: {
      setSelect: [(u) => {
        if (u.select.width < 4) return;
        const from = Math.floor(u.posToVal(u.select.left, "x") * 1000);
        const to = Math.ceil(u.posToVal(u.select.left + u.select.width, "x") * 1000);
        go({ from, to, range: null });
      }],
    },
  }, columns, box);
  box.dataset.levels = order.join(",");
}

function eventRow(row, columns) {
  const main = el("tr", { class: "event" },
    cell(row.timestamp ?? row.processed_timestamp),
    el("td", { class: "level" }, text(row.level) ?? ""),
    el("td", { class: "msg" }, text(row.message) ?? ""),
    el("td", {}, (text(row.source_uri) || "").split("/").pop() + ":" + row.source_line));
  main.addEventListener("click", () => {
    if (main.nextSibling && main.nextSibling.classList.contains("detail")) { main.nextSibling.remove(); return; }
    const dl = el("dl");
    for (const c of columns) if (row[c] !== null && row[c] !== undefined) dl.append(el("dt", {}, c), el("dd", {}, text(row[c])));
    main.after(el("tr", { class: "detail" }, el("td", { colspan: "4" }, dl)));
  });
  return main;
}

function addFilter(field, value) {
  const q = (params().get("q") || "").trim();
  const term = /[\s"]/.test(value) ? `${field}:"${value.replaceAll('"', "")}"` : `${field}:${value}`;
  go({ q: (q ? q + " " : "") + term });
}

async function explorer() {
  const w = window_();
  const form = document.getElementById("search");
  document.getElementById("q").value = w.q;
  document.getElementById("range").value = params().get("range") || "all";
  form.onsubmit = (e) => {
    e.preventDefault();
    go({ q: document.getElementById("q").value, range: document.getElementById("range").value, from: null, to: null });
  };
  document.getElementById("reset").onclick = () => go({ from: null, to: null });
  const args = { q: w.q, from: w.from, to: w.to };
  const [hist, events, fields] = await Promise.all([
    api("/api/histogram", args), api("/api/events", { ...args, limit: 100 }), api("/api/fields", args),
  ]);
  drawHistogram(hist);
  document.getElementById("summary").textContent =
    `${events.total.toLocaleString()} events` + (events.total > events.rows.length ? `, the latest ${events.rows.length} shown` : "");
  const table = document.getElementById("events");
  fillHead(table, ["time", "level", "message", "source"]);
  table.tBodies[0].replaceChildren(...events.rows.map((r) => eventRow(r, events.columns)));
  const side = document.getElementById("fields");
  side.replaceChildren();
  for (const [field, values] of Object.entries(fields)) {
    side.append(el("h4", {}, field));
    for (const [value, n] of values) {
      const link = el("a", { href: "#", "data-field": field }, el("span", {}, value), el("small", {}, n.toLocaleString()));
      link.addEventListener("click", (e) => { e.preventDefault(); addFilter(field, value); });
      side.append(link);
    }
  }
}

// --- SQL -----------------------------------------------------------------------------------------

let chartPlot = null;

function drawChart(result) {
  const box = document.getElementById("chart");
  if (chartPlot) { chartPlot.destroy(); chartPlot = null; }
  box.replaceChildren();
  const x = document.getElementById("xcol").value, y = document.getElementById("ycol").value;
  if (!x || !y) return;
  const labels = result.rows.map((r) => text(r[x]) ?? "NULL");
  const numericX = result.rows.every((r) => typeof r[x] === "number");
  const xs = numericX ? result.rows.map((r) => r[x]) : labels.map((_, i) => i);
  const ys = result.rows.map((r) => (typeof r[y] === "number" ? r[y] : Number(r[y])));
  const bar = document.getElementById("kind").value === "bar";
  chartPlot = new uPlot({
    width: box.clientWidth || 900, height: 240,
    scales: { x: { time: false }, y: { range: (u, min, max) => [Math.min(0, min), Math.max(1, max)] } },
    axes: [{ values: numericX ? undefined : (u, ticks) => ticks.map((t) => labels[t] ?? "") }, {}],
    series: [{ value: (u, v, s, i) => (i == null ? "" : labels[i]) }, {
      label: y, stroke: PALETTE[0], fill: bar ? PALETTE[0] : undefined,
      paths: bar ? uPlot.paths.bars({ size: [0.7, 80] }) : undefined,
    }],
  }, [xs, ys], box);
  box.dataset.points = String(ys.length);
}

async function sqlPage() {
  const q = params().get("q");
  const area = document.getElementById("sqltext");
  const info = await api("/api/sql");
  area.value = q || info.examples[1];
  const examples = document.getElementById("examples");
  examples.replaceChildren("examples: ", ...info.examples.map((sql, i) => {
    const b = el("button", { type: "button" }, `tutorial ${i + 1}`);
    b.addEventListener("click", () => { area.value = sql; });
    return b;
  }));
  document.getElementById("sqlform").onsubmit = (e) => { e.preventDefault(); go({ q: area.value }); };
  if (!q) return;
  const status = document.getElementById("status");
  status.textContent = "running…";
  let result;
  try { result = await api("/api/sql", { q }); } catch (err) { status.textContent = ""; return; }
  status.textContent = `${result.total.toLocaleString()} rows` +
    (result.total > result.rows.length ? `, ${result.rows.length.toLocaleString()} shown` : "") + ` · ${result.seconds.toFixed(3)} s`;
  const numeric = result.types.map((t) => /int|float|double|decimal/.test(t));
  const table = document.getElementById("result");
  fillHead(table, result.columns);
  table.tBodies[0].replaceChildren(...result.rows.map((r) => el("tr", {}, ...result.columns.map((c, i) => cell(r[c], numeric[i])))));
  const bar = document.getElementById("chartbar");
  bar.hidden = false;
  const xcol = document.getElementById("xcol"), ycol = document.getElementById("ycol");
  xcol.replaceChildren(...result.columns.map((c) => el("option", { value: c }, c)));
  ycol.replaceChildren(...result.columns.map((c) => el("option", { value: c }, c)));
  const firstNumeric = result.columns.find((c, i) => numeric[i]);
  const firstOther = result.columns.find((c, i) => !numeric[i]) || result.columns[0];
  xcol.value = firstOther;
  if (firstNumeric) ycol.value = firstNumeric;
  for (const s of [xcol, ycol, document.getElementById("kind")]) s.onchange = () => drawChart(result);
  document.getElementById("download").href = "/api/sql.csv?q=" + encodeURIComponent(q);
  if (firstNumeric && result.rows.length) drawChart(result);
}

// --- errors --------------------------------------------------------------------------------------

let errorPlot = null;

async function errorsPage() {
  const p = params();
  const data = await api("/api/errors", { reason: p.get("reason"), source: p.get("source") });
  const reason = document.getElementById("reason");
  reason.replaceChildren(el("option", { value: "" }, "every reason"),
    ...data.reasons.map((r) => el("option", { value: r.error_code }, `${r.error_code} (${r.n})`)));
  reason.value = p.get("reason") || "";
  document.getElementById("source").value = p.get("source") || "";
  document.getElementById("errform").onsubmit = (e) => {
    e.preventDefault();
    go({ reason: reason.value, source: document.getElementById("source").value });
  };
  document.getElementById("status").textContent =
    `${data.total.toLocaleString()} failing lines` + (data.total > data.rows.length ? `, the latest ${data.rows.length} shown` : "");
  const times = [...new Set(data.over_time.map((r) => r.t))].sort((a, b) => a - b);
  if (times.length === 1) times.unshift(times[0] - 3600e3), times.push(times[1] + 3600e3);  // one hour: a visible spike
  const codes = [...new Set(data.over_time.map((r) => r.error_code))].sort();
  const box = document.getElementById("errchart");
  if (errorPlot) { errorPlot.destroy(); errorPlot = null; }
  box.replaceChildren();
  if (times.length) {
    const columns = [times.map((t) => t / 1000)];
    const series = [{}];
    codes.forEach((code, i) => {
      const counts = times.map((t) => {
        const hit = data.over_time.find((r) => r.t === t && r.error_code === code);
        return hit ? hit.n : 0;
      });
      columns.push(counts);
      series.push({ label: code, stroke: PALETTE[i % PALETTE.length], width: 2, points: { show: true, size: 6 } });
    });
    errorPlot = new uPlot({ width: box.clientWidth || 900, height: 180, series, scales: { y: { range: (u, a, b) => [0, Math.max(1, b)] } } }, columns, box);
  }
  const body = document.querySelector("#errors tbody");
  body.replaceChildren(...data.rows.map((r) => {
    const raw = r.raw_line !== null ? r.raw_line : "base64: " + (r.raw_line_b64 || "");
    return el("tr", {}, el("td", {}, text(r.source_uri)), el("td", { class: "num" }, r.source_line),
      el("td", {}, text(r.error_code)), el("td", {}, text(r.error_message)), el("td", { class: "raw" }, raw));
  }));
}

// --- objects -------------------------------------------------------------------------------------

function bytes(n) {
  if (n === null || n === undefined) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(1) : n) + " " + units[i];
}

async function objectsPage() {
  const rows = await api("/api/objects");
  const failed = rows.filter((r) => r.status === "failed").length, waiting = rows.filter((r) => r.status === "waiting").length;
  document.getElementById("status").textContent = `${rows.length} objects: ${failed} failed, ${waiting} waiting in raw/`;
  document.querySelector("#objects tbody").replaceChildren(...rows.map((r) => el("tr", {},
    el("td", { class: "status-" + r.status }, r.status), el("td", {}, r.source_uri), el("td", {}, r.format ?? ""),
    el("td", { class: "num" }, bytes(r.bytes)), cell(r.lines, true), cell(r.processed, true), cell(r.errors, true),
    el("td", {}, (r.processed_at || "").slice(0, 19).replace("T", " ")), el("td", { class: "raw" }, r.error ?? ""))));
}

function route() {
  const page = document.body.dataset.page;
  const run = { explorer, sql: sqlPage, errors: errorsPage, objects: objectsPage }[page];
  run().catch(() => {}).finally(() => { document.body.dataset.ready = String(Date.now()); });
}

window.addEventListener("popstate", route);
route();
