// 案卷评查 for the bureau. #/case-reviews: draw closed cases of a unit at random (the seed is kept,
// so the same seed redraws the same sample) and the draws so far; #/case-reviews/<id>: a draw's
// cases, each with its score sheet (veto items, 卷面分 0–20, 内容分 0–80, comment) and the verdict
// the server gives (合格 / 不合格).

import { request } from '../api.js';
import { fill, h, nextId } from '../dom.js';
import { beijingToday, formatDate, formatDateTime, t } from '../i18n.js';
import { backLink, choices, field, say } from '../enforcement.js';
import { card, loadError, loadingLine, statusBadge } from '../widgets.js';
import { enc, periodText, problemText, reportStyles } from '../reports.js';
import { pageHeading } from './common.js';

const VETOES = ['主体', '资格', '证据', '事实', '定性', '法律适用', '程序', '执法人员不足2人', '应移送未移送'];

const drawHref = (id) => `#/case-reviews/${enc(id)}`;
const drawLine = (d) => t('cr.drawLine', { unit: d.unit_name, period: periodText(d.period_from, d.period_to), n: d.cases.length });
/** The day after a date: the API's `to` is exclusive, the form's last day inclusive. */
const dayAfter = (ymd) => new Date(Date.parse(`${ymd}T00:00:00Z`) + 86400000).toISOString().slice(0, 10);
const verdict = (score) => statusBadge(score.passed ? 'pass' : 'fail', { keys: 'cr', testid: 'case-verdict' });

function drawForm() {
  const id = nextId('cr');
  const unit = h('select', { id: `${id}-unit`, required: true, 'data-testid': 'draw-unit' });
  request('GET', '/units?limit=200').then((page) => {
    const units = ((page && page.items) || []).filter((u) => u.pilot || u.kind === 'township');
    fill(unit, units.map((u) => h('option', { value: u.id }, u.name)));
  }).catch(() => {});
  const year = beijingToday().slice(0, 4);
  const from = field({ id: `${id}-from`, label: t('cr.from'), type: 'date', value: `${year}-01-01`, required: true });
  const to = field({ id: `${id}-to`, label: t('cr.to'), type: 'date', value: beijingToday(), required: true });
  const size = field({ id: `${id}-size`, label: t('cr.size'), type: 'number', min: '1', max: '200', value: '5', required: true });
  const seed = field({ id: `${id}-seed`, label: t('cr.seed'), hint: t('cr.seedHint'), optional: true, maxlength: 64, pattern: '[A-Za-z0-9_\\-]+' });
  const msg = h('p', { class: 'alert', role: 'alert' });
  const send = h('button', { type: 'submit', class: 'btn btn--primary btn--block', 'data-testid': 'draw-send' }, t('cr.draw'));
  const form = h('form', { class: 'card', 'data-testid': 'draw-form' },
    h('h2', { class: 'card__title' }, t('cr.new')),
    h('div', { class: 'field' }, h('label', { for: unit.id }, t('cr.unit')), unit),
    from.node, to.node, size.node, seed.node, msg, send);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    send.disabled = true;
    const body = { unit_id: unit.value, from: from.input.value, to: dayAfter(to.input.value), size: Number(size.input.value) };
    if (seed.input.value.trim()) body.seed = seed.input.value.trim();
    try {
      const draw = await request('POST', '/case-reviews/draw', { body });
      location.hash = drawHref(draw.id);
    } catch (err) {
      say(msg, problemText(err));
      send.disabled = false;
    }
  });
  return form;
}

export function caseReviewsPage() {
  reportStyles();
  const list = h('div', {}, loadingLine());
  const load = () => request('GET', '/case-reviews').then((got) => {
    const draws = Array.isArray(got) ? got : (got && got.items) || [];
    fill(list, draws.length
      ? h('ul', { class: 'list', 'data-testid': 'draws' }, draws.map((d) => h('li', {},
        h('a', { class: 'row', href: drawHref(d.id), 'data-testid': 'draw-row' },
          h('span', { class: 'row__title' }, drawLine(d)),
          h('span', { class: 'row__meta' }, formatDateTime(d.drawn_at))))))
      : h('p', { class: 'muted' }, t('cr.none')));
  }, (err) => fill(list, loadError(problemText(err), load)));
  load();
  return {
    node: h('section', { class: 'page page--reviews' },
      backLink('#/supervisor', 'supervisor.title'), pageHeading('cr.title'), drawForm(), card('cr.history', list)),
  };
}

// ---- one draw: its cases and their score sheets --------------------------------------------------

function scoreSheet(drawId, c, onScored) {
  const id = nextId('sheet');
  const vetoes = choices({
    name: `${id}-veto`, legend: t('cr.vetoes'), type: 'checkbox', cls: 'veto-list', value: [],
    options: VETOES.map((v) => ({ value: v, label: t(`cr.veto.${v}`) })),
  });
  const form20 = field({ id: `${id}-form`, label: t('cr.formScore'), type: 'number', min: '0', max: '20', step: '1', required: true });
  const content80 = field({ id: `${id}-content`, label: t('cr.contentScore'), type: 'number', min: '0', max: '80', step: '1', required: true });
  const comment = field({ id: `${id}-comment`, label: t('cr.comment'), multiline: true, optional: true, maxlength: 2000 });
  const msg = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: 'btn btn--primary btn--block', 'data-testid': 'score-save' }, t('cr.save'));
  const form = h('form', { novalidate: true }, vetoes.node, form20.node, content80.node, comment.node, msg, save);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = Number(form20.input.value);
    const k = Number(content80.input.value);
    const inRange = (x, max) => form20.input.value !== '' && Number.isInteger(x) && x >= 0 && x <= max;
    if (!inRange(f, 20) || content80.input.value === '' || !inRange(k, 80)) {
      say(msg, t('cr.scoreRange'));
      return;
    }
    save.disabled = true;
    try {
      // The answer is the whole draw; the server adds the vetoes the records show by themselves.
      const draw = await request('POST', `/case-reviews/${enc(drawId)}/score`, {
        body: { case_id: c.case_id, vetoes: vetoes.value(), form_score: f, content_score: k, comment: comment.input.value.trim() },
      });
      onScored(draw.cases.find((x) => x.case_id === c.case_id).score);
    } catch (err) {
      say(msg, problemText(err));
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

/** A file's score as the server gave it: 合格 / 不合格, the total, the vetoes and the comment. */
function scoreLines(score) {
  return [
    h('p', { class: 'row__head' }, verdict(score), ' ', t('cr.total', { total: score.total })),
    h('p', { class: 'row__meta' }, t('cr.scores', { form: score.form_score, content: score.content_score })),
    score.vetoes.length ? h('p', { class: 'row__meta' }, t('cr.vetoed', { list: score.vetoes.map((v) => t(`cr.veto.${v}`)).join('、') })) : null,
    score.comment ? h('p', { class: 'narrative__text' }, score.comment) : null,
    score.passed ? null : h('p', { class: 'muted' }, t('cr.taskOpened')),
  ];
}

/** One drawn file: its score, or (a file is scored once) the sheet that scores it. */
function caseItem(drawId, c) {
  const result = h('div', {});
  const show = (score) => fill(result, scoreLines(score));
  if (c.score) show(c.score);
  else {
    result.append(h('p', { class: 'muted' }, t('cr.unscored')),
      h('details', {}, h('summary', { class: 'btn btn--secondary btn--block', 'data-testid': 'score-open' }, t('cr.scoreSheet')),
        scoreSheet(drawId, c, show)));
  }
  return h('li', { class: 'card', 'data-testid': 'review-case', 'data-case': c.case_id },
    h('a', { class: 'row__title', href: `#/cases/${enc(c.case_id)}` }, `${c.number} · ${c.item_name}`),
    c.closed_at ? h('p', { class: 'row__meta' }, formatDate(c.closed_at)) : null,
    result);
}

export function caseReviewPage({ params }) {
  reportStyles();
  const body = h('div', { class: 'page__body' }, loadingLine());
  const load = () => request('GET', `/case-reviews/${enc(params.id)}`).then((d) => fill(body,
    h('h2', { class: 'page__subtitle' }, drawLine(d)),
    h('p', { class: 'lead', 'data-testid': 'draw-seed' }, t('cr.seedShown', { seed: d.seed })),
    h('p', { class: 'muted' }, t('cr.population', { population: d.population, n: d.cases.length })),
    d.cases.length
      ? h('ul', { class: 'list', 'data-testid': 'review-cases' }, d.cases.map((c) => caseItem(d.id, c)))
      : h('p', { class: 'muted' }, t('cr.noCases'))),
  (err) => fill(body, loadError(problemText(err), load)));
  load();
  return {
    node: h('section', { class: 'page page--reviews' }, backLink('#/case-reviews', 'cr.back'), pageHeading('cr.drawTitle'), body),
  };
}
