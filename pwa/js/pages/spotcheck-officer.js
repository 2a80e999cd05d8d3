// The officer's side of a spot-check: an alert on every screen when a check arrives (banner with a
// countdown, sound, vibration), and the answer page with the in-app camera, the result and the appeal.

import { errorMessage } from '../api.js';
import { cameraPanel } from '../camera.js';
import { h, nextId, restoreValues } from '../dom.js';
import { formatClock, formatDateTime, t } from '../i18n.js';
import { LiveStream } from '../live.js';
import {
  answerFigure,
  appealCard,
  countdown,
  dateTimeSeconds,
  ms,
  resultCard,
  scApi,
  scStatusBadge,
  submitAnswer,
} from './spotcheck-common.js';
import { card } from '../widgets.js';

const REMIND_AT_MS = [5 * 60000, 60000]; // a reminder beep when this little time is left

// ---- sound and vibration --------------------------------------------------------------------

let audio = null;

function audioContext(create) {
  const AC = window.AudioContext || window.webkitAudioContext;
  if (!AC) return null;
  if (!audio && create) {
    try {
      audio = new AC();
    } catch {
      return null;
    }
  }
  if (audio && audio.state === 'suspended') audio.resume().catch(() => {});
  return audio;
}

/** Browsers only let a page make sound after a tap: prepare the sound on the first one. */
function unlockAudio() {
  audioContext(true);
}

function beep(times = 3) {
  const ctx = audioContext(Boolean(navigator.userActivation && navigator.userActivation.hasBeenActive));
  if (!ctx) return;
  try {
    const t0 = ctx.currentTime + 0.05;
    for (let i = 0; i < times; i += 1) {
      const start = t0 + i * 0.4;
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'square';
      osc.frequency.value = i % 2 ? 660 : 880;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.25, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.28);
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start(start);
      osc.stop(start + 0.3);
    }
  } catch {
    /* sound is a courtesy: the banner is the alert */
  }
}

function vibrate(pattern) {
  if (!navigator.vibrate) return;
  if (navigator.userActivation && !navigator.userActivation.hasBeenActive) return;
  try {
    navigator.vibrate(pattern);
  } catch {
    /* not allowed here */
  }
}

// ---- the watcher: alerts on every screen ---------------------------------------------------------

const W = {
  user: null,
  stream: null,
  requested: new Map(), // id → check waiting for my answer
  results: new Map(), // id → reviewed check, until dismissed
  alerted: new Set(),
  reminded: new Map(), // id → reminder thresholds already sounded
  expired: new Set(), // requested checks whose time ran out while on screen
  host: null,
  timers: [],
  ticker: null,
  listeners: new Set(),
};

/** The check the current page is about, if any: its banner is not needed there. */
function pageCheckId() {
  const m = /^#\/spot-checks\/([\w-]+)$/.exec(location.hash);
  return m ? m[1] : null;
}

function hostEl() {
  if (W.host && W.host.isConnected) return W.host;
  const main = document.getElementById('main');
  W.host = h('div', { class: 'sc-alerts', 'data-testid': 'sc-alerts' });
  main.parentNode.insertBefore(W.host, main);
  return W.host;
}

function emit(type, check) {
  for (const fn of [...W.listeners]) {
    try {
      fn(type, check);
    } catch (err) {
      setTimeout(() => {
        throw err;
      });
    }
  }
}

/** Listen to spot-check news for the signed-in officer: fn(type, check). Returns the unsubscribe. */
export function onSpotCheck(fn) {
  W.listeners.add(fn);
  return () => W.listeners.delete(fn);
}

function alarm(check) {
  if (W.alerted.has(check.id)) return;
  W.alerted.add(check.id);
  beep(3);
  vibrate([400, 150, 400, 150, 400]);
}

function remind() {
  const now = Date.now();
  for (const c of W.requested.values()) {
    const left = ms(c.due_at) - now;
    const done = W.reminded.get(c.id) || new Set();
    for (const at of REMIND_AT_MS) {
      if (left <= at && left > 0 && !done.has(at)) {
        done.add(at);
        if (left < at - 5000) continue; // already past this mark when first seen
        beep(2);
        vibrate([300, 150, 300]);
      }
    }
    W.reminded.set(c.id, done);
  }
}

function requestBanner(c) {
  const id = nextId('sc-banner');
  if (W.expired.has(c.id) || ms(c.due_at) <= Date.now()) {
    const ok = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, t('sc.dismiss'));
    ok.addEventListener('click', () => {
      W.requested.delete(c.id);
      W.expired.delete(c.id);
      draw();
    });
    return h('section', { class: 'sc-banner sc-banner--over', 'aria-labelledby': id, 'data-testid': 'sc-banner', 'data-check': c.id },
      h('h2', { id, class: 'sc-banner__title' }, t('sc.banner.title')),
      h('p', { class: 'sc-banner__text', role: 'alert' }, t('sc.banner.over', { time: formatClock(c.due_at) })),
      ok);
  }
  const timer = countdown(c.due_at, {
    big: true,
    testid: 'sc-banner-countdown',
    onEnd() {
      W.expired.add(c.id);
      setTimeout(draw, 0);
    },
  });
  W.timers.push(timer);
  return h('section', { class: 'sc-banner', 'aria-labelledby': id, 'data-testid': 'sc-banner', 'data-check': c.id },
    h('h2', { id, class: 'sc-banner__title' },
      h('span', { class: 'sc-banner__icon', 'aria-hidden': 'true' }, '⚠'), t('sc.banner.title')),
    h('p', { class: 'sc-banner__text', role: 'alert' }, t('sc.banner.text')),
    timer.node,
    h('p', { class: 'sc-banner__due' }, t('sc.banner.due', { time: formatClock(c.due_at) })),
    h('a', { class: 'btn btn--xl btn--block sc-banner__go', href: `#/spot-checks/${c.id}`, 'data-testid': 'sc-answer' },
      h('span', { class: 'camera__dot', 'aria-hidden': 'true' }), t('sc.banner.answer')));
}

/** One banner for the newest result; older unseen ones are a line of links in it, not more banners. */
function resultBanner(c, older = []) {
  const id = nextId('sc-result');
  const passed = c.status === 'passed';
  const ok = h('button', { type: 'button', class: 'btn btn--secondary' }, t('sc.dismiss'));
  ok.addEventListener('click', () => {
    W.results.delete(c.id);
    draw();
  });
  const more = older.length
    ? h('p', { class: 'sc-banner__more', 'data-testid': 'sc-result-more' }, t('sc.banner.moreResults', { n: older.length }), ' ',
      older.map((o, i) => [i ? '、' : '', h('a', { href: `#/spot-checks/${o.id}` },
        `${t(o.status === 'passed' ? 'sc.pass' : 'sc.fail')}（${formatClock(o.reviewed_at || o.requested_at)}）`)]))
    : null;
  return h('section', {
    class: `sc-banner sc-banner--result sc-banner--${passed ? 'pass' : 'fail'}`,
    'aria-labelledby': id,
    'data-testid': 'sc-result-banner',
    'data-check': c.id,
  },
  h('h2', { id, class: 'sc-banner__title' }, t('sc.banner.result')),
  h('p', { class: 'sc-banner__text', role: 'status' },
    h('span', { class: 'sc-banner__verdict' }, h('span', { 'aria-hidden': 'true' }, passed ? '✓ ' : '✗ '), t(passed ? 'sc.pass' : 'sc.fail')),
    c.score == null ? '' : ` · ${t('sc.scoreIs', { score: c.score })}`),
  more,
  h('div', { class: 'sc-banner__row' },
    h('a', { class: 'btn btn--primary', href: `#/spot-checks/${c.id}` }, t('sc.banner.view')), ok));
}

function draw() {
  for (const timer of W.timers) timer.stop();
  W.timers = [];
  if (!W.user) {
    if (W.host) W.host.replaceChildren();
    return;
  }
  const here = pageCheckId();
  // A result the officer has opened is seen: its banner does not come back on the next page.
  if (here) W.results.delete(here);
  const host = hostEl();
  const waiting = [...W.requested.values()].filter((c) => c.id !== here).sort((a, b) => ms(a.due_at) - ms(b.due_at));
  const done = [...W.results.values()].reverse(); // newest first (Map keeps arrival order)
  host.replaceChildren(...waiting.map(requestBanner), ...(done.length ? [resultBanner(done[0], done.slice(1))] : []));
  clearInterval(W.ticker);
  W.ticker = W.requested.size ? setInterval(remind, 1000) : null;
}

async function loadOpen() {
  const user = W.user;
  let rows;
  try {
    rows = await scApi.list('requested');
  } catch {
    return; // the live stream and the next sync try again
  }
  if (W.user !== user) return;
  const now = Date.now();
  W.requested.clear();
  for (const c of rows || []) {
    if (c.officer_id !== user.id || c.status !== 'requested' || ms(c.due_at) <= now) continue;
    W.requested.set(c.id, c);
    if (c.id !== pageCheckId()) alarm(c);
  }
  draw();
}

function stopWatch() {
  if (W.stream) W.stream.stop();
  W.stream = null;
  W.user = null;
  W.requested.clear();
  W.results.clear();
  W.alerted.clear();
  W.reminded.clear();
  W.expired.clear();
  clearInterval(W.ticker);
  W.ticker = null;
  document.removeEventListener('pointerdown', unlockAudio, true);
  draw();
}

/**
 * Keep the officer's spot-check alerts running for `user` (null or not an officer: stop). Called on
 * every page change; it redraws the banners, which are hidden on the page of their own check.
 */
export function watchSpotChecks(user) {
  const officer = Boolean(user && Array.isArray(user.roles) && user.roles.includes('officer'));
  if (!officer) {
    if (W.user) stopWatch();
    return;
  }
  if (W.user && W.user.id === user.id && W.stream) {
    draw();
    return;
  }
  if (W.user) stopWatch();
  W.user = user;
  document.addEventListener('pointerdown', unlockAudio, true);
  const stream = new LiveStream({ types: ['spot_check.requested', 'spot_check.reviewed'] });
  W.stream = stream;
  stream.on('spot_check.requested', (ev) => {
    const c = ev.data;
    if (!c || c.officer_id !== W.user.id || c.status !== 'requested') return;
    W.requested.set(c.id, c);
    if (c.id !== pageCheckId()) alarm(c);
    draw();
    emit('requested', c);
  });
  stream.on('spot_check.reviewed', (ev) => {
    const c = ev.data;
    if (!c || c.officer_id !== W.user.id) return;
    W.requested.delete(c.id);
    W.results.delete(c.id); // a re-review moves it to the newest place
    W.results.set(c.id, c);
    if (c.id !== pageCheckId()) {
      beep(1);
      vibrate(200);
    }
    draw();
    emit('reviewed', c);
  });
  // Not an event of its own: the server's word that this account changed (the app reloads it).
  stream.on('me.changed', () => window.dispatchEvent(new CustomEvent('fw:me-changed')));
  stream.on('sync', ({ resumed }) => {
    if (!resumed) loadOpen();
    emit('sync', null);
  });
  stream.start();
  loadOpen();
}

/** The check was answered from its page: no banner for it any more. */
function answered(c) {
  W.requested.delete(c.id);
  W.expired.delete(c.id);
  draw();
}

// ---- the answer page ---------------------------------------------------------------------------

function appealForm(check, onDone) {
  const input = h('textarea', { id: 'sc-appeal', name: 'sc-appeal', rows: 4, maxlength: 1000, 'aria-describedby': 'sc-appeal-hint' });
  const error = h('p', { class: 'alert', role: 'alert', 'data-testid': 'appeal-error' });
  const submit = h('button', { type: 'submit', class: 'btn btn--primary btn--xl btn--block' }, t('sc.appeal.submit'));
  const form = h('form', { class: 'form', novalidate: true, 'data-testid': 'appeal-form' },
    h('div', { class: 'field' },
      h('label', { for: 'sc-appeal' }, t('sc.appeal.reason')),
      h('p', { id: 'sc-appeal-hint', class: 'field__hint' }, t('sc.appeal.hint')),
      input),
    error, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (text.length < 2) {
      error.textContent = t('sc.appeal.need');
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    error.textContent = '';
    submit.disabled = true;
    submit.textContent = t('common.submitting');
    try {
      onDone(await scApi.appeal(check.id, { comment: text }), t('sc.appeal.sent'));
    } catch (err) {
      error.textContent = errorMessage(err);
      submit.disabled = false;
      submit.textContent = t('sc.appeal.submit');
    }
  });
  return card('sc.appeal.title', h('p', {}, t('sc.appeal.intro')), form);
}

/** #/spot-checks/<id> for the officer the check is addressed to. Returns { node, cleanup }. */
export function officerCheckView(first, { restore }) {
  let check = first;
  let parts = [];
  let flash = '';
  let restored = false;
  const top = h('p', { class: 'notice notice--ok', role: 'status', 'data-testid': 'sc-flash' });
  const body = h('div', { class: 'page__body' });
  const node = h('div', { class: 'sc-officer' }, top, body);

  function stopParts() {
    for (const p of parts) if (p && p.stop) p.stop();
    parts = [];
  }

  async function reload() {
    try {
      const fresh = await scApi.get(check.id);
      // Do not throw away a picture being taken while nothing has changed.
      if (fresh.status === check.status && JSON.stringify(fresh.appeal) === JSON.stringify(check.appeal)) {
        check = fresh;
        return;
      }
      check = fresh;
      draw();
    } catch {
      /* keep what is shown; the next event or visit tries again */
    }
  }

  function facts() {
    return h('dl', { class: 'facts' },
      h('dt', {}, t('sc.requestedAtLabel')), h('dd', {}, formatDateTime(check.requested_at)),
      h('dt', {}, t('sc.deadline')), h('dd', {}, dateTimeSeconds(check.due_at)));
  }

  function answerSection() {
    const allowed = new Set(check.allowed || []);
    if (!allowed.has('submit') || ms(check.due_at) <= Date.now()) {
      return h('p', { class: 'alert alert--static', role: 'alert', 'data-testid': 'sc-too-late' }, t('sc.officer.tooLate'));
    }
    const timer = countdown(check.due_at, {
      big: true,
      onEnd() {
        setTimeout(reload, 3000);
      },
    });
    const camera = cameraPanel({
      submitLabel: 'sc.officer.send',
      async onSubmit(blob, capturedAt) {
        try {
          check = await submitAnswer(check.id, blob, capturedAt);
        } catch (err) {
          if (err && (err.code === 'spot_check.invalid_state' || err.code === 'spot_check.late')) {
            const msg = errorMessage(err);
            setTimeout(reload, 0);
            throw new Error(msg);
          }
          throw new Error(errorMessage(err));
        }
        answered(check);
        flash = t('sc.officer.sent');
        draw();
      },
    });
    parts.push(timer, camera);
    const what = (check.checklist || []).map((i) => h('li', {}, i.label));
    return h('div', { class: 'sc-answer' },
      timer.node,
      h('p', { class: 'lead' }, t('sc.officer.intro')),
      h('ul', { class: 'sc-what' }, what),
      h('p', { class: 'muted' }, t('sc.officer.cameraOnly')),
      camera.node);
  }

  function draw() {
    stopParts();
    const allowed = new Set(check.allowed || []);
    const head = h('div', { class: 'sc-head' },
      h('p', { class: 'sc-head__status' }, scStatusBadge(check.status)),
      facts());
    const sections = [head];
    if (check.status === 'requested') sections.push(answerSection());
    if (check.status === 'overdue') {
      sections.push(h('p', { class: 'alert alert--static', 'data-testid': 'sc-overdue' }, t('sc.officer.overdue')));
    }
    if (check.status === 'submitted') {
      sections.push(h('p', { class: 'notice', 'data-testid': 'sc-waiting-review' }, t('sc.officer.waitingReview')));
    }
    if (check.status === 'passed' || check.status === 'failed') sections.push(resultCard(check));
    if (check.appeal) sections.push(appealCard(check));
    if (allowed.has('appeal')) {
      sections.push(appealForm(check, (updated, text) => {
        check = updated;
        flash = text;
        draw();
      }));
    }
    if (check.evidence_id) {
      const fig = answerFigure(check);
      parts.push(fig);
      sections.push(card('sc.myAnswer', fig.node));
    }
    body.replaceChildren(...sections);
    top.textContent = flash;
    if (flash) top.scrollIntoView({ block: 'nearest' });
    flash = '';
    if (restore && !restored) {
      restored = true;
      restoreValues(body, restore);
    }
  }

  const off = onSpotCheck((type, c) => {
    if (type === 'sync' || (c && c.id === check.id)) reload();
  });
  if (check.status !== 'requested') answered(check);
  draw();

  return {
    node,
    cleanup() {
      off();
      stopParts();
    },
  };
}
