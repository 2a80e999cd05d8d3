// What the report, assessment and 案卷评查 pages share: the API paths, the periods they default to,
// exports as downloads behind the bearer token, the list of records behind a number, and their
// stylesheet (loaded with these pages, not with the shell).

import { errorMessage, requestBlob } from './api.js';
import { h } from './dom.js';
import { beijingToday, formatDate, formatDateTime, getLang, has, t } from './i18n.js';
import './i18n-reports.js';
import { pagedList, say } from './enforcement.js';

export const enc = encodeURIComponent;

/** A query string from an object, leaving out empty values. */
export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Last month in Beijing as YYYY-MM. */
export function lastMonth(today = beijingToday()) {
  const [y, m] = today.split('-').map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

/** The month after `month` (YYYY-MM). */
export function nextMonth(month) {
  const [y, m] = month.split('-').map(Number);
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

/** The `n` months up to and including `month` (YYYY-MM), oldest first. */
export function monthsUpTo(month, n) {
  let [y, m] = month.split('-').map(Number);
  const out = [];
  for (let i = 0; i < n; i += 1) {
    out.unshift(`${y}-${String(m).padStart(2, '0')}`);
    m -= 1;
    if (!m) [y, m] = [y - 1, 12];
  }
  return out;
}

/** 2026-11 → 2026年11月 (zh) / 2026-11 (en). */
export function monthText(month) {
  return getLang() === 'en' ? month : `${month.slice(0, 4)}年${month.slice(5, 7)}月`;
}

/** A period as the API gives it (`to` exclusive), shown with its last day. */
export function periodText(from, to) {
  const last = new Date(Date.parse(`${to}T00:00:00Z`) - 86400000).toISOString().slice(0, 10);
  return t('rp.period', { from: formatDate(from), to: formatDate(last) });
}

export const isBureau = (user) => (user.roles || []).some((r) => r === 'supervisor' || r === 'admin');

const CJK = /[\u3400-\u9fff]/;
const LATIN_WORD = /[A-Za-z]{3,}/;

/**
 * A refusal in the server's words (its problem detail) when they are in the reader's language (for
 * a Chinese reader: Chinese, no English words), else in the app's own words for its code.
 */
export function problemText(err) {
  const detail = err && err.detail;
  const readable = detail && (getLang() === 'en' || (CJK.test(detail) && !LATIN_WORD.test(detail)));
  return readable ? detail : errorMessage(err);
}

/** A number as shown in a table: whole, or with one decimal. */
export function num(x) {
  if (x == null || Number.isNaN(Number(x))) return t('common.noValue');
  const n = Number(x);
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** Download an export (`path` with its ?format=) under `name`; the token travels in the header. */
export async function download(path, name) {
  const blob = await requestBlob(path, { timeout: 60000 });
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** CSV / Excel / PDF buttons for `path` (an API path taking ?format= or &format=), with their error line. */
export function exportButtons(path, baseName, formats = ['csv', 'xlsx', 'pdf']) {
  const join = path.includes('?') ? '&' : '?';
  const msg = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' });
  const button = (format, key) => {
    const btn = h('button', { type: 'button', class: 'btn btn--secondary', 'data-testid': `export-${format}` }, t(key));
    btn.addEventListener('click', () => {
      btn.disabled = true;
      download(`${path}${join}format=${format}`, `${baseName}.${format}`)
        .catch((err) => say(msg, problemText(err)))
        .finally(() => { btn.disabled = false; });
    });
    return btn;
  };
  return h('div', {},
    h('div', { class: 'rp-exports', role: 'group', 'aria-label': t('rp.export') },
      ...formats.map((format) => button(format, `rp.export${format[0].toUpperCase()}${format.slice(1)}`))),
    msg);
}

/** Details the server gives as codes (an action's kind, a spot check's state), in words the app has. */
const DETAIL_WORDS = { action: 'kind', spot_check: 'sc.status', alert: 'alarm.type' };
function detailText(r) {
  const prefix = DETAIL_WORDS[r.kind];
  return prefix && has(`${prefix}.${r.detail}`) ? t(`${prefix}.${r.detail}`) : r.detail;
}

/** One record behind a number: a link to its page when it has one. */
function recordRow(r) {
  const meta = [r.at ? formatDateTime(r.at) : '', detailText(r) || '', r.amount != null ? t('rp.amount', { amount: num(r.amount) }) : '']
    .filter(Boolean).join(' · ');
  const body = [h('span', { class: 'row__title' }, r.title || r.kind), meta ? h('span', { class: 'row__meta' }, meta) : null];
  return h('li', { 'data-testid': 'record', 'data-kind': r.kind, 'data-id': r.id },
    r.link ? h('a', { class: 'row', href: r.link }, body) : h('div', { class: 'row row--static' }, body));
}

/**
 * The records behind a number, page by page: `fetchPage(cursor)` resolves to
 * { items, next_cursor, count, total }; the header says how many there are (and their sum).
 */
export function recordList(fetchPage, { emptyKey = 'rp.noRecords', sum = false } = {}) {
  const head = h('p', { class: 'lead', 'data-testid': 'records-count', role: 'status' });
  const list = pagedList({
    fetchPage: (cursor) => fetchPage(cursor).then((page) => {
      if (!cursor) {
        head.dataset.count = String(page.count);
        head.textContent = t('rp.recordsCount', { count: page.count })
          + (sum && page.total != null ? ` · ${t('rp.recordsTotal', { total: num(page.total) })}` : '');
      }
      return page;
    }),
    renderItem: recordRow,
    emptyKey,
    errorMessage: problemText,
    testid: 'records',
  });
  return h('div', {}, head, list.node);
}

/** The stylesheet of these pages, once. */
export function reportStyles() {
  if (!document.querySelector('link[data-reports]')) {
    document.head.append(h('link', { rel: 'stylesheet', href: '/css/reports.css', 'data-reports': '' }));
  }
}
