// The usage page: the total and range, requests per day stacked by key (HTML bars, so the text
// keeps its size on a phone), a readout that hover, touch and the keyboard all reach, and a
// table per key.

import { h, replace } from "./dom.js";
import { empty, errorBox, loading } from "./ui.js";

const RANGES = [7, 30, 90];
const COLORS = ["#4f46e5", "#d97706", "#059669", "#db2777", "#0891b2", "#7c3aed", "#ea580c", "#65a30d"];
const DAY_MS = 86400000;
const shortDate = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
const longDate = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });
const number = new Intl.NumberFormat();

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

const dayDate = (day) => new Date(`${day}T00:00:00Z`);

// The last `days` days (UTC, as the API counts them) with zeros where nothing was recorded.
export function series(rows, days, today = new Date()) {
  const list = [];
  for (let i = days - 1; i >= 0; i -= 1) list.push(isoDay(new Date(today.getTime() - i * DAY_MS)));
  const keys = new Map();
  for (const row of rows) {
    if (!keys.has(row.key_id)) {
      const label = row.key_last4 ? `${row.key_name || row.key_id} …${row.key_last4}` : row.key_name || row.key_id;
      keys.set(row.key_id, { id: row.key_id, name: row.key_name || row.key_id, last4: row.key_last4, label, perDay: new Map(), total: 0 });
    }
    const key = keys.get(row.key_id);
    key.perDay.set(row.day, (key.perDay.get(row.day) || 0) + row.requests);
    key.total += row.requests;
  }
  const sorted = [...keys.values()].sort((a, b) => b.total - a.total);
  sorted.forEach((key, index) => { key.color = COLORS[index % COLORS.length]; });
  const totals = list.map((day) => sorted.reduce((sum, key) => sum + (key.perDay.get(day) || 0), 0));
  return { days: list, keys: sorted, totals, total: totals.reduce((a, b) => a + b, 0) };
}

function niceMax(value) {
  if (value <= 5) return 5;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * magnitude).find((candidate) => candidate >= value);
}

function dayText(prepared, index) {
  const day = prepared.days[index];
  const parts = prepared.keys.filter((key) => key.perDay.get(day)).map((key) => `${key.label}: ${number.format(key.perDay.get(day))}`);
  const total = prepared.totals[index];
  return `${longDate.format(dayDate(day))}: ${number.format(total)} request${total === 1 ? "" : "s"}${parts.length ? ` (${parts.join(", ")})` : ""}`;
}

function chart(prepared) {
  const { days, keys, totals } = prepared;
  const max = niceMax(Math.max(...totals, 1));
  const readout = h("p", { class: "chart-readout", id: "chart-readout" }, "Point at a day, or focus the chart and use the arrow keys, to see its numbers.");
  const bars = days.map((day, index) => {
    const bar = h("button", { type: "button", class: "bar", tabindex: index === days.length - 1 ? "0" : "-1", "aria-label": dayText(prepared, index), dataset: { day, index: String(index) } });
    for (const key of keys) {
      const value = key.perDay.get(day);
      if (!value) continue;
      const segment = h("span", { class: "bar-segment", "aria-hidden": "true" });
      // Sizes and colours come from data, set through CSSOM: the CSP forbids style attributes.
      segment.style.height = `${(value / max) * 100}%`;
      segment.style.backgroundColor = key.color;
      bar.append(segment);
    }
    return bar;
  });
  const show = (bar) => {
    readout.textContent = bar.getAttribute("aria-label");
    for (const other of bars) other.classList.toggle("bar-current", other === bar);
  };
  const plot = h("div", { class: "chart-plot", role: "group", "aria-label": `Requests per day, ${days.length} days; use the arrow keys to move between days` }, bars);
  plot.addEventListener("keydown", (event) => {
    const index = bars.indexOf(document.activeElement);
    if (index < 0) return;
    const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: bars.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const next = bars[Math.max(0, Math.min(bars.length - 1, moves[event.key]))];
    bars[index].tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  });
  for (const bar of bars) {
    bar.addEventListener("focus", () => show(bar));
    bar.addEventListener("mouseenter", () => show(bar));
    bar.addEventListener("click", () => show(bar));
  }
  const middle = Math.floor((days.length - 1) / 2);
  const xLabels = [0, middle, days.length - 1].map((index) => h("span", {}, shortDate.format(dayDate(days[index]))));
  return h(
    "div",
    { class: "chart" },
    h("div", { class: "chart-body" },
      h("div", { class: "chart-y", "aria-hidden": "true" }, [max, max / 2, 0].map((value) => h("span", {}, Number.isInteger(value) ? number.format(value) : ""))),
      h("div", { class: "chart-area" }, h("div", { class: "chart-grid", "aria-hidden": "true" }), plot)),
    h("div", { class: "chart-x", "aria-hidden": "true" }, xLabels),
    readout,
  );
}

function keyTable({ keys, total }, days) {
  return h(
    "table",
    { class: "table usage-table", id: "usage-table" },
    h("caption", {}, `Requests per key, last ${days} days`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Key"), h("th", { scope: "col", class: "num" }, "Requests"), h("th", { scope: "col", class: "num" }, "Share"))),
    h("tbody", {}, keys.map((key) => h("tr", {},
      h("td", { "data-label": "Key" }, h("span", { class: "key-label" }, h("span", { class: "swatch", "aria-hidden": "true", dataset: { color: key.color } }), h("span", { class: "truncate", title: key.label }, key.name), key.last4 ? h("code", { class: "muted" }, ` …${key.last4}`) : null)),
      h("td", { "data-label": "Requests", class: "num" }, number.format(key.total)),
      h("td", { "data-label": "Share", class: "num" }, total ? `${Math.round((key.total / total) * 100)}%` : "—")))),
  );
}

export function renderUsage(ctx) {
  const { container } = ctx;
  let days = 30;
  const rangeButtons = RANGES.map((value) => h("button", { type: "button", class: "segment", "aria-pressed": String(value === days), dataset: { days: String(value) } }, `${value} days`));
  const rangeGroup = h("div", { class: "segmented", role: "group", "aria-label": "Range" }, rangeButtons);
  const slot = h("div", { class: "usage-slot" });
  for (const button of rangeButtons) {
    button.addEventListener("click", () => {
      days = Number(button.dataset.days);
      for (const other of rangeButtons) other.setAttribute("aria-pressed", String(other === button));
      load();
    });
  }
  replace(container, h("div", { class: "toolbar" }, h("p", { class: "muted" }, "Requests made with this organization's keys, counted per UTC day."), rangeGroup), slot);

  async function load() {
    replace(slot, loading("Loading usage…"));
    try {
      const { data } = await ctx.api.get(`/console/usage?days=${days}&group_by=key,day&mode=${ctx.mode}`);
      const prepared = series(data, days);
      const first = prepared.days[0];
      const last = prepared.days[prepared.days.length - 1];
      const summary = h("div", { class: "stats" },
        h("div", { class: "stat" }, h("p", { class: "stat-label" }, "Total requests"), h("p", { class: "stat-value", id: "usage-total" }, number.format(prepared.total))),
        h("div", { class: "stat" }, h("p", { class: "stat-label" }, "Keys used"), h("p", { class: "stat-value" }, number.format(prepared.keys.length))),
        h("div", { class: "stat stat-range" }, h("p", { class: "stat-label" }, "Range"), h("p", { class: "stat-value stat-value-small", id: "usage-range" }, `${longDate.format(dayDate(first))} – ${longDate.format(dayDate(last))}`)));
      if (!data.length) {
        replace(slot, summary, empty("No requests yet", `Requests made with this organization's keys in the last ${days} days appear here, per key and day.`,
          ctx.can("org:api_keys:read") ? h("a", { class: "button", href: "/dashboard/keys" }, "Go to API keys") : null));
        return;
      }
      const table = keyTable(prepared, days);
      replace(slot, summary, h("figure", { class: "card chart-figure" }, h("figcaption", { class: "chart-caption" }, "Requests per day (UTC), stacked by key"), chart(prepared)), table);
      for (const swatch of table.querySelectorAll(".swatch")) swatch.style.backgroundColor = swatch.dataset.color;
    } catch (error) {
      if (ctx.handle(error)) replace(slot, errorBox(error, load));
    }
  }
  load();
}
