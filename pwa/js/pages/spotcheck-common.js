// Spot-checks (抽查 of 仪容仪表 and 执法风纪): the API, times and countdowns, and the parts the
// checker's, the officer's and the supervisor's screens share.

import { ApiError, errorMessage, liveToken, request } from '../api.js';
import { h, nextId } from '../dom.js';
import { beijingToday, formatClock, formatDate, formatDateTime, t } from '../i18n.js';
import { card, errorLine, loadingLine, statusBadge } from '../widgets.js';

export const ON_DUTY_S = 900;
const BASE = '/api/v1';
const enc = encodeURIComponent;

export const scApi = {
  list: (status) => request('GET', `/spot-checks${status ? `?status=${enc(status)}` : ''}`),
  get: (id) => request('GET', `/spot-checks/${enc(id)}`),
  start: (body) => request('POST', '/spot-checks', { body }),
  review: (id, body) => request('POST', `/spot-checks/${enc(id)}/review`, { body }),
  appeal: (id, body) => request('POST', `/spot-checks/${enc(id)}/appeal`, { body }),
  decide: (id, body) => request('POST', `/spot-checks/${enc(id)}/appeal/decision`, { body }),
  checklist: () => request('GET', '/spot-checks/checklist'),
  saveChecklist: (items) => request('PUT', '/spot-checks/checklist', { body: { items } }),
  positions: () => request('GET', `/positions?active_within=${ON_DUTY_S}`),
  evidence: (id) => request('GET', `/evidence/${enc(id)}`),
};

// ---- bytes with the session's token (photos in, photos out) -----------------------------------

async function problemOf(res) {
  let p = {};
  try {
    if (/json/.test(res.headers.get('Content-Type') || '')) p = (await res.json()) || {};
  } catch {
    p = {};
  }
  const extra = {};
  for (const [k, v] of Object.entries(p)) if (!['type', 'title', 'status', 'detail', 'code', 'instance'].includes(k)) extra[k] = v;
  return new ApiError({
    status: res.status,
    code: typeof p.code === 'string' ? p.code : '',
    title: typeof p.title === 'string' ? p.title : '',
    detail: typeof p.detail === 'string' ? p.detail : '',
    extra,
  });
}

/** fetch() under /api/v1 with the bearer token in a header (never in the URL), renewed once on 401. */
async function authFetch(path, init = {}, timeoutMs = 60000) {
  let token = await liveToken();
  for (let attempt = 0; ; attempt += 1) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), timeoutMs);
    let res;
    try {
      res = await fetch(BASE + path, {
        ...init,
        headers: { ...(init.headers || {}), Authorization: `Bearer ${token}` },
        credentials: 'same-origin',
        cache: 'no-store',
        signal: ctrl.signal,
      });
    } catch (e) {
      throw new ApiError({ code: e && e.name === 'AbortError' ? 'network.timeout' : 'network.offline' });
    } finally {
      clearTimeout(timer);
    }
    if (res.status === 401 && attempt === 0) {
      token = await liveToken({ rejected: token });
      continue;
    }
    if (!res.ok) throw await problemOf(res);
    return res;
  }
}

async function sha256Hex(blob) {
  if (!(crypto && crypto.subtle)) return null;
  try {
    const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  } catch {
    return null;
  }
}

/** POST the officer's picture as the raw body; resolves to the updated check. */
export async function submitAnswer(id, blob, capturedAt) {
  const headers = { 'Content-Type': blob.type || 'image/jpeg', Accept: 'application/json, application/problem+json' };
  if (capturedAt) headers['X-Captured-At'] = capturedAt.toISOString();
  const sum = await sha256Hex(blob);
  if (sum) headers['X-Content-SHA256'] = sum;
  const res = await authFetch(`/spot-checks/${enc(id)}/submission`, { method: 'POST', body: blob, headers }, 120000);
  return res.json();
}

/** The bytes of a piece of evidence as an object URL (the caller revokes it). */
export async function evidenceUrl(evidenceId, which = 'content') {
  const res = await authFetch(`/evidence/${enc(evidenceId)}/${which}`);
  return URL.createObjectURL(await res.blob());
}

// ---- time ---------------------------------------------------------------------------------------

const secondsFmt = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Asia/Shanghai',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

export function ms(value) {
  const n = Date.parse(value);
  return Number.isNaN(n) ? 0 : n;
}

/** 14:05:33, Beijing time. */
export function clockSeconds(value) {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? t('common.noValue') : secondsFmt.format(d);
}

/** 2026年11月27日 14:05:33 (Beijing time). */
export function dateTimeSeconds(value) {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? t('common.noValue') : `${formatDate(d)} ${secondsFmt.format(d)}`;
}

/** 14:05 today, the full date and time otherwise (Beijing time). */
export function whenText(value) {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return t('common.noValue');
  return beijingToday(d) === beijingToday() ? formatClock(d) : formatDateTime(d);
}

/** 09:41 or 1:02:03 for a span in milliseconds (never negative). */
export function span(msLeft) {
  const s = Math.max(0, Math.floor(msLeft / 1000));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  const p = (n) => String(n).padStart(2, '0');
  return hh ? `${hh}:${p(mm)}:${p(ss)}` : `${p(mm)}:${p(ss)}`;
}

/** "4分27秒" / "4 min 27 s" */
export function spanWords(msSpan) {
  const s = Math.max(0, Math.round(msSpan / 1000));
  const m = Math.floor(s / 60);
  return m ? t('sc.minSec', { m, s: s % 60 }) : t('sc.sec', { s });
}

/**
 * A live countdown to `due`: "剩余 09:41". `onEnd` runs once when it reaches zero.
 * Returns { node, stop() }.
 */
export function countdown(due, { onEnd, big = false, testid = 'countdown' } = {}) {
  const value = h('strong', { class: 'countdown__value' });
  const node = h('p', { class: `countdown${big ? ' countdown--big' : ''}`, role: 'timer', 'data-testid': testid },
    h('span', { class: 'countdown__label' }, t('sc.left')), ' ', value);
  let timer = null;
  let ended = false;
  function tick() {
    const left = ms(due) - Date.now();
    value.textContent = span(left);
    node.classList.toggle('is-urgent', left < 120000);
    if (left <= 0 && !ended) {
      ended = true;
      node.classList.add('is-over');
      value.textContent = t('sc.timeUp');
      clearInterval(timer);
      timer = null;
      if (onEnd) onEnd();
    }
  }
  tick();
  if (!ended) timer = setInterval(tick, 1000);
  return {
    node,
    stop() {
      clearInterval(timer);
      timer = null;
    },
  };
}

// ---- labels ---------------------------------------------------------------------------------------

export const STATUSES = ['requested', 'submitted', 'passed', 'failed', 'overdue'];

/** A check's status (one this screen does not know reads as requested). */
export function scStatusBadge(status) {
  const s = STATUSES.includes(status) ? status : 'requested';
  return statusBadge(s, { cls: 'sc-status', keys: 'sc.status', testid: 'sc-status' });
}

/** "138****0000" */
export function maskPhone(phone) {
  const digits = String(phone || '').replace(/\s+/g, '');
  if (digits.length < 7) return digits ? '****' : '';
  return `${digits.slice(0, 3)}****${digits.slice(-4)}`;
}

/** Unit names from the signed-in user, completed from /units when needed. */
export function unitDirectory(user) {
  const names = new Map();
  for (const u of (user && user.units) || []) if (u && u.id) names.set(u.id, u.name);
  let load = null;
  return {
    name: (id) => names.get(id) || '',
    all: () => [...names.entries()].map(([id, name]) => ({ id, name })),
    load() {
      if (!load) {
        load = (async () => {
          let cursor = null;
          for (let i = 0; i < 10; i += 1) {
            const page = await request('GET', `/units?limit=200${cursor ? `&cursor=${enc(cursor)}` : ''}`);
            for (const u of (page && page.items) || []) names.set(u.id, u.name);
            cursor = page && page.next_cursor;
            if (!cursor) break;
          }
        })().catch((err) => {
          load = null;
          throw err;
        });
      }
      return load;
    },
  };
}

// ---- on duty: who can be checked now ---------------------------------------------------------------

/**
 * 在岗执法人员 with a big 发起抽查 per officer and 随机抽查. A request sends an alert to an officer's
 * phone, so each asks once more before it goes. `onStarted(check)` follows a successful request.
 */
export function dutyCard({ units, onStarted }) {
  const id = nextId('sec');
  const list = h('ul', { class: 'sc-duty', 'data-testid': 'duty-list' });
  const status = h('div', { class: 'list__status' });
  const msg = h('p', { class: 'alert', role: 'alert', 'data-testid': 'duty-error' });
  const people = new Map(); // user_id → position
  let open = null; // the row whose confirmation is showing: user id or 'random'
  let busy = false;
  let loaded = false;

  const randomBtn = h('button', { type: 'button', class: 'btn btn--primary btn--xl btn--block', 'data-testid': 'random-check' }, t('sc.random'));
  const randomHint = h('p', { class: 'muted' }, t('sc.randomHint'));
  const randomConfirm = h('div', { class: 'sc-confirm', hidden: true });
  randomBtn.addEventListener('click', () => toggle('random'));

  function fresh(p) {
    return Date.now() - ms(p.received_at) <= ON_DUTY_S * 1000;
  }

  function confirmPanel(text, onYes) {
    const yes = h('button', { type: 'button', class: 'btn btn--primary btn--xl btn--block' }, t('sc.confirmStart'));
    const no = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, t('common.cancel'));
    yes.addEventListener('click', async () => {
      if (busy) return;
      busy = true;
      yes.disabled = true;
      no.disabled = true;
      yes.textContent = t('sc.starting');
      msg.textContent = '';
      try {
        await onYes();
      } catch (err) {
        msg.textContent = errorMessage(err);
        msg.scrollIntoView({ block: 'nearest' });
        yes.disabled = false;
        no.disabled = false;
        yes.textContent = t('sc.confirmStart');
      } finally {
        busy = false;
      }
    });
    no.addEventListener('click', () => toggle(null));
    return [h('p', { class: 'sc-confirm__text' }, text), yes, no];
  }

  async function start(body) {
    const check = await scApi.start(body);
    open = null;
    onStarted(check);
  }

  function toggle(which) {
    open = open === which ? null : which;
    msg.textContent = '';
    draw();
    if (open) {
      const panel = open === 'random' ? randomConfirm : list.querySelector(`[data-user="${CSS.escape(open)}"] .sc-confirm`);
      const first = panel && panel.querySelector('button');
      if (first) first.focus();
    }
  }

  function draw() {
    const rows = [...people.values()].filter(fresh).sort((a, b) => a.display_name.localeCompare(b.display_name, 'zh-CN'));
    list.replaceChildren(...rows.map((p) => {
      const unitText = (p.unit_ids || []).map((u) => units.name(u)).filter(Boolean).join('、');
      const btn = h('button', {
        type: 'button',
        class: 'btn btn--primary btn--xl btn--block',
        'aria-expanded': open === p.user_id ? 'true' : 'false',
        'data-testid': 'start-check',
      }, t('sc.start'));
      btn.addEventListener('click', () => toggle(p.user_id));
      const panel = h('div', { class: 'sc-confirm', hidden: open !== p.user_id });
      if (open === p.user_id) {
        panel.append(...confirmPanel(t('sc.confirmText', { name: p.display_name }), () => start({ officer_id: p.user_id })));
      }
      return h('li', { class: 'sc-duty__row', 'data-user': p.user_id, 'data-testid': 'duty-row' },
        h('p', { class: 'sc-duty__name' }, p.display_name,
          p.sos_at ? h('span', { class: 'sc-duty__sos' }, t('sc.sos')) : null),
        h('p', { class: 'sc-duty__meta' },
          unitText ? `${unitText} · ` : '', t('sc.seenAt', { time: whenText(p.received_at) })),
        btn, panel);
    }));
    status.replaceChildren();
    if (loaded && !rows.length) status.append(h('p', { class: 'muted', 'data-testid': 'duty-empty' }, t('sc.nobodyOnDuty')));
    randomBtn.disabled = loaded && !rows.length;
    randomBtn.setAttribute('aria-expanded', open === 'random' ? 'true' : 'false');
    randomConfirm.hidden = open !== 'random';
    randomConfirm.replaceChildren();
    if (open === 'random') {
      randomConfirm.append(...confirmPanel(t('sc.confirmRandom', { n: rows.length }), () => start({ random: true })));
    }
  }

  async function refresh() {
    if (!loaded) status.replaceChildren(loadingLine('muted'));
    try {
      const rows = await scApi.positions();
      people.clear();
      for (const p of rows || []) people.set(p.user_id, p);
      loaded = true;
      draw();
    } catch (err) {
      status.replaceChildren(errorLine(errorMessage(err)));
    }
  }

  // Drop people not seen for a while; a row being confirmed is never redrawn under the finger.
  const sweep = setInterval(() => {
    if (!open) draw();
  }, 60000);
  const node = h('section', { class: 'card sc-duty-card', 'aria-labelledby': id, 'data-testid': 'duty' },
    h('h2', { id, class: 'card__title' }, t('sc.onDuty')),
    randomBtn, randomHint, randomConfirm, msg, list, status);
  draw();

  return {
    node,
    refresh,
    upsert(p) {
      if (!p || !p.user_id) return;
      people.set(p.user_id, p);
      if (!open) draw(); // news waits until the confirmation closes
    },
    stop() {
      clearInterval(sweep);
    },
  };
}

// ---- a list of checks --------------------------------------------------------------------------

export function checksCard({ titleKey, emptyKey, testid = 'checks' }) {
  const id = nextId('sec');
  const list = h('ul', { class: 'list', 'data-testid': `${testid}-list` });
  const status = h('div', { class: 'list__status' });
  const checks = new Map();
  let loaded = false;

  function row(c) {
    const when = c.status === 'requested'
      ? t('sc.dueAt', { time: formatDateTime(c.due_at) })
      : t('sc.requestedAt', { time: formatDateTime(c.requested_at) });
    return h('li', { 'data-check': c.id },
      h('a', { class: `row sc-row sc-row--${c.status}`, href: `#/spot-checks/${c.id}`, 'data-testid': 'check-row' },
        h('span', { class: 'row__head' },
          h('span', { class: 'row__title' }, c.officer_name || t('sc.someone')),
          scStatusBadge(c.status)),
        h('span', { class: 'row__meta' }, when, c.random_pick ? ` · ${t('sc.randomPick')}` : '',
          c.appeal && !c.appeal.decision ? ` · ${t('sc.appealPending')}` : '')));
  }

  function draw() {
    const rows = [...checks.values()].sort((a, b) => ms(b.requested_at) - ms(a.requested_at)).slice(0, 100);
    list.replaceChildren(...rows.map(row));
    status.replaceChildren();
    if (loaded && !rows.length) status.append(h('p', { class: 'muted' }, t(emptyKey)));
  }

  async function refresh() {
    if (!loaded) status.replaceChildren(loadingLine('muted'));
    try {
      const rows = await scApi.list();
      checks.clear();
      for (const c of rows || []) checks.set(c.id, c);
      loaded = true;
      draw();
    } catch (err) {
      status.replaceChildren(errorLine(errorMessage(err)));
    }
  }

  const node = h('section', { class: 'card', 'aria-labelledby': id, 'data-testid': testid },
    h('h2', { id, class: 'card__title' }, t(titleKey)), list, status);
  return {
    node,
    refresh,
    upsert(c) {
      if (!c || !c.id) return;
      checks.set(c.id, c);
      draw();
    },
  };
}

// ---- the answer and the verdict ---------------------------------------------------------------------

/**
 * The answer's picture full width, with the server's receipt time and the deadline it met.
 * Returns { node, stop() }.
 */
export function answerFigure(check) {
  const media = h('div', { class: 'sc-photo__media' }, h('p', { class: 'muted', role: 'status' }, t('sc.photoLoading')));
  const caption = h('figcaption', { class: 'sc-photo__caption', 'data-testid': 'answer-caption' });
  const node = h('figure', { class: 'sc-photo', 'data-testid': 'answer' }, media, caption);
  let url = null;
  let alive = true;

  function captionFor(receivedAt) {
    const early = ms(check.due_at) - ms(receivedAt);
    caption.replaceChildren(
      h('p', {}, h('span', { class: 'sc-photo__label' }, t('sc.receivedAt')), ' ',
        h('strong', { 'data-testid': 'received-at' }, dateTimeSeconds(receivedAt))),
      h('p', {}, h('span', { class: 'sc-photo__label' }, t('sc.deadline')), ' ',
        h('strong', {}, dateTimeSeconds(check.due_at))),
      h('p', { class: early >= 0 ? 'sc-photo__ok' : 'sc-photo__late', 'data-testid': 'deadline-met' },
        early >= 0 ? t('sc.inTime', { early: spanWords(early) }) : t('sc.late')));
  }

  (async () => {
    let meta = null;
    try {
      meta = await scApi.evidence(check.evidence_id);
    } catch {
      meta = null;
    }
    if (!alive) return;
    captionFor((meta && meta.received_at) || check.submitted_at);
    try {
      url = await evidenceUrl(check.evidence_id);
    } catch (err) {
      if (alive) media.replaceChildren(errorLine(errorMessage(err)));
      return;
    }
    if (!alive) {
      URL.revokeObjectURL(url);
      return;
    }
    const isVideo = meta && typeof meta.content_type === 'string' && meta.content_type.startsWith('video/');
    media.replaceChildren(isVideo
      ? h('video', { class: 'sc-photo__img', src: url, controls: true, playsinline: true, 'data-testid': 'answer-media' })
      : h('img', { class: 'sc-photo__img', src: url, alt: t('sc.photoAlt', { name: check.officer_name || '' }), 'data-testid': 'answer-media' }));
  })();

  return {
    node,
    stop() {
      alive = false;
      if (url) URL.revokeObjectURL(url);
      url = null;
    },
  };
}

/** 合格 / 不合格 as text, an icon and a colour (never colour alone). */
export function verdict(ok, { big = false } = {}) {
  return h('span', { class: `sc-verdict sc-verdict--${ok ? 'pass' : 'fail'}${big ? ' sc-verdict--big' : ''}`, 'data-verdict': ok ? 'pass' : 'fail' },
    h('span', { class: 'sc-verdict__icon', 'aria-hidden': 'true' }, ok ? '✓' : '✗'), t(ok ? 'sc.pass' : 'sc.fail'));
}

/** The outcome of a reviewed check: overall, per item, score, comment, and the appeal. */
export function resultCard(check) {
  const results = check.results || {};
  const passed = check.status === 'passed';
  const items = (check.checklist || []).map((item) =>
    h('li', { class: 'sc-result__item', 'data-key': item.key },
      h('span', { class: 'sc-result__label' }, item.label),
      results[item.key] == null ? h('span', { class: 'muted' }, t('common.noValue')) : verdict(Boolean(results[item.key]))));
  const overturned = check.appeal && check.appeal.decision === 'overturned';
  return card('sc.result',
    h('p', { class: 'sc-result__overall', 'data-testid': 'sc-outcome' }, verdict(passed, { big: true })),
    overturned ? h('p', { class: 'notice notice--ok' }, t('sc.overturnedNote')) : null,
    h('ul', { class: 'sc-result__items', 'data-testid': 'sc-results' }, items),
    h('dl', { class: 'facts' },
      h('dt', {}, t('sc.score')), h('dd', { 'data-testid': 'sc-score' }, check.score == null ? t('common.noValue') : String(check.score)),
      h('dt', {}, t('sc.comment')), h('dd', { class: 'sc-pre' }, check.comment || t('common.noValue')),
      h('dt', {}, t('sc.reviewedAt')), h('dd', {}, check.reviewed_at ? formatDateTime(check.reviewed_at) : t('common.noValue'))));
}

/** The appeal, when there is one, and its decision. */
export function appealCard(check) {
  const a = check.appeal;
  if (!a) return null;
  const decided = a.decision === 'upheld' || a.decision === 'overturned';
  return card('sc.appeal',
    h('p', { class: 'sc-pre', 'data-testid': 'appeal-comment' }, a.comment || ''),
    h('p', { class: 'muted' }, t('sc.appealedAt', { time: a.at ? formatDateTime(a.at) : t('common.noValue') })),
    h('p', { class: `sc-appeal__state${decided ? ` sc-appeal__state--${a.decision}` : ''}`, 'data-testid': 'appeal-state' },
      decided ? t(`sc.appeal.${a.decision}`) : t('sc.appealPending')),
    decided && a.decision_comment ? h('p', { class: 'sc-pre' }, t('sc.decisionComment', { text: a.decision_comment })) : null);
}
