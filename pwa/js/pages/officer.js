// #/officer "今日执法": certificate, new record, outbox, SOS.

import { errorMessage, request } from '../api.js';
import { h, nextId } from '../dom.js';
import { t, formatDate, formatDateTime, daysUntil } from '../i18n.js';
import { cached } from '../offline-cache.js';
import { onOutboxChange, pendingCount } from '../store.js';
import { dutyReport, onDuty, onDutyChange, resumeDuty, setOnDuty, setShiftPartners, shiftPartners } from '../duty.js';
import { isOnline, onNetChange } from '../net.js';
import { api } from '../enforcement.js';
import { fieldDataSavedAt, onFieldDataChange } from '../field-data.js';
import { accountCard, pageHeading, todaySlot, unitNames } from './common.js';
import { inboxLink, openTasks } from '../caps.js';

const SOS_HOLD_MS = 2000;
const SOS_LOCATE_WAIT_MS = 3000; // after the hold, wait at most this long for a position
const SOS_RETRY_MS = 10000;
const SOS_RETRY_WITHIN_MS = 30 * 60 * 1000;
const EXPIRY_WARNING_DAYS = 30;

/** Effective certificate state: a "valid" certificate past its expiry date counts as expired. */
export function certificateState(cert) {
  if (!cert) return 'none';
  const status = ['valid', 'expired', 'suspended', 'revoked', 'lost'].includes(cert.status) ? cert.status : 'none';
  if (status === 'valid' && cert.expires_on) {
    const left = daysUntil(cert.expires_on);
    if (left !== null && left < 0) return 'expired';
  }
  return status;
}

const QR_KEY = 'fw.certqr';

/**
 * The card's check code (a QR of a server-signed link): anyone scanning it sees the certificate's
 * live status. Kept on the phone so it shows offline; fetched again when the card number changes.
 */
function certificateQr(user, cert) {
  if (!cert || !cert.number) return null;
  const img = h('img', { class: 'cert__qr', alt: t('cert.qrTitle'), width: '160', height: '160', 'data-testid': 'certificate-qr' });
  const box = h('div', { class: 'cert__qrbox' }, img, h('p', { class: 'field__hint' }, t('cert.qrHint')));
  const show = (svg) => {
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  };
  let kept = null;
  try {
    kept = JSON.parse(localStorage.getItem(QR_KEY) || 'null');
  } catch {
    kept = null;
  }
  const mine = kept && kept.user === user.id && kept.number === cert.number ? kept : null;
  if (mine) show(mine.svg);
  else {
    box.hidden = true;
    request('GET', `/users/${encodeURIComponent(user.id)}/certificate/qr`).then((qr) => {
      if (!qr || !qr.svg) return;
      show(qr.svg);
      box.hidden = false;
      img.dataset.url = qr.url;
      try {
        localStorage.setItem(QR_KEY, JSON.stringify({ user: user.id, number: cert.number, svg: qr.svg, url: qr.url }));
      } catch {
        /* storage full: shown now, fetched again next time */
      }
    }, () => {});
  }
  if (mine) img.dataset.url = mine.url || '';
  return box;
}

const CHANGE_KEYS = ['issued', 'suspended', 'reinstated', 'revoked', 'lost', 'reissued', 'recalled'];

/** The certificate's changes, each with its date and reason, read when opened. */
function certificateHistory(user, cert) {
  if (!cert || !cert.number) return null;
  const list = h('ol', { class: 'cert__history', 'data-testid': 'certificate-history' });
  const box = h('details', { class: 'cert__changes' }, h('summary', {}, t('cert.history')), list);
  box.addEventListener('toggle', () => {
    if (!box.open) return;
    request('GET', `/users/${encodeURIComponent(user.id)}/certificate/history`).then((rows) => {
      list.replaceChildren(...rows.map((r) => h('li', { 'data-change': r.change },
        `${formatDate(r.effective_on)} ${t(CHANGE_KEYS.includes(r.change) ? `cert.change.${r.change}` : 'cert.change.other')}`,
        r.reason ? `：${r.reason}` : '')));
    }, (err) => list.replaceChildren(h('li', { class: 'muted' }, errorMessage(err))));
  });
  return box;
}

function certificateCard(cert, user) {
  const id = nextId('cert');
  const state = certificateState(cert);
  const title = h('h2', { id, class: 'card__title' }, t('cert.title'));
  const number = cert && cert.number ? h('p', { class: 'muted' }, `${t('cert.number')} ${cert.number}`) : null;

  if (state === 'valid') {
    const left = cert.expires_on ? daysUntil(cert.expires_on) : null;
    return h(
      'section',
      { class: 'card cert cert--valid', 'aria-labelledby': id, 'data-testid': 'certificate', 'data-state': state },
      title,
      h('p', { class: 'cert__status' }, h('span', { class: 'cert__icon', 'aria-hidden': 'true' }, '✓'), t('cert.valid')),
      cert.expires_on ? h('p', { class: 'cert__expiry' }, t('cert.validUntil', { date: formatDate(cert.expires_on) })) : null,
      left !== null && left <= EXPIRY_WARNING_DAYS ? h('p', { class: 'cert__soon' }, t('cert.expiresSoon', { days: left })) : null,
      number,
      certificateQr(user, cert),
      certificateHistory(user, cert),
    );
  }

  const why = cert && (cert.status_reason || cert.revoked_reason);
  const reason = why ? h('p', { 'data-testid': 'certificate-reason' }, t('cert.reason', { reason: why })) : null;
  return h(
    'section',
    { class: 'card cert cert--bad', 'aria-labelledby': id, 'data-testid': 'certificate', 'data-state': state },
    title,
    h('p', { class: 'cert__status' }, h('span', { class: 'cert__icon', 'aria-hidden': 'true' }, '⚠'), t(`cert.${state}`)),
    state === 'expired' && cert.expires_on ? h('p', {}, t('cert.expiredOn', { date: formatDate(cert.expires_on) })) : null,
    reason,
    h('p', { class: 'cert__consequence' }, t('cert.cannotAct')),
    number,
    certificateQr(user, cert),
    certificateHistory(user, cert),
  );
}

function newRecordButton(canAct) {
  const note = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' });
  const btn = h('button', { type: 'button', class: 'btn btn--primary btn--xl btn--block' },
    h('span', { class: 'btn__plus', 'aria-hidden': 'true' }, '+'), t('officer.new'));
  btn.addEventListener('click', () => {
    if (canAct) {
      location.hash = '#/officer/new';
      return;
    }
    note.textContent = '';
    requestAnimationFrame(() => {
      note.textContent = t('officer.newBlocked');
    });
  });
  return h('div', { class: 'action' }, btn, note);
}

function workLinks(user) {
  return h('nav', { class: 'links', 'aria-label': t('officer.title') },
    h('a', { class: 'btn btn--secondary btn--block', href: '#/officer/actions' }, t('officer.myActions')),
    h('a', { class: 'btn btn--secondary btn--block', href: '#/cases' }, t('officer.cases')),
    h('a', { class: 'btn btn--secondary btn--block', href: '#/clocks', 'data-testid': 'clocks-link' }, t('clock.listTitle')),
    h('a', { class: 'btn btn--secondary btn--block', href: '#/officer/training', 'data-testid': 'my-training-link' }, t('tr.mineLink')),
    (user.units || []).some((u) => u.kind === 'department') ? h('a', { class: 'btn btn--secondary btn--block', href: '#/oversight', 'data-testid': 'oversight-link' }, t('ov.link')) : null,
    ...unitLists(user));
}

/** The 执法事项清单 of each unit the officer works in. */
function unitLists(user) {
  const units = (user && user.units) || [];
  return units.map((u) => h('a', { class: 'btn btn--secondary btn--block', href: `#/units/${encodeURIComponent(u.id)}/enforcement-list`, 'data-testid': 'enforcement-list-link' },
    units.length > 1 ? `${t('el.link')}（${u.name}）` : t('el.link')));
}

function outboxBadge() {
  const count = h('span', { class: 'badge', 'data-testid': 'outbox-count' }, '0');
  const hint = h('span', { class: 'visually-hidden' }, t('officer.outboxHint'));
  const node = h('a', { class: 'outbox btn btn--secondary btn--block', href: '#/officer/outbox', 'data-testid': 'outbox' },
    h('span', { class: 'outbox__label' }, t('officer.outbox')), ' ', count, hint);
  const update = () => pendingCount().then((n) => {
    count.textContent = String(n);
    node.classList.toggle('outbox--busy', n > 0);
  });
  update();
  return { node, cleanup: onOutboxChange(update) };
}

/** The shift's partner officers (valid certificates, same unit), remembered for new records. */
function partnerPicker(user) {
  const box = h('fieldset', { class: 'group shift__partners', 'data-testid': 'shift-partners' },
    h('legend', { class: 'group__legend' }, t('duty.partners')));
  const note = h('p', { class: 'field__hint' }, t('duty.partnersHint'));
  box.append(note);
  const units = Array.isArray(user.units) ? user.units : [];
  Promise.all(units.map((u) => cached(`officers:${u.id}`, () => api.officers(u.id)).catch(() => null)))
    .then((lists) => {
      const seen = new Set([String(user.id)]);
      const people = [];
      for (const list of lists) {
        for (const o of (list && list.value) || []) {
          if (seen.has(String(o.id)) || o.active === false || certificateState(o.certificate) !== 'valid') continue;
          seen.add(String(o.id));
          people.push(o);
        }
      }
      const chosen = new Set(shiftPartners());
      if (!people.length) {
        note.textContent = t('duty.partnersNone');
        return;
      }
      for (const o of people) {
        const input = h('input', { type: 'checkbox', value: String(o.id), checked: chosen.has(String(o.id)) });
        input.addEventListener('change', () => {
          setShiftPartners([...box.querySelectorAll('input:checked')].map((i) => i.value));
        });
        box.append(h('label', { class: 'choice' }, input, h('span', { class: 'choice__label' }, o.display_name || o.username)));
      }
    });
  return box;
}

/** How old the copy on the phone is of what the officer needs offline (items, partners, checklist). */
function fieldDataAge(user) {
  const line = h('p', { class: 'muted field-data', 'data-testid': 'field-data-age' });
  const draw = () => {
    const at = fieldDataSavedAt(user);
    line.textContent = at ? t('officer.fieldDataAt', { time: formatDateTime(at) }) : t('officer.fieldDataNone');
  };
  draw();
  return { node: line, cleanup: onFieldDataChange(draw) };
}

// ---- SOS ---------------------------------------------------------------------------------------

/** The current position for an SOS, or null (no permission, no fix, no support). */
function locate() {
  return new Promise((resolve) => {
    if (!navigator.geolocation) {
      resolve(null);
      return;
    }
    try {
      navigator.geolocation.getCurrentPosition(
        (p) => resolve({
          lat: p.coords.latitude,
          lon: p.coords.longitude,
          accuracy_m: Math.min(100000, Math.round(p.coords.accuracy || 0)),
        }),
        () => resolve(null),
        { enableHighAccuracy: true, timeout: 8000, maximumAge: 60000 },
      );
    } catch {
      resolve(null);
    }
  });
}

function within(promise, ms) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(null), ms))]);
}

function isNetworkError(err) {
  return Boolean(err && (err.code === 'network.offline' || err.code === 'network.timeout'));
}

// An SOS that could not be sent is sent again when the network is back, even after the officer has
// left this page; the message line of the page on screen (if any) reports the outcome.
let pendingSos = null; // { body, at }
let retryTimer = null;
let sosSay = null;

async function resendSos() {
  clearTimeout(retryTimer);
  retryTimer = null;
  const pending = pendingSos;
  if (!pending) return;
  if (Date.now() - pending.at > SOS_RETRY_WITHIN_MS) {
    pendingSos = null;
    return;
  }
  const body = { ...pending.body, note: t('sos.delayedNote', { time: formatDateTime(pending.at) }) };
  try {
    await request('POST', '/sos', { body });
    if (pendingSos === pending) pendingSos = null;
    if (sosSay) sosSay(t('sos.resent'));
  } catch (err) {
    if (isNetworkError(err)) {
      if (navigator.onLine !== false) retryTimer = setTimeout(resendSos, SOS_RETRY_MS);
    } else if (pendingSos === pending) {
      pendingSos = null;
      if (sosSay) sosSay(t('sos.failed', { reason: errorMessage(err) }));
    }
  }
}

window.addEventListener('online', () => {
  if (pendingSos) resendSos();
});

async function sendSos(body, say) {
  try {
    await request('POST', '/sos', { body });
    pendingSos = null;
    clearTimeout(retryTimer);
    say(body.lat != null ? t('sos.sent') : t('sos.sentNoPosition'));
  } catch (err) {
    if (isNetworkError(err)) {
      pendingSos = { body, at: Date.now() };
      if (navigator.onLine !== false) {
        clearTimeout(retryTimer);
        retryTimer = setTimeout(resendSos, SOS_RETRY_MS);
      }
      say(`${t('sos.offline')}${t('sos.willRetry')}`);
    } else {
      say(t('sos.failed', { reason: errorMessage(err) }));
    }
  }
}

/** SOS needs a deliberate press-and-hold; a tap only explains how to use it. */
function sosControl() {
  const hintId = nextId('sos-hint');
  const fill = h('span', { class: 'sos__fill', 'aria-hidden': 'true' });
  const label = h('span', { class: 'sos__label' }, t('sos.label'));
  const btn = h('button', { type: 'button', class: 'sos__btn', 'aria-describedby': hintId, 'data-testid': 'sos' }, fill, label);
  const hint = h('p', { id: hintId, class: 'sos__hint' }, t('sos.hint'));
  const msg = h('p', { class: 'sos__msg', role: 'alert' });
  let timer = null;
  let startedAt = 0;
  let located = null;
  let sending = false;

  function say(text) {
    msg.textContent = text;
    if (text) msg.scrollIntoView({ block: 'nearest' });
  }
  function start() {
    if (timer) return;
    startedAt = performance.now();
    // Look for the position while the button is held, so the SOS need not wait for it afterwards.
    located = locate();
    btn.classList.add('is-holding');
    hint.textContent = t('sos.holding');
    say('');
    timer = setTimeout(fire, SOS_HOLD_MS);
  }
  function stop() {
    btn.classList.remove('is-holding');
    hint.textContent = t('sos.hint');
  }
  function cancel() {
    if (!timer) return;
    clearTimeout(timer);
    timer = null;
    stop();
    if (performance.now() - startedAt < SOS_HOLD_MS) say(t('sos.tap'));
  }
  async function fire() {
    timer = null;
    stop();
    if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
    if (sending) return;
    sending = true;
    say(t('sos.sending'));
    try {
      const position = await within(located || locate(), SOS_LOCATE_WAIT_MS);
      await sendSos(position ? { ...position } : {}, say);
    } finally {
      sending = false;
    }
  }

  btn.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    try {
      btn.setPointerCapture(e.pointerId);
    } catch {
      /* capture is a convenience only */
    }
    start();
  });
  btn.addEventListener('pointerup', cancel);
  btn.addEventListener('pointercancel', cancel);
  btn.addEventListener('lostpointercapture', cancel);
  btn.addEventListener('keydown', (e) => {
    if ((e.key === 'Enter' || e.key === ' ') && !e.repeat) {
      e.preventDefault();
      start();
    }
  });
  btn.addEventListener('keyup', (e) => {
    if (e.key === 'Enter' || e.key === ' ') cancel();
  });
  btn.addEventListener('blur', cancel);
  btn.addEventListener('contextmenu', (e) => e.preventDefault());
  btn.addEventListener('click', (e) => e.preventDefault());

  const node = h('section', { class: 'sos', 'aria-label': t('sos.label') }, btn, hint, msg);
  sosSay = say;
  return {
    node,
    cleanup() {
      if (timer) clearTimeout(timer);
      if (sosSay === say) sosSay = null;
    },
  };
}

function dutyCard(canAct, user) {
  const status = h('p', { class: 'duty__status', role: 'status', 'data-testid': 'duty-status' });
  const button = h('button', { type: 'button', class: 'btn btn--secondary btn--block', 'data-testid': 'duty-toggle' });
  const blocked = canAct ? null : h('p', { class: 'alert alert--static', 'data-testid': 'duty-blocked' }, t('duty.blocked'));
  const partners = h('div', { class: 'slot' });
  // Say only what is true now: without a network (or after a failed ping) the command center sees
  // the last position that reached it, not this one.
  const render = () => {
    const on = onDuty();
    const r = dutyReport();
    const cut = !isOnline() || r.failed;
    status.textContent = !on ? t('duty.off')
      : r.noGps ? t('duty.noGps')
        : cut ? (r.sentAt ? t('duty.notSentSince', { time: formatDateTime(r.sentAt) }) : t('duty.notSentYet'))
          : r.sentAt ? t('duty.sent', { time: formatDateTime(r.sentAt) }) : t('duty.on');
    status.dataset.state = !on ? 'off' : r.noGps ? 'no-gps' : cut ? 'not-sent' : r.sentAt ? 'sent' : 'starting';
    button.textContent = on ? t('duty.stop') : t('duty.start');
    button.disabled = !on && !canAct;
    if (on && canAct && !partners.firstChild) partners.replaceChildren(partnerPicker(user));
    if (!on) partners.replaceChildren();
  };
  button.addEventListener('click', () => setOnDuty(!onDuty()));
  const offDuty = onDutyChange(render);
  const offNet = onNetChange(render);
  const off = () => {
    offDuty();
    offNet();
  };
  render();
  if (canAct) resumeDuty();
  else if (onDuty()) setOnDuty(false); // an invalid certificate ends the shift
  return {
    node: h('div', { class: 'card duty' }, h('h2', { class: 'card__title' }, t('duty.title')), status, blocked, button, partners),
    cleanup: off,
  };
}

/** The officer's open 整改任务 (a failed spot-check's, say), loaded with its page on first use. */
function tasksSlot(user) {
  const slot = h('div', { 'data-testid': 'home-tasks-slot' });
  openTasks(user).then((items) => {
    if (items.length) import('./tasks.js').then((m) => slot.replaceChildren(m.tasksHomeCard(items)), () => {});
  });
  return slot;
}

export function officerPage({ user, onLogout }) {
  const cert = user.certificate || null;
  const canAct = certificateState(cert) === 'valid';
  const units = unitNames(user);
  const sos = sosControl();
  const duty = dutyCard(canAct, user);
  const outbox = outboxBadge();
  const age = fieldDataAge(user);
  const node = h(
    'section',
    { class: 'page page--officer' },
    pageHeading('officer.title'),
    h('p', { class: 'lead' },
      h('span', { 'data-testid': 'officer-name' }, user.display_name || user.username),
      units.length ? h('span', { class: 'lead__unit', 'data-testid': 'officer-unit' }, ` · ${units.join('、')}`) : null),
    todaySlot(user),
    certificateCard(cert, user),
    duty.node,
    newRecordButton(canAct),
    age.node,
    workLinks(user),
    inboxLink(user),
    tasksSlot(user),
    outbox.node,
    sos.node,
    accountCard(user, onLogout),
  );
  return {
    node,
    cleanup() {
      sos.cleanup();
      duty.cleanup();
      outbox.cleanup();
      age.cleanup();
    },
  };
}
