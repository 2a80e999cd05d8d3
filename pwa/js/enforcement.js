// Enforcement API (actions, cases, reviews) and the building blocks its pages share.

import { request } from './api.js';
import { h } from './dom.js';
import { t, getLang } from './i18n.js';
import { loadError, loadingLine } from './widgets.js';

export const KINDS = ['inspection', 'evidence', 'service', 'coercive', 'other'];
/** Workflow steps an officer may be offered, in the order the buttons appear. */
export const STEPS = ['submit-review', 'decision', 'serve', 'close', 'transfer'];
export const OUTCOMES = ['approved', 'rejected', 'returned'];
export const OPEN_STATUSES = ['filed', 'investigating'];

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v != null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

const enc = encodeURIComponent;

/** Every page of a keyset-paginated list (for short catalogues such as items and officers). */
async function allPages(path, params) {
  const items = [];
  let cursor = null;
  for (let i = 0; i < 20; i += 1) {
    const page = await request('GET', `${path}${query({ ...params, cursor })}`);
    items.push(...((page && page.items) || []));
    cursor = page && page.next_cursor;
    if (!cursor) break;
  }
  return items;
}

export const api = {
  items: (unitId) => allPages('/items', { unit_id: unitId, limit: 200 }),
  officers: (unitId) => allPages('/users', { role: 'officer', unit_id: unitId, limit: 200 }),
  createAction: (payload) => request('POST', '/actions', { body: payload }),
  actions: (params) => request('GET', `/actions${query(params)}`),
  action: (id) => request('GET', `/actions/${enc(id)}`),
  createCase: (body) => request('POST', '/cases', { body }),
  cases: (params) => request('GET', `/cases${query(params)}`),
  getCase: (id) => request('GET', `/cases/${enc(id)}`),
  updateCase: (id, body) => request('PATCH', `/cases/${enc(id)}`, { body }),
  step: (id, step, body) => request('POST', `/cases/${enc(id)}/${step}`, { body }),
};

// The first page of the officer's own records, kept on the phone (offline-cache key) from sign-in on
// so "我的执法记录" opens without signal.
export const MY_ACTIONS_KEY = 'actions:mine';
export const MY_ACTIONS_PAGE = 20;
export const myActions = (user) => api.actions({ officer_id: user.id, limit: MY_ACTIONS_PAGE });

/** A random UUID; crypto.randomUUID needs a secure context, so fall back to getRandomValues. */
export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The body of POST /actions for a form draft. It depends on the draft only, so sending it again (a
 * retry, or later an outbox) replays the same request and never creates a second record.
 */
export function actionPayload(draft, meId) {
  const party = draft.partyName.trim()
    ? {
        name: draft.partyName.trim(),
        type: draft.partyType === 'organisation' ? 'organisation' : 'person',
        ...(draft.partyId.trim() ? { id_number: draft.partyId.trim().toUpperCase() } : {}),
      }
    : null;
  return {
    id: draft.id,
    unit_id: draft.unitId,
    item_id: draft.itemId,
    kind: draft.kind,
    officer_ids: [meId, ...draft.partnerIds.filter((p) => p !== meId)],
    occurred_at: draft.occurredAt,
    location: draft.location ? { ...draft.location } : null, // null: 未定位, the address says where
    address: draft.address.trim(),
    ...(party ? { party } : {}),
    notes: draft.notes.trim(),
  };
}

// ---- one-shot messages carried to the next page ------------------------------------------

let flashText = '';
export function setFlash(text) {
  flashText = text;
}
export function takeFlash() {
  const text = flashText;
  flashText = '';
  return text;
}

// ---- formatting -------------------------------------------------------------------------

export function money(value) {
  if (value == null || value === '' || Number.isNaN(Number(value))) return t('common.noValue');
  const amount = new Intl.NumberFormat(getLang() === 'en' ? 'en-US' : 'zh-CN', { maximumFractionDigits: 2 }).format(
    Number(value),
  );
  return t('common.yuan', { amount });
}

/** "20000", "2,0000.5" or "２００００" → 20000; '' → null; anything else → NaN. */
export function parseMoney(text) {
  const s = String(text || '')
    .replace(/[０-９．]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[,，\s]/g, '');
  if (!s) return null;
  return /^\d{1,13}(\.\d{1,2})?$/.test(s) ? Number(s) : NaN;
}

export function splitMeasures(text) {
  return String(text || '')
    .split(/[、,，;；\n]+/)
    .map((m) => m.trim())
    .filter(Boolean);
}

export function personName(p) {
  if (!p) return '';
  if (typeof p === 'string') return p;
  return p.display_name || p.name || p.username || '';
}

export function partyText(party) {
  if (!party || !party.name) return t('action.notGiven');
  const type = party.type ? t(`party.${party.type === 'organisation' ? 'organisation' : 'person'}`) : '';
  return [party.name, type, party.id_number].filter(Boolean).join(' · ');
}

// ---- building blocks --------------------------------------------------------------------

export function backLink(href, labelKey) {
  return h('a', { class: 'back', href }, h('span', { 'aria-hidden': 'true' }, '‹ '), t(labelKey));
}

export function facts(rows) {
  return h('dl', { class: 'facts facts--stack' },
    rows.filter(Boolean).flatMap(([label, value, testid]) => [
      h('dt', {}, label),
      h('dd', testid ? { 'data-testid': testid } : {}, value == null || value === '' ? t('common.noValue') : value),
    ]));
}

/** A labelled input or textarea. Returns { node, input }. */
export function field({ id, label, hint, value = '', multiline = false, optional = false, ...attrs }) {
  const hintId = hint ? `${id}-hint` : null;
  const input = multiline
    ? h('textarea', { id, name: id, rows: 3, 'aria-describedby': hintId, ...attrs })
    : h('input', { id, name: id, type: 'text', 'aria-describedby': hintId, ...attrs });
  input.value = value == null ? '' : String(value);
  input.addEventListener('input', () => input.removeAttribute('aria-invalid'));
  const node = h('div', { class: 'field' },
    h('label', { for: id }, label, optional ? h('span', { class: 'field__optional' }, ` ${t('common.optional')}`) : null),
    hint ? h('p', { id: hintId, class: 'field__hint' }, hint) : null,
    input);
  return { node, input };
}

/**
 * A group of big radio (or checkbox) options in a fieldset. `options`: [{ value, label, detail }].
 * Returns { node, inputs, value() }.
 */
export function choices({ name, legend, options, value, type = 'radio', cls = '', describedBy }) {
  const inputs = [];
  const list = h('div', { class: `choices ${cls}` },
    options.map((o) => {
      const id = `${name}-${o.value}`;
      const input = h('input', { id, type, name, value: o.value, class: 'choice__box' });
      input.checked = Array.isArray(value) ? value.includes(o.value) : value === o.value;
      inputs.push(input);
      return h('label', { class: 'choice', for: id, 'data-value': o.value }, input,
        h('span', { class: 'choice__text' },
          h('span', { class: 'choice__label' }, o.label),
          o.detail ? h('span', { class: 'choice__detail' }, o.detail) : null));
    }));
  const node = h('fieldset', { class: 'group', 'aria-describedby': describedBy || null },
    h('legend', { class: 'group__legend' }, legend), list);
  return {
    node,
    inputs,
    value: () => (type === 'radio' ? (inputs.find((i) => i.checked) || {}).value || '' : inputs.filter((i) => i.checked).map((i) => i.value)),
  };
}

/** Say something in a live region, re-announcing a repeated message. */
export function say(el, text) {
  el.textContent = '';
  if (!text) return;
  requestAnimationFrame(() => {
    el.textContent = text;
    el.scrollIntoView({ block: 'nearest' });
  });
}

/**
 * A list with "加载更多": `fetchPage(cursor)` resolves to { items, next_cursor }, `renderItem(x)` to an
 * <li>. Returns { node, reload }.
 */
export function pagedList({ fetchPage, renderItem, emptyKey, errorMessage, testid }) {
  const list = h('ul', { class: 'list', 'data-testid': testid || null });
  const status = h('div', { class: 'list__status' });
  const more = h('button', { type: 'button', class: 'btn btn--secondary btn--block', hidden: true }, t('common.loadMore'));
  let cursor = null;
  let busy = false;
  let count = 0;

  async function load(first) {
    if (busy) return;
    busy = true;
    more.disabled = true;
    if (first) {
      list.replaceChildren();
      count = 0;
      cursor = null;
      status.replaceChildren(loadingLine());
    } else {
      more.textContent = t('common.loading');
    }
    try {
      const page = await fetchPage(cursor);
      const items = (page && page.items) || [];
      for (const x of items) list.append(renderItem(x));
      count += items.length;
      cursor = (page && page.next_cursor) || null;
      status.replaceChildren();
      if (!count) status.append(h('p', { class: 'muted' }, t(emptyKey)));
      else if (!cursor && !first) status.append(h('p', { class: 'muted list__end' }, t('common.allShown')));
      more.hidden = !cursor;
    } catch (err) {
      status.replaceChildren(loadError(errorMessage(err), () => load(first)));
    } finally {
      busy = false;
      more.disabled = false;
      more.textContent = t('common.loadMore');
    }
  }
  more.addEventListener('click', () => load(false));
  load(true);
  return { node: h('div', { class: 'paged' }, list, status, more), reload: () => load(true) };
}
