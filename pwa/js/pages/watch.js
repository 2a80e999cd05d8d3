// Building blocks of the live views (command center, supervisor): the connection line, counters,
// the action feed, the alert list with its buttons, names of units and people, the alert sound, and
// the wiring of all these to the live stream that both views share.
// Every list here is capped so a screen left on for days keeps a constant size.

import { errorMessage, request, requestBlob } from '../api.js';
import { h, nextId } from '../dom.js';
import { beijingToday, formatClock, formatDate, formatDateTime, t } from '../i18n.js';
import { LiveStream } from '../live.js';
import { isDocumentEvent } from '../caps.js';

const LATE_UPLOAD_MS = 15 * 60 * 1000;
const SUMMARY_GAP_MS = 1000;
const SUMMARY_EVERY_MS = 60000;
const USER_CACHE_MAX = 2000;
const HYDRATE_MAX = 12; // cards of a freshly loaded list whose first photo is looked up

// Marker and swatch colours by unit; red is kept for SOS.
const PALETTE = [
  '#1f4e9c', '#c2410c', '#15803d', '#7e22ce', '#0e7490', '#a16207',
  '#be185d', '#4d7c0f', '#334155', '#6d28d9', '#0369a1', '#9a3412',
];

// ---- time -------------------------------------------------------------------------------------

/** 14:05 for today, the full date and time otherwise (Beijing time). */
export function whenText(value) {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return t('common.noValue');
  return beijingToday(d) === beijingToday() ? formatClock(d) : formatDateTime(d);
}

function timeEl(value, cls) {
  const d = new Date(value);
  return h('time', { class: cls, datetime: Number.isNaN(d.getTime()) ? null : d.toISOString() }, whenText(value));
}

export function ms(value) {
  const n = Date.parse(value);
  return Number.isNaN(n) ? 0 : n;
}

// ---- names ------------------------------------------------------------------------------------

/** Unit names (loaded once) and people's names (learnt from events, fetched one by one when missing). */
export function createDirectory() {
  const units = new Map();
  const users = new Map();
  const waiting = new Map();
  let unitsLoad = null;

  function remember(id, name) {
    if (!id || !name) return;
    users.delete(id);
    users.set(id, name);
    if (users.size > USER_CACHE_MAX) users.delete(users.keys().next().value);
  }

  return {
    loadUnits() {
      if (!unitsLoad) {
        unitsLoad = (async () => {
          let cursor = null;
          for (let i = 0; i < 10; i += 1) {
            const qs = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
            const page = await request('GET', `/units?limit=200${qs}`);
            for (const u of page.items || []) units.set(u.id, u.name);
            cursor = page.next_cursor;
            if (!cursor) break;
          }
        })().catch(() => {
          unitsLoad = null;
        });
      }
      return unitsLoad;
    },
    unitName(id) {
      return (id && units.get(id)) || '';
    },
    /** A colour per unit, the same on every screen (units in name order). */
    unitColour(id) {
      const names = [...units.entries()].sort((a, b) => a[1].localeCompare(b[1], 'zh-CN')).map(([k]) => k);
      const i = names.indexOf(id);
      return PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
    },
    learnAction(a) {
      if (a.unit_id && a.unit_name && !units.has(a.unit_id)) units.set(a.unit_id, a.unit_name);
      for (const o of a.officers || []) remember(o.id, o.display_name);
    },
    learnUser: remember,
    userName(id) {
      return (id && users.get(id)) || '';
    },
    /** Resolve names not known yet; resolves once every lookup has finished (failures stay unnamed). */
    async resolve(ids) {
      const jobs = [];
      for (const id of new Set(ids.filter(Boolean))) {
        if (users.has(id)) continue;
        if (!waiting.has(id)) {
          waiting.set(id, request('GET', `/users/${encodeURIComponent(id)}`)
            .then((u) => remember(id, u && u.display_name))
            .catch(() => {})
            .finally(() => waiting.delete(id)));
        }
        jobs.push(waiting.get(id));
      }
      await Promise.all(jobs);
    },
  };
}

// ---- connection line ----------------------------------------------------------------------------

export function liveStatus(stream) {
  const icon = h('span', { class: 'live__icon', 'aria-hidden': 'true' });
  const text = h('span', { class: 'live__text' });
  const node = h('p', { class: 'live', role: 'status', 'aria-live': 'polite', 'data-testid': 'live-status' }, icon, text);
  function show(state) {
    node.dataset.state = state;
    icon.textContent = state === 'open' ? '●' : state === 'stopped' ? '■' : '↻';
    text.textContent = t(`live.${state}`);
  }
  show(stream.status === 'stopped' ? 'connecting' : stream.status);
  const off = stream.on('status', show);
  return { node, cleanup: off };
}

// ---- counters ---------------------------------------------------------------------------------

const COUNTERS = [
  ['actions_today', 'command.records', 'count-records'],
  ['on_duty', 'command.onDuty', 'count-on-duty'],
  ['open_alerts', 'command.openAlerts', 'count-alerts'],
  ['overdue_documents', 'command.overdue', 'count-overdue'],
];

/** `links`: counter field → the list behind its number (e.g. the overdue documents). */
export function counters({ links = {} } = {}) {
  const id = nextId('sec');
  const values = new Map();
  const list = h('ul', { class: 'counters__list' });
  for (const [field, label, testid] of COUNTERS) {
    const value = h('span', { class: 'counter__value' }, t('common.noValue'));
    values.set(field, value);
    const inner = [value, h('span', { class: 'counter__label' }, t(label))];
    list.append(h('li', { class: 'counter', 'data-testid': testid },
      links[field] ? h('a', { class: 'counter__link', href: links[field], 'data-testid': `${testid}-link` }, inner) : inner));
  }
  const node = h('section', { class: 'counters', 'aria-labelledby': id },
    h('h2', { id, class: 'visually-hidden' }, t('command.counters')), list);
  function update(summary) {
    for (const [field, el] of values) {
      const v = summary ? summary[field] : null;
      const text = typeof v === 'number' ? String(v) : t('common.noValue');
      if (el.textContent !== text) {
        el.textContent = text;
        el.classList.remove('is-changed');
        // restart the highlight
        void el.offsetWidth;
        el.classList.add('is-changed');
      }
    }
  }
  return { node, update };
}

/** GET /summary now and then: right after events (at most once a second) and once a minute. */
export function summaryFeed(apply) {
  let timer = null;
  let last = 0;
  let stopped = false;
  async function run() {
    timer = null;
    last = Date.now();
    try {
      apply(await request('GET', '/summary'));
    } catch {
      /* offline or refused: keep the last numbers, the next event or minute tries again */
    }
  }
  function soon() {
    if (stopped || timer) return;
    timer = setTimeout(run, Math.max(200, last + SUMMARY_GAP_MS - Date.now()));
  }
  const every = setInterval(soon, SUMMARY_EVERY_MS);
  soon();
  return {
    refresh: soon,
    stop() {
      stopped = true;
      clearTimeout(timer);
      clearInterval(every);
    },
  };
}

// ---- action feed ------------------------------------------------------------------------------

function newestFirst(a, b) {
  const ta = ms(a.created_at);
  const tb = ms(b.created_at);
  if (ta !== tb) return ta < tb ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

const SVG = 'http://www.w3.org/2000/svg';
const CAMERA = 'M9 4 7.2 6H4a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V8a2 2 0 0 0-2-2h-3.2L15 4H9Zm3 4a5 5 0 1 1 0 10 5 5 0 0 1 0-10Zm0 2a3 3 0 1 0 0 6 3 3 0 0 0 0-6Z';

/** The camera glyph as a drawing: emoji fonts are missing on some wall-screen PCs. */
function cameraIcon() {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'feed__icon');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', CAMERA);
  path.setAttribute('fill', 'currentColor');
  path.setAttribute('fill-rule', 'evenodd');
  svg.append(path);
  return svg;
}

function thumbImage(url, evidenceId = null) {
  const img = h('img', { src: url, alt: t('feed.thumb'), decoding: 'async' });
  if (!evidenceId) return img;
  return h('a', { href: `#/evidence/${encodeURIComponent(evidenceId)}`, title: t('feed.openEvidence'), 'data-testid': 'feed-evidence-link' }, img);
}

/** `thumbUrl`: an object URL of the first photo's thumbnail, or null (the slot stays empty). */
function actionCard(a, fresh, thumbUrl, evidenceId = null, draftLink = false) {
  const thumb = h('div', { class: 'feed__thumb', 'data-testid': 'feed-thumb' }, thumbUrl ? thumbImage(thumbUrl, evidenceId) : null);
  const officers = (a.officers || []).map((o) => o.display_name).filter(Boolean);
  const late = ms(a.created_at) - ms(a.occurred_at) > LATE_UPLOAD_MS;
  const n = Number(a.evidence_count) || 0;
  const titleId = nextId('act');
  return h('li', { class: `feed__item${fresh ? ' is-new' : ''}`, 'data-testid': 'feed-item', 'data-action-id': a.id },
    h('article', { class: 'feed__card', 'aria-labelledby': titleId },
      thumb,
      h('div', { class: 'feed__body' },
        h('p', { class: 'feed__head' },
          timeEl(a.occurred_at, 'feed__time'),
          h('span', { class: 'feed__kind' }, t(`kind.${a.kind}`)),
          h('span', { class: 'feed__unit', 'data-testid': 'feed-unit' }, a.unit_name || '')),
        h('h3', { id: titleId, class: 'feed__title', 'data-testid': 'feed-item-name' },
          h('a', { class: 'feed__link', href: `#/actions/${encodeURIComponent(a.id)}`, 'data-testid': 'feed-item-link' }, a.item_name || a.item_code || '')),
        h('p', { class: 'feed__meta' },
          officers.length ? h('span', {}, t('feed.officers', { names: officers.join('、') })) : null,
          a.address ? h('span', {}, a.address) : null,
          a.location ? null : h('span', { class: 'feed__unlocated', 'data-testid': 'feed-unlocated' }, t('action.unlocated')),
          h('span', { class: `feed__evidence${n ? '' : ' is-none'}`, 'data-testid': 'feed-evidence' },
            cameraIcon(),
            h('span', { 'aria-hidden': 'true' }, String(n)),
            h('span', { class: 'visually-hidden' }, t('feed.evidence', { n }))),
          late ? h('span', { class: 'feed__late' }, t('feed.uploadedAt', { time: whenText(a.created_at) })) : null),
        draftLink ? h('a', { class: 'feed__draft', href: `#/documents/new/action/${encodeURIComponent(a.id)}`, 'data-testid': 'feed-draft' }, t('doc.draftFrom')) : null),
    ));
}

/**
 * Newest on top, at most `max` cards; `add` ignores an action already shown. Thumbnails are fetched
 * with the bearer token and shown through object URLs, released when their card leaves the list.
 */
export function actionFeed({ max = 300, directory = null, label = 'command.feed', draftLink = false } = {}) {
  const list = h('ol', { class: 'feed', 'data-testid': 'feed', 'aria-label': t(label) });
  const empty = h('p', { class: 'muted feed__empty' }, t('feed.none'));
  const byId = new Map();
  const thumbs = new Map(); // action id → object URL of its thumbnail
  const thumbEvidence = new Map(); // action id → id of the evidence that thumbnail shows
  const tried = new Set(); // action ids whose evidence list was looked up
  let order = []; // newest first, parallel to the list's children
  let destroyed = false;

  function drop(id) {
    const entry = byId.get(id);
    if (entry) entry.node.remove();
    byId.delete(id);
    const url = thumbs.get(id);
    if (url) URL.revokeObjectURL(url);
    thumbs.delete(id);
    thumbEvidence.delete(id);
    tried.delete(id);
  }

  function add(action, { fresh = false } = {}) {
    if (destroyed || !action || !action.id || byId.has(action.id)) return;
    if (directory) directory.learnAction(action);
    // Older than everything kept, with the list full: nothing to show.
    if (order.length >= max && newestFirst(action, order[order.length - 1]) > 0) return;
    const node = actionCard(action, fresh, null, null, draftLink);
    let i = 0;
    while (i < order.length && newestFirst(order[i], action) < 0) i += 1;
    list.insertBefore(node, i < order.length ? byId.get(order[i].id).node : null);
    order.splice(i, 0, action);
    byId.set(action.id, { action, node });
    while (order.length > max) drop(order.pop().id);
    empty.hidden = true;
  }

  async function showThumb(actionId, path) {
    let blob;
    try {
      blob = await requestBlob(path);
    } catch {
      return; /* no thumbnail: the slot stays empty */
    }
    const entry = byId.get(actionId);
    if (destroyed || !entry || thumbs.has(actionId) || !/^image\//.test(blob.type)) return;
    const url = URL.createObjectURL(blob);
    thumbs.set(actionId, url);
    const m = /\/evidence\/([^/]+)\/thumbnail$/.exec(path);
    if (m) thumbEvidence.set(actionId, decodeURIComponent(m[1]));
    entry.node.querySelector('.feed__thumb').replaceChildren(thumbImage(url, thumbEvidence.get(actionId)));
  }

  /** An `evidence.added` event: count it on its card and show the first photo. */
  function evidenceAdded(data) {
    if (!data || data.parent_type !== 'action') return;
    const entry = byId.get(data.parent_id);
    if (!entry) return;
    const action = { ...entry.action, evidence_count: (Number(entry.action.evidence_count) || 0) + 1 };
    const node = actionCard(action, false, thumbs.get(action.id) || null, thumbEvidence.get(action.id), draftLink);
    entry.node.replaceWith(node);
    entry.node = node;
    entry.action = action;
    order[order.findIndex((x) => x.id === action.id)] = action;
    const ev = data.evidence || {};
    const path = ev.renditions && ev.renditions.thumbnail;
    if (path && !thumbs.has(action.id)) showThumb(action.id, path);
  }

  /** Look up the photos of the newest cards that came from a list (not from the stream). */
  async function hydrate(limit = HYDRATE_MAX) {
    const want = order.filter((a) => a.evidence_count > 0 && !thumbs.has(a.id) && !tried.has(a.id)).slice(0, limit);
    for (const a of want) {
      if (destroyed || !byId.has(a.id) || tried.has(a.id) || thumbs.has(a.id)) continue;
      tried.add(a.id);
      try {
        // The action's own evidence list is for officers; the detail carries it for every role in scope.
        const detail = await request('GET', `/actions/${encodeURIComponent(a.id)}`);
        const photo = ((detail && detail.evidence) || []).find((e) => e && e.renditions && e.renditions.thumbnail);
        if (photo) await showThumb(a.id, photo.renditions.thumbnail);
      } catch {
        /* offline or gone: the slot stays empty */
      }
    }
  }

  return {
    node: h('div', { class: 'feed-wrap' }, empty, list),
    add,
    addAll(actions) {
      for (const a of actions || []) add(a);
      hydrate();
    },
    evidenceAdded,
    get size() {
      return order.length;
    },
    destroy() {
      destroyed = true;
      for (const id of [...byId.keys()]) drop(id);
      order = [];
    },
  };
}

// ---- alerts -----------------------------------------------------------------------------------

const SEVERITY_ICON = { high: '▲', medium: '◆', info: 'ℹ' };
const ACTIONS = ['acked', 'resolved', 'false_alarm'];

function severityOf(a) {
  return ['high', 'medium', 'info'].includes(a.severity) ? a.severity : 'info';
}

function statusRank(a) {
  return a.status === 'open' ? 0 : a.status === 'acked' ? 1 : 2;
}

function alertOrder(a, b) {
  const r = statusRank(a) - statusRank(b);
  if (r) return r;
  return newestFirst(a, b);
}

/** Keep the newer state of an alert: a handled alert never goes back to open from a stale copy. */
function isNewer(next, prev) {
  if (!prev) return true;
  if (next.status === 'open' && prev.status !== 'open') return false;
  if (prev.handled_at && next.handled_at && ms(next.handled_at) < ms(prev.handled_at)) return false;
  return next.status !== prev.status || next.handled_at !== prev.handled_at || next.handled_by !== prev.handled_by;
}

function fixed(n, digits) {
  return typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '';
}

/** The alert in words for the reader, from its type and data (the server's `message` is for logs). */
export function alertText(a, directory) {
  const d = a.data && typeof a.data === 'object' ? a.data : {};
  const actor = (directory && directory.userName(a.subject_user_id)) || d.officer_name || t('alarm.someone');
  if (a.type === 'officer.sos') {
    const name = d.officer_name || (directory && directory.userName(a.subject_user_id)) || t('alarm.someone');
    const parts = [t('alarm.sos', { name })];
    if (typeof d.lat === 'number' && typeof d.lon === 'number') {
      parts.push(t('alarm.sos.at', { lat: fixed(d.lat, 5), lon: fixed(d.lon, 5), m: Math.round(d.accuracy_m || 0) }));
    } else {
      parts.push(t('alarm.sos.noPosition'));
    }
    if (d.note) parts.push(t('alarm.sos.note', { note: d.note }));
    return parts.join('');
  }
  if (a.type === 'action.refused') {
    const code = String(d.code || '');
    const name = d.officer_name || (directory && directory.userName(d.officer_id)) || t('alarm.someone');
    if (code === 'certificate.invalid') {
      const state = ['expired', 'suspended', 'revoked', 'missing'].includes(d.certificate_status) ? d.certificate_status : 'invalid';
      return t('alarm.refused.certificate.invalid', { actor, name, what: t(`err.certificate.state.${state}`) });
    }
    const known = ['action.officer_not_in_unit', 'action.two_officers_required', 'item.not_authorised'];
    return t(known.includes(code) ? `alarm.refused.${code}` : 'alarm.refused.other', { actor, name });
  }
  if (a.type === 'document.overdue') return t('alarm.document.overdue', { number: d.number || '', due: d.due_on ? formatDate(d.due_on) : '' });
  if (a.type === 'case.review_required') return t('alarm.case.review_required', { number: d.number || '', actor });
  if (a.type === 'case.criminal_threshold') {
    return t('alarm.case.criminal_threshold', { number: d.number || '', amount: d.amount_involved ?? '—', actor });
  }
  return a.message || t('alarm.type.other');
}

function alertTitle(a) {
  const key = `alarm.type.${a.type}`;
  const text = t(key);
  return text === key ? t('alarm.type.other') : text;
}

/**
 * The alert column: open alerts first (newest on top), then acknowledged, then a few handled ones.
 * `onRaised(alert)` is called for an alert that arrives live (sound, map); `onChange(alert)` for every
 * new state.
 */
export function alertList({ directory, maxHandled = 50, maxOpen = 200, onRaised = null, onChange = null, label = 'command.alerts', draftLink = false } = {}) {
  const list = h('ol', { class: 'alarms', 'data-testid': 'alerts', 'aria-label': t(label) });
  const empty = h('p', { class: 'muted alarms__empty' }, t('alarm.none'));
  const byId = new Map();
  let order = [];

  function render(a, fresh) {
    const sev = severityOf(a);
    const titleId = nextId('alarm');
    const error = h('p', { class: 'alarm__error', role: 'alert' });
    const buttons = ACTIONS.filter((s) => (a.status === 'open' ? true : a.status === 'acked' ? s !== 'acked' : false))
      .map((s) => h('button', {
        type: 'button',
        class: `btn alarm__btn alarm__btn--${s}`,
        'data-status': s,
      }, t(`alarm.do.${s}`)));
    const handled = a.status !== 'open' && a.handled_at
      ? h('p', { class: 'alarm__handled', 'data-testid': 'alert-handled' }, t('alarm.handled', {
        status: t(`alarm.status.${a.status}`),
        name: directory.userName(a.handled_by) || t('common.noValue'),
        time: whenText(a.handled_at),
      }))
      : null;
    const unit = directory.unitName(a.unit_id);
    const flashing = sev === 'high' && a.status === 'open';
    const node = h('li', {
      class: `alarm alarm--${sev} alarm--${a.status}${flashing ? ' is-flashing' : ''}${fresh ? ' is-new' : ''}`,
      'data-testid': 'alert',
      'data-alert-id': a.id,
      'data-status': a.status,
      'data-severity': sev,
      'data-type': a.type,
    },
    h('article', { class: 'alarm__card', 'aria-labelledby': titleId, tabindex: '-1' },
      h('p', { class: 'alarm__head' },
        h('span', { class: `sev sev--${sev}` },
          h('span', { class: 'sev__icon', 'aria-hidden': 'true' }, SEVERITY_ICON[sev]),
          t(`alarm.severity.${sev}`)),
        h('span', { class: `alarm__status alarm__status--${a.status}`, 'data-testid': 'alert-status' }, t(`alarm.status.${a.status}`)),
        timeEl(a.created_at, 'alarm__time')),
      h('h3', { id: titleId, class: 'alarm__title' }, alertTitle(a)),
      h('p', { class: 'alarm__text' }, alertText(a, directory)),
      unit ? h('p', { class: 'alarm__unit' }, t('alarm.unit', { name: unit })) : null,
      handled,
      buttons.length ? h('div', { class: 'alarm__actions' }, buttons) : null,
      draftLink ? h('a', { class: 'alarm__draft', href: `#/documents/new/alert/${encodeURIComponent(a.id)}`, 'data-testid': 'alert-draft' }, t('doc.draftFrom')) : null,
      error));
    node.addEventListener('click', (e) => {
      const btn = e.target.closest('button[data-status]');
      if (btn && node.contains(btn)) act(a, btn.dataset.status, node, error);
    });
    return node;
  }

  async function act(a, status, node, error) {
    const btns = node.querySelectorAll('button[data-status]');
    for (const b of btns) b.disabled = true;
    error.textContent = '';
    try {
      upsert(await request('POST', `/alerts/${encodeURIComponent(a.id)}/ack`, { body: { status } }));
    } catch (err) {
      for (const b of btns) b.disabled = false;
      error.textContent = errorMessage(err);
    }
  }

  function place(a, node) {
    let i = 0;
    while (i < order.length && alertOrder(order[i], a) < 0) i += 1;
    list.insertBefore(node, i < order.length ? byId.get(order[i].id).node : null);
    order.splice(i, 0, a);
  }

  function trim() {
    const handled = order.filter((x) => statusRank(x) === 2);
    const waiting = order.filter((x) => statusRank(x) < 2);
    const drop = [...handled.slice(maxHandled), ...waiting.slice(maxOpen)];
    if (!drop.length) return;
    const gone = new Set(drop.map((x) => x.id));
    for (const id of gone) {
      byId.get(id).node.remove();
      byId.delete(id);
    }
    order = order.filter((x) => !gone.has(x.id));
  }

  function upsert(a, { fresh = false } = {}) {
    if (!a || !a.id) return;
    const prev = byId.get(a.id);
    if (prev && !isNewer(a, prev.alert)) return;
    const hadFocus = prev && prev.node.contains(document.activeElement);
    const node = render(a, fresh && !prev);
    if (prev) {
      prev.node.remove();
      order = order.filter((x) => x.id !== a.id);
    }
    place(a, node);
    byId.set(a.id, { alert: a, node });
    trim();
    empty.hidden = order.length > 0;
    if (hadFocus && node.isConnected) node.querySelector('.alarm__card').focus({ preventScroll: true });
    if (onChange) onChange(a);
    if (fresh && !prev && onRaised) onRaised(a);
    const missing = [a.subject_user_id, a.handled_by].filter((id) => id && !directory.userName(id));
    if (missing.length) directory.resolve(missing).then(() => refresh(a.id));
  }

  /** Redraw one card with the names known now. */
  function refresh(id) {
    const entry = byId.get(id);
    if (!entry) return;
    const hadFocus = entry.node.contains(document.activeElement);
    const node = render(entry.alert, false);
    entry.node.replaceWith(node);
    entry.node = node;
    if (hadFocus) node.querySelector('.alarm__card').focus({ preventScroll: true });
  }

  return {
    node: h('div', { class: 'alarms-wrap' }, empty, list),
    upsert,
    addAll(alerts) {
      for (const a of alerts || []) upsert(a);
    },
    refreshAll() {
      for (const id of byId.keys()) refresh(id);
    },
    get(id) {
      return byId.has(id) ? byId.get(id).alert : null;
    },
    values() {
      return order.slice();
    },
  };
}

/** Load what the views show at start and after a gap in the stream. */
export async function loadAlerts() {
  const [open, recent] = await Promise.all([
    request('GET', '/alerts?status=open&limit=100'),
    request('GET', '/alerts?limit=50'),
  ]);
  return [...(recent.items || []), ...(open.items || [])];
}

// ---- the live picture ---------------------------------------------------------------------------

/** A titled region of a live view; `cls` goes on the section beside `card`. */
export function region(titleKey, body, cls) {
  const id = nextId('sec');
  return h('section', { class: `card ${cls}`, 'aria-labelledby': id },
    h('h2', { id, class: 'card__title' }, t(titleKey)), body);
}

/**
 * What both live views show, kept current by the stream: the connection line, the counters, the
 * action feed and the alert list, loaded at start and again after a gap the stream cannot replay.
 * `feed` and `alerts` are the options of actionFeed and alertList, `actionsLimit` how many records a
 * load asks for. A view that shows more passes `more`: `afterUnits()` runs once unit names are in,
 * and the value `load()` resolves to (requested alongside the records and alerts) goes to `apply`.
 * The view subscribes to further event types on `stream`, then calls start(); cleanup() ends it all.
 */
export function liveWatch({ user, types, actionsLimit, feed: feedOptions, alerts: alertOptions, more = null, links = {} }) {
  const directory = createDirectory();
  directory.learnUser(user.id, user.display_name);
  const stream = new LiveStream({ types });
  const status = liveStatus(stream);
  const counts = counters({ links });
  const feed = actionFeed({ ...feedOptions, directory });
  const alerts = alertList({ ...alertOptions, directory });
  const summary = summaryFeed(counts.update);

  let loading = null;
  function loadAll() {
    if (loading) return loading;
    loading = (async () => {
      await directory.loadUnits();
      alerts.refreshAll();
      if (more) more.afterUnits();
      const [actions, alertItems, extra] = await Promise.allSettled([
        request('GET', `/actions?limit=${actionsLimit}`),
        loadAlerts(),
        ...(more ? [more.load()] : []),
      ]);
      if (actions.status === 'fulfilled') feed.addAll(actions.value.items);
      if (alertItems.status === 'fulfilled') alerts.addAll(alertItems.value);
      if (extra && extra.status === 'fulfilled') more.apply(extra.value);
    })().finally(() => {
      loading = null;
    });
    return loading;
  }

  stream.on('action.created', (ev) => {
    feed.add(ev.data, { fresh: true });
    summary.refresh();
  });
  stream.on('evidence.added', (ev) => feed.evidenceAdded(ev.data));
  stream.on('alert.raised', (ev) => {
    alerts.upsert(ev.data, { fresh: true });
    summary.refresh();
  });
  stream.on('alert.acked', (ev) => {
    alerts.upsert(ev.data);
    summary.refresh();
  });
  stream.on('sync', ({ resumed }) => {
    summary.refresh();
    if (!resumed) loadAll();
  });
  // A document issued, answered or overdue changes the 超期文书 count.
  stream.on('*', (ev) => {
    if (isDocumentEvent(ev)) summary.refresh();
  });

  return {
    directory,
    stream,
    status,
    counts,
    feed,
    alerts,
    summary,
    start() {
      loadAll();
      stream.start();
    },
    cleanup() {
      stream.stop();
      summary.stop();
      feed.destroy();
      status.cleanup();
    },
  };
}

// ---- sound ------------------------------------------------------------------------------------

/**
 * A short two-tone beep through WebAudio. Browsers only allow sound after the user has interacted
 * with the page; `enable()` (from a click) unlocks it.
 */
export function createBeeper() {
  let ctx = null;
  let lastAt = 0;
  function context() {
    if (!ctx) {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (!AC) return null;
      try {
        ctx = new AC();
      } catch {
        return null;
      }
    }
    return ctx;
  }
  return {
    get available() {
      return Boolean(window.AudioContext || window.webkitAudioContext);
    },
    get running() {
      return Boolean(ctx) && ctx.state === 'running';
    },
    /** Create the audio context early when the page already had a user gesture. */
    prepare() {
      if (navigator.userActivation && navigator.userActivation.hasBeenActive) context();
    },
    async enable() {
      const c = context();
      if (!c) return false;
      try {
        if (c.state === 'suspended') await c.resume();
      } catch {
        return false;
      }
      return c.state === 'running';
    },
    beep() {
      const c = ctx;
      if (!c || c.state !== 'running') return false;
      const now = c.currentTime;
      if (performance.now() - lastAt < 1500) return true;
      lastAt = performance.now();
      for (const [start, freq] of [[0, 880], [0.22, 660]]) {
        const osc = c.createOscillator();
        const gain = c.createGain();
        osc.type = 'square';
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, now + start);
        gain.gain.exponentialRampToValueAtTime(0.25, now + start + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + start + 0.18);
        osc.connect(gain).connect(c.destination);
        osc.start(now + start);
        osc.stop(now + start + 0.2);
      }
      return true;
    },
    close() {
      if (ctx) ctx.close().catch(() => {});
      ctx = null;
    },
  };
}
