// Small DOM helpers. Everything is built with createElement/textContent — never innerHTML —
// so no value from the API can become markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (name in el && typeof value !== "string") {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? "" : value);
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function replace(container, ...children) {
  container.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const exact = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "long" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const compact = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const STEPS = [
  ["year", 365 * 86400], ["month", 30 * 86400], ["week", 7 * 86400],
  ["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1],
];

export function relativeTime(date, now = new Date()) {
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  if (Math.abs(seconds) < 45) return seconds <= 0 ? "just now" : "in a few seconds";
  for (const [index, [unit, size]] of STEPS.entries()) {
    if (Math.abs(seconds) < size) continue;
    const value = Math.round(seconds / size);
    // A value that rounds up to a whole larger unit is said in it: an hour less a second is
    // "in 1 hour", never "in 60 minutes".
    const [largerUnit, largerSize] = STEPS[index - 1] || [];
    if (largerSize && Math.abs(value) * size >= largerSize) return relative.format(Math.sign(value), largerUnit);
    return relative.format(value, unit);
  }
  return relative.format(seconds, "second");
}

// <time> with a relative label and the exact moment on hover (title) and for machines.
export function timeEl(iso, { style = "relative", empty = "—" } = {}) {
  if (!iso) return h("span", { class: "muted" }, empty);
  const date = new Date(iso);
  const label = style === "date" ? dateOnly.format(date) : relativeTime(date);
  return h("time", { datetime: date.toISOString(), title: exact.format(date) }, label);
}

// What is left until `date`, rounded down so it never promises more time than there is:
// "59 min", "23 h 5 min", "6 days 23 h", "less than a minute".
export function timeLeft(date, now = new Date()) {
  const minutes = Math.floor((date.getTime() - now.getTime()) / 60000);
  if (minutes < 1) return "less than a minute";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} days ${hours % 24} h` : `${days} days`;
}

export function formatExact(iso) {
  return iso ? exact.format(new Date(iso)) : "";
}

// Date and time to the minute, for a cell ("Nov 30, 2026, 4:34 PM").
export function formatCompact(iso) {
  return iso ? compact.format(new Date(iso)) : "";
}

export function formatDate(iso) {
  return iso ? dateOnly.format(new Date(iso)) : "";
}

// An icon of the bundled Lucide sprite (static/icons.svg, made by dashboard/build_sprite.py):
// same-origin, so the CSP holds. Decorative: the control it sits in carries the name.
const SVG = "http://www.w3.org/2000/svg";
const SPRITE = new URL("../icons.svg", import.meta.url).pathname;

export function icon(name, className = "") {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", `icon ${className}`.trim());
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const use = document.createElementNS(SVG, "use");
  use.setAttribute("href", `${SPRITE}#${name}`);
  svg.append(use);
  return svg;
}
