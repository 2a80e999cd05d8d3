// #/spot-checks/<id>: the checker waits for the answer live, sees the picture full width with the
// server's receipt time, and scores every checklist item with big 合格 / 不合格 toggles. Supervisors
// decide appeals here. The officer the check is addressed to gets the answer page instead.

import { errorMessage } from '../api.js';
import { h, nextId, restoreValues } from '../dom.js';
import { formatDateTime, t } from '../i18n.js';
import { LiveStream } from '../live.js';
import { takeFlash } from '../enforcement.js';
import {
  answerFigure,
  appealCard,
  countdown,
  dateTimeSeconds,
  ms,
  resultCard,
  scApi,
  scStatusBadge,
} from './spotcheck-common.js';
import { card } from '../widgets.js';
import { draftFromButton } from '../caps.js';

const OVERDUE_GRACE_MS = 5000; // the server's scheduler marks a check overdue shortly after its deadline

function backTo(user) {
  const roles = new Set(user.roles || []);
  if (roles.has('supervisor')) return ['#/spot-checks', 'sc.back.supervisor'];
  if (roles.has('invited_supervisor')) return ['#/invited', 'sc.back.invited'];
  return ['#/officer', 'sc.back.officer'];
}

/** Suggested score: 100, less an equal share for each failed item. */
function suggestedScore(results, total) {
  if (!total) return 100;
  const failed = Object.values(results).filter((v) => v === false).length;
  return Math.max(0, Math.round(100 - (100 * failed) / total));
}

function reviewForm(check, onDone) {
  const items = check.checklist || [];
  const results = {};
  const error = h('div', { class: 'alert', role: 'alert', 'data-testid': 'review-error' });
  const score = h('input', {
    id: 'sc-score',
    name: 'sc-score',
    type: 'number',
    inputmode: 'numeric',
    min: 0,
    max: 100,
    step: 1,
    'aria-describedby': 'sc-score-hint',
    'data-testid': 'review-score',
  });
  score.value = '100';
  let scoreTouched = false;
  score.addEventListener('input', () => {
    scoreTouched = true;
    score.removeAttribute('aria-invalid');
  });
  const comment = h('textarea', { id: 'sc-comment', name: 'sc-comment', rows: 3, maxlength: 500, 'data-testid': 'review-comment' });

  const groups = items.map((item) => {
    const base = `sc-item-${item.key}`;
    const legendId = `${base}-legend`;
    const toggle = (ok) => {
      const id = `${base}-${ok ? 'pass' : 'fail'}`;
      const input = h('input', { id, type: 'radio', name: base, value: ok ? 'pass' : 'fail', class: 'sc-toggle__box' });
      input.addEventListener('change', () => {
        if (!input.checked) return;
        results[item.key] = ok;
        group.classList.remove('is-missing');
        if (!scoreTouched) score.value = String(suggestedScore(results, items.length));
      });
      return h('label', { class: `sc-toggle sc-toggle--${ok ? 'pass' : 'fail'}`, for: id, 'data-testid': `toggle-${item.key}-${ok ? 'pass' : 'fail'}` },
        input,
        h('span', { class: 'sc-toggle__icon', 'aria-hidden': 'true' }, ok ? '✓' : '✗'),
        h('span', { class: 'sc-toggle__text' }, t(ok ? 'sc.pass' : 'sc.fail')));
    };
    const group = h('fieldset', { class: 'sc-item', 'aria-labelledby': legendId, 'data-key': item.key },
      h('legend', { id: legendId, class: 'sc-item__label' }, item.label),
      h('div', { class: 'sc-item__toggles' }, toggle(true), toggle(false)));
    return group;
  });

  const submit = h('button', { type: 'submit', class: 'btn btn--primary btn--xl btn--block', 'data-testid': 'review-submit' }, t('sc.review.submit'));
  const form = h('form', { class: 'form sc-review', novalidate: true, 'data-testid': 'review-form' },
    h('p', { class: 'muted' }, t('sc.review.intro')),
    ...groups,
    h('div', { class: 'field' },
      h('label', { for: 'sc-score' }, t('sc.score')),
      h('p', { id: 'sc-score-hint', class: 'field__hint' }, t('sc.review.scoreHint')),
      score),
    h('div', { class: 'field' },
      h('label', { for: 'sc-comment' }, t('sc.comment'), h('span', { class: 'field__optional' }, ` ${t('common.optional')}`)),
      comment),
    error,
    submit);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    const missing = items.filter((i) => typeof results[i.key] !== 'boolean');
    for (const g of groups) g.classList.toggle('is-missing', missing.some((i) => i.key === g.dataset.key));
    if (missing.length) {
      error.textContent = t('sc.review.missing', { items: missing.map((i) => `“${i.label}”`).join('、') });
      const first = form.querySelector(`#sc-item-${CSS.escape(missing[0].key)}-pass`);
      if (first) first.focus();
      return;
    }
    const n = Number(score.value);
    if (score.value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 100) {
      error.textContent = t('sc.review.badScore');
      score.setAttribute('aria-invalid', 'true');
      score.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = t('common.submitting');
    try {
      const body = { results: {}, score: n, comment: comment.value.trim() };
      for (const i of items) body.results[i.key] = results[i.key];
      onDone(await scApi.review(check.id, body));
    } catch (err) {
      error.textContent = errorMessage(err);
      submit.disabled = false;
      submit.textContent = t('sc.review.submit');
      if (err && err.code === 'spot_check.invalid_state') onDone(null);
    }
  });
  return card('sc.review.title', form);
}

function decisionForm(check, onDone) {
  const comment = h('textarea', { id: 'sc-decision', name: 'sc-decision', rows: 3, maxlength: 500 });
  const error = h('p', { class: 'alert', role: 'alert' });
  const uphold = h('button', { type: 'button', class: 'btn btn--secondary btn--xl btn--block', 'data-testid': 'appeal-uphold' }, t('sc.decide.uphold'));
  const overturn = h('button', { type: 'button', class: 'btn btn--primary btn--xl btn--block', 'data-testid': 'appeal-overturn' }, t('sc.decide.overturn'));
  async function decide(upheld) {
    uphold.disabled = true;
    overturn.disabled = true;
    error.textContent = '';
    try {
      onDone(await scApi.decide(check.id, { upheld, comment: comment.value.trim() }));
    } catch (err) {
      error.textContent = errorMessage(err);
      uphold.disabled = false;
      overturn.disabled = false;
    }
  }
  uphold.addEventListener('click', () => decide(true));
  overturn.addEventListener('click', () => decide(false));
  return card('sc.decide.title',
    h('p', {}, t('sc.decide.intro')),
    h('div', { class: 'field' },
      h('label', { for: 'sc-decision' }, t('sc.decide.comment'), h('span', { class: 'field__optional' }, ` ${t('common.optional')}`)),
      comment),
    error, uphold, overturn);
}

/** The checker's (requester's or supervisor's) view. Returns { node, cleanup }. */
function checkerView(first, { restore, user }) {
  let check = first;
  let parts = [];
  let restored = false;
  let overdueTimer = null;
  const top = h('p', { class: 'notice notice--ok', role: 'status', 'data-testid': 'sc-flash' }, takeFlash());
  const arrived = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'assertive' });
  const body = h('div', { class: 'page__body' });
  const stream = new LiveStream({ types: ['spot_check.submitted', 'spot_check.reviewed'] });
  const node = h('div', { class: 'sc-checker' }, top, arrived, body);

  function stopParts() {
    for (const p of parts) if (p && p.stop) p.stop();
    parts = [];
    clearTimeout(overdueTimer);
    overdueTimer = null;
  }

  async function reload() {
    try {
      const fresh = await scApi.get(check.id);
      const changed = fresh.status !== check.status || JSON.stringify(fresh.appeal) !== JSON.stringify(check.appeal);
      const wasWaiting = check.status === 'requested';
      check = fresh;
      if (!changed) return;
      if (wasWaiting) top.textContent = '';
      if (wasWaiting && check.status === 'submitted') arrived.textContent = t('sc.arrived', { name: check.officer_name || '' });
      draw();
    } catch {
      /* keep what is shown */
    }
  }

  function head() {
    return h('div', { class: 'sc-head' },
      h('p', { class: 'sc-head__name', 'data-testid': 'sc-officer' }, check.officer_name || t('sc.someone')),
      h('p', { class: 'sc-head__status' }, scStatusBadge(check.status), check.random_pick ? h('span', { class: 'muted' }, ` ${t('sc.randomPick')}`) : null),
      h('dl', { class: 'facts' },
        h('dt', {}, t('sc.requestedAtLabel')), h('dd', {}, formatDateTime(check.requested_at)),
        h('dt', {}, t('sc.deadline')), h('dd', {}, dateTimeSeconds(check.due_at))));
  }

  function waiting() {
    const timer = countdown(check.due_at, {
      big: true,
      onEnd() {
        overdueTimer = setTimeout(reload, OVERDUE_GRACE_MS);
      },
    });
    parts.push(timer);
    return h('div', { class: 'sc-wait', 'data-testid': 'sc-waiting' },
      h('p', { class: 'sc-wait__text' },
        h('span', { class: 'sc-wait__dot', 'aria-hidden': 'true' }), t('sc.waiting', { name: check.officer_name || t('sc.someone') })),
      timer.node,
      h('p', { class: 'muted' }, t('sc.waitingHint')));
  }

  function draw() {
    stopParts();
    const allowed = new Set(check.allowed || []);
    const sections = [head()];
    if (check.status === 'requested') sections.push(waiting());
    if (check.status === 'overdue') {
      sections.push(h('p', { class: 'alert alert--static', 'data-testid': 'sc-overdue' }, t('sc.checkerOverdue', { name: check.officer_name || '' })));
    }
    if (check.evidence_id) {
      const fig = answerFigure(check);
      parts.push(fig);
      sections.push(fig.node);
    }
    if (check.status === 'submitted') {
      sections.push(allowed.has('review')
        ? reviewForm(check, (updated) => {
          if (updated) {
            check = updated;
            top.textContent = t('sc.review.done');
            draw();
            top.scrollIntoView({ block: 'nearest' });
          } else {
            reload();
          }
        })
        : h('p', { class: 'notice' }, t('sc.waitingReview')));
    }
    if (check.status === 'passed' || check.status === 'failed') sections.push(resultCard(check));
    // A failed or unanswered check can become a supervision document to the officer's unit.
    const draft = check.status === 'failed' || check.status === 'overdue' ? draftFromButton(user, 'spot_check', check.id) : null;
    if (draft) sections.push(draft);
    if (check.appeal) sections.push(appealCard(check));
    if (allowed.has('decide_appeal')) {
      sections.push(decisionForm(check, (updated) => {
        check = updated;
        top.textContent = t('sc.decide.done');
        draw();
      }));
    }
    body.replaceChildren(...sections);
    if (restore && !restored && check.status === 'submitted') {
      restored = true;
      restoreValues(body, restore);
    }
  }

  stream.on('spot_check.submitted', (ev) => {
    if (ev.data && ev.data.id === check.id) reload();
  });
  stream.on('spot_check.reviewed', (ev) => {
    if (ev.data && ev.data.id === check.id) reload();
  });
  stream.on('sync', ({ resumed }) => {
    if (!resumed) reload();
  });
  stream.start();
  draw();
  if (check.status === 'requested' && ms(check.due_at) <= Date.now()) overdueTimer = setTimeout(reload, OVERDUE_GRACE_MS);

  return {
    node,
    cleanup() {
      stream.stop();
      stopParts();
    },
  };
}

export function spotCheckPage({ user, params, restore }) {
  const [href, backKey] = backTo(user);
  const headingId = nextId('h');
  const body = h('div', { class: 'page__body' }, h('p', { class: 'muted loading', role: 'status' }, t('common.loading')));
  const title = h('h1', { id: headingId, class: 'page__title', tabindex: '-1' }, t('sc.title'));
  const node = h('section', { class: 'page page--spotcheck', 'aria-labelledby': headingId },
    h('a', { class: 'back', href }, h('span', { 'aria-hidden': 'true' }, '‹ '), t(backKey)),
    title,
    body);
  let view = null;
  let alive = true;

  async function load() {
    body.replaceChildren(h('p', { class: 'muted loading', role: 'status' }, t('common.loading')));
    let check;
    try {
      check = await scApi.get(params.id);
    } catch (err) {
      if (!alive) return;
      const retry = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, t('common.retry'));
      retry.addEventListener('click', load);
      body.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorMessage(err)), err && err.status === 404 ? null : retry);
      return;
    }
    if (!alive) return;
    const mine = check.officer_id === user.id;
    if (mine) {
      const mod = await import('./spotcheck-officer.js');
      if (!alive) return;
      title.textContent = t('sc.officerTitle');
      view = mod.officerCheckView(check, { restore, user });
    } else {
      view = checkerView(check, { restore, user });
    }
    body.replaceChildren(view.node);
  }

  load();
  return {
    node,
    cleanup() {
      alive = false;
      if (view) view.cleanup();
    },
  };
}
