// Two small hand-written SVG charts (no library): horizontal bars comparing units, and columns for
// a short series (months). Each is an image with a text alternative; colours come from reports.css.

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

function chart(width, height, label, testid) {
  return s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': label, 'data-testid': testid },
    s('title', {}, label));
}

const short = (text) => (text.length > 7 ? `${text.slice(0, 6)}…` : text);
const fmt = (v) => (v == null ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(1));

/** One bar per item ({ label, value }), longest = `max` (default the largest value). */
export function barChart(items, { label, max, testid = 'bar-chart' }) {
  const row = 28;
  const top = Math.max(max || 0, ...items.map((x) => x.value || 0)) || 1;
  const svg = chart(360, row * items.length + 4, label, testid);
  items.forEach((x, i) => {
    const y = i * row + 4;
    const w = Math.max(0, (x.value || 0) / top) * 200;
    svg.append(
      s('text', { x: 0, y: y + 16, class: 'chart__label' }, short(x.label)),
      s('rect', { x: 110, y, width: w, height: row - 8, rx: 3, class: 'chart__bar', 'data-value': x.value ?? '' }),
      s('text', { x: 110 + w + 6, y: y + 16, class: 'chart__value' }, fmt(x.value)));
  });
  return svg;
}

/** One column per point ({ label, value }; null for a gap), in order. */
export function columnChart(points, { label, testid = 'column-chart' }) {
  const col = 50;
  const height = 120;
  const top = Math.max(1, ...points.map((p) => p.value || 0));
  const svg = chart(col * points.length, height, label, testid);
  points.forEach((p, i) => {
    const x = i * col + 8;
    const hgt = ((p.value || 0) / top) * (height - 40);
    svg.append(
      s('rect', { x, y: height - 20 - hgt, width: col - 16, height: hgt, rx: 3, class: 'chart__bar', 'data-value': p.value ?? '' }),
      s('text', { x: x + (col - 16) / 2, y: height - 24 - hgt, class: 'chart__value', 'text-anchor': 'middle' }, fmt(p.value)),
      s('text', { x: x + (col - 16) / 2, y: height - 4, class: 'chart__label', 'text-anchor': 'middle' }, p.label));
  });
  return svg;
}
