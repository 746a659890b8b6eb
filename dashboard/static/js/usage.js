// The usage page: requests per key per day as a stacked bar chart (hand-drawn SVG) and a table.

import { formatDate, h, replace } from "./dom.js";
import { empty, errorBox, loading } from "./ui.js";

const DAYS = 30;
const COLORS = ["#3b5bdb", "#f08c00", "#2f9e44", "#c2255c", "#0c8599", "#7048e8", "#e8590c", "#5c940d"];
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  el.append(...children);
  return el;
}

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

// Last DAYS days (UTC, as the API counts them) with zeros where nothing was recorded.
function series(rows) {
  const days = [];
  const today = new Date();
  for (let i = DAYS - 1; i >= 0; i -= 1) days.push(isoDay(new Date(today.getTime() - i * 86400000)));
  const keys = new Map();
  for (const row of rows) {
    if (!keys.has(row.key_id)) keys.set(row.key_id, { id: row.key_id, name: row.key_name || row.key_id, perDay: new Map(), total: 0 });
    const key = keys.get(row.key_id);
    key.perDay.set(row.day, (key.perDay.get(row.day) || 0) + row.requests);
    key.total += row.requests;
  }
  const list = [...keys.values()].sort((a, b) => b.total - a.total);
  list.forEach((key, index) => { key.color = COLORS[index % COLORS.length]; });
  return { days, keys: list };
}

function niceMax(value) {
  if (value <= 5) return 5;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * magnitude).find((candidate) => candidate >= value);
}

function chart({ days, keys }) {
  const width = 720; const height = 260; const left = 48; const bottom = 28; const top = 12;
  const totals = days.map((day) => keys.reduce((sum, key) => sum + (key.perDay.get(day) || 0), 0));
  const max = niceMax(Math.max(...totals, 1));
  const plotHeight = height - bottom - top;
  const slot = (width - left) / days.length;
  const y = (value) => top + plotHeight - (value / max) * plotHeight;
  const grid = [0, 0.5, 1].map((fraction) => {
    const value = Math.round(max * fraction);
    return svg("g", { class: "grid" },
      svg("line", { x1: left, x2: width, y1: y(value), y2: y(value) }),
      svg("text", { x: left - 6, y: y(value) + 4, "text-anchor": "end" }, String(value)));
  });
  const bars = days.map((day, index) => {
    let base = 0;
    const x = left + index * slot + slot * 0.15;
    const parts = keys.filter((key) => key.perDay.get(day)).map((key) => {
      const value = key.perDay.get(day);
      const rect = svg("rect", { x, width: slot * 0.7, y: y(base + value), height: Math.max(y(base) - y(base + value), 1), fill: key.color },
        svg("title", {}, `${formatDate(day + "T12:00:00Z")} — ${key.name}: ${value} requests`));
      base += value;
      return rect;
    });
    return svg("g", {}, ...parts);
  });
  const labels = days.filter((_, index) => index % 7 === 0 || index === days.length - 1).map((day) => {
    const index = days.indexOf(day);
    return svg("text", { x: left + index * slot + slot / 2, y: height - 8, "text-anchor": "middle", class: "axis" }, day.slice(5));
  });
  const total = totals.reduce((a, b) => a + b, 0);
  return svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": `Requests per day over the last ${DAYS} days, ${total} in total, stacked by key.` }, ...grid, ...bars, ...labels);
}

function legendAndTable({ keys }) {
  return h(
    "table",
    { class: "table usage-table", id: "usage-table" },
    h("caption", {}, `Requests per key, last ${DAYS} days`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Key"), h("th", { scope: "col", class: "num" }, "Requests"))),
    h("tbody", {}, keys.map((key) => h("tr", {},
      h("td", { "data-label": "Key" }, h("span", { class: "swatch", style: null, "aria-hidden": "true", dataset: { color: key.color } }), key.name),
      h("td", { "data-label": "Requests", class: "num" }, key.total.toLocaleString())))),
  );
}

export function renderUsage(ctx) {
  const { container } = ctx;
  async function load() {
    replace(container, loading("Loading usage…"));
    try {
      const { data } = await ctx.api.get(`/console/usage?days=${DAYS}&group_by=key,day`);
      if (!data.length) {
        replace(container, empty("No requests yet", `Requests made with this organization's keys in the last ${DAYS} days appear here, per key and day.`));
        return;
      }
      const prepared = series(data);
      const table = legendAndTable(prepared);
      replace(container, h("figure", { class: "chart-figure" }, chart(prepared), h("figcaption", { class: "muted" }, "Requests per day (UTC), stacked by key. Hover a bar for its numbers.")), table);
      // Colours come from data, set through CSSOM: the CSP forbids inline style attributes.
      for (const swatch of table.querySelectorAll(".swatch")) swatch.style.backgroundColor = swatch.dataset.color;
    } catch (error) {
      if (ctx.handle(error)) replace(container, errorBox(error, load));
    }
  }
  load();
}
