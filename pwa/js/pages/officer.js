// #/officer "今日执法": certificate, new record, outbox, SOS.

import { h, nextId } from '../dom.js';
import { t, formatDate, daysUntil } from '../i18n.js';
import { pendingCount } from '../outbox.js';
import { accountCard, pageHeading, unitNames } from './common.js';

const SOS_HOLD_MS = 2000;
const EXPIRY_WARNING_DAYS = 30;

/** Effective certificate state: a "valid" certificate past its expiry date counts as expired. */
export function certificateState(cert) {
  if (!cert) return 'none';
  const status = ['valid', 'expired', 'suspended', 'revoked'].includes(cert.status) ? cert.status : 'none';
  if (status === 'valid' && cert.expires_on) {
    const left = daysUntil(cert.expires_on);
    if (left !== null && left < 0) return 'expired';
  }
  return status;
}

function certificateCard(cert) {
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
    );
  }

  const reason = cert && cert.revoked_reason ? h('p', {}, t('cert.reason', { reason: cert.revoked_reason })) : null;
  return h(
    'section',
    { class: 'card cert cert--bad', 'aria-labelledby': id, 'data-testid': 'certificate', 'data-state': state },
    title,
    h('p', { class: 'cert__status' }, h('span', { class: 'cert__icon', 'aria-hidden': 'true' }, '⚠'), t(`cert.${state}`)),
    state === 'expired' && cert.expires_on ? h('p', {}, t('cert.expiredOn', { date: formatDate(cert.expires_on) })) : null,
    reason,
    h('p', { class: 'cert__consequence' }, t('cert.cannotAct')),
    number,
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

function workLinks() {
  return h('nav', { class: 'links', 'aria-label': t('officer.title') },
    h('a', { class: 'btn btn--secondary btn--block', href: '#/officer/actions' }, t('officer.myActions')),
    h('a', { class: 'btn btn--secondary btn--block', href: '#/cases' }, t('officer.cases')));
}

function outboxBadge() {
  const count = h('span', { class: 'badge', 'data-testid': 'outbox-count' }, '0');
  const hint = h('span', { class: 'visually-hidden' }, t('officer.outboxHint'));
  const node = h('p', { class: 'outbox', 'data-testid': 'outbox' },
    h('span', { class: 'outbox__label' }, t('officer.outbox')), ' ', count, hint);
  pendingCount().then((n) => {
    count.textContent = String(n);
  });
  return node;
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

  function say(text) {
    msg.textContent = text;
    if (text) msg.scrollIntoView({ block: 'nearest' });
  }
  function start() {
    if (timer) return;
    startedAt = performance.now();
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
  function fire() {
    timer = null;
    stop();
    if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
    say(t('sos.sent'));
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
  return { node, cleanup: () => timer && clearTimeout(timer) };
}

export function officerPage({ user, onLogout }) {
  const cert = user.certificate || null;
  const canAct = certificateState(cert) === 'valid';
  const units = unitNames(user);
  const sos = sosControl();
  const node = h(
    'section',
    { class: 'page page--officer' },
    pageHeading('officer.title'),
    h('p', { class: 'lead' },
      h('span', { 'data-testid': 'officer-name' }, user.display_name || user.username),
      units.length ? h('span', { class: 'lead__unit', 'data-testid': 'officer-unit' }, ` · ${units.join('、')}`) : null),
    certificateCard(cert),
    newRecordButton(canAct),
    workLinks(),
    outboxBadge(),
    sos.node,
    accountCard(user, onLogout),
  );
  return { node, cleanup: sos.cleanup };
}
