// #/assessment 考核排名: the units' scores over a period (year, quarter or month), each indicator's
// value opening the records behind it, the change against the previous period, a bar chart of the
// scores, the exports and (for the bureau) the indicator weights. A unit sees its own row.
// #/assessment/records?unit_id=&indicator=&part=numerator|denominator&period=: those records.

import { ApiError, request } from '../api.js';
import { fill, h } from '../dom.js';
import { beijingToday, t } from '../i18n.js';
import { backLink, say } from '../enforcement.js';
import { card, loadError, loadingLine } from '../widgets.js';
import { barChart } from '../charts.js';
import { exportButtons, isBureau, num, periodText, problemText, qs, recordList, reportStyles } from '../reports.js';
import { pageHeading } from './common.js';

const PERIOD = /^(\d{4})(?:-(Q[1-4]|\d{2}))?$/;

const getAssessment = (period) => request('GET', `/reports/assessment${qs({ period })}`);

/** The period asked for (YYYY, YYYY-Qn, YYYY-MM), else the current year. */
function periodOf(query) {
  const p = query.get('period') || '';
  return PERIOD.test(p) ? p : beijingToday().slice(0, 4);
}

function periodPicker(period) {
  const [, year, part = ''] = PERIOD.exec(period);
  const kind = h('select', { id: 'as-kind', 'data-testid': 'period-kind' },
    ['year', 'quarter', 'month'].map((k) => h('option', { value: k }, t(`as.kind.${k}`))));
  kind.value = part.startsWith('Q') ? 'quarter' : part ? 'month' : 'year';
  const yearIn = h('input', { id: 'as-year', type: 'number', min: '2000', max: '2100', value: year, required: true });
  const quarter = h('select', { id: 'as-quarter' }, [1, 2, 3, 4].map((n) => h('option', { value: `Q${n}` }, t('as.quarterN', { n }))));
  const month = h('select', { id: 'as-month' }, Array.from({ length: 12 }, (_, i) =>
    h('option', { value: String(i + 1).padStart(2, '0') }, t('as.monthN', { n: i + 1 }))));
  if (part.startsWith('Q')) quarter.value = part;
  else if (part) month.value = part;
  const wrap = (el, key) => h('div', { class: 'field' }, h('label', { for: el.id }, t(key)), el);
  const quarterField = wrap(quarter, 'as.quarter');
  const monthField = wrap(month, 'as.monthNo');
  const sync = () => {
    quarterField.hidden = kind.value !== 'quarter';
    monthField.hidden = kind.value !== 'month';
  };
  kind.addEventListener('change', sync);
  sync();
  const form = h('form', { class: 'card' }, wrap(kind, 'as.periodKind'), wrap(yearIn, 'as.year'), quarterField, monthField,
    h('button', { type: 'submit', class: 'btn btn--secondary btn--block' }, t('as.show')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const suffix = { year: '', quarter: `-${quarter.value}`, month: `-${month.value}` }[kind.value];
    location.hash = `#/assessment${qs({ period: `${yearIn.value}${suffix}` })}`;
  });
  return form;
}

/** 85.0% for a rate, the number for a count; — when it does not apply. */
function valueText(ind, v) {
  if (!v || v.value == null) return t('common.noValue');
  return ind.measure === 'rate' ? `${(v.value * 100).toFixed(1)}%` : num(v.value);
}

function changeCell(u) {
  if (u.previous_score == null) return h('td', {}, h('span', { class: 'muted' }, t('as.noPrevious')));
  const c = u.change || 0;
  const [cls, text] = c > 0 ? ['change--up', t('as.up', { n: num(c) })] : c < 0 ? ['change--down', t('as.down', { n: num(-c) })] : ['', t('as.same')];
  return h('td', { 'data-testid': 'score-change', 'data-change': c },
    h('span', { class: cls }, text), h('br'), h('span', { class: 'row__meta' }, t('as.previous', { score: num(u.previous_score) })));
}

const recordsHref = (unitId, indicator, part, period) => `#/assessment/records${qs({ unit_id: unitId, indicator, part, period })}`;

function indicatorHead(ind) {
  return h('th', { scope: 'col' }, h('details', {},
    h('summary', {}, ind.label),
    h('p', {}, ind.formula),
    h('p', { class: 'muted' }, `${t(`as.better.${ind.better}`)} · ${t('as.weight', { w: num(ind.weight) })}`)));
}

function table(a, period) {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table table--assessment', 'data-testid': 'assessment-table' },
    h('thead', {}, h('tr', {},
      ['as.rank', 'as.unit', 'as.score', 'as.change'].map((k) => h('th', { scope: 'col' }, t(k))),
      a.indicators.map(indicatorHead))),
    h('tbody', {}, a.units.map((u) => h('tr', { 'data-testid': 'assessment-row', 'data-unit': u.unit_id },
      h('td', {}, u.rank == null ? t('common.noValue') : String(u.rank)),
      h('th', { scope: 'row' }, u.unit_name),
      h('td', { 'data-testid': 'score' }, h('strong', {}, num(u.score))),
      changeCell(u),
      a.indicators.map((ind) => {
        const v = u.values[ind.key];
        return h('td', {}, h('a', {
          href: recordsHref(u.unit_id, ind.key, 'numerator', period),
          'data-testid': 'indicator-value',
          'data-indicator': ind.key,
          'data-numerator': v ? v.numerator : '',
        }, valueText(ind, v)), v && v.denominator != null
          ? h('span', { class: 'row__meta' }, h('br'), `${num(v.numerator)}/${num(v.denominator)}`) : null);
      }))))));
}

function weightsForm(a, reload) {
  const inputs = a.indicators.map((ind) => h('input', {
    id: `as-w-${ind.key}`, type: 'number', min: '0', max: '100', step: 'any', value: ind.weight, class: 'input--narrow', 'data-key': ind.key,
  }));
  const msg = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: 'btn btn--primary btn--block', 'data-testid': 'weights-save' }, t('as.weightsSave'));
  const form = h('form', {},
    a.indicators.map((ind, i) => h('div', { class: 'field' }, h('label', { for: inputs[i].id }, ind.label), inputs[i])),
    msg, save);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    save.disabled = true;
    try {
      await request('PUT', '/reports/assessment/weights', { body: { weights: Object.fromEntries(inputs.map((x) => [x.dataset.key, Number(x.value)])) } });
      say(msg, t('as.weightsSaved'));
      reload();
    } catch (err) {
      say(msg, problemText(err));
    } finally {
      save.disabled = false;
    }
  });
  return h('details', { class: 'card', 'data-testid': 'weights' }, h('summary', { class: 'card__title' }, t('as.weights')), form);
}

export function assessmentPage({ query, user }) {
  reportStyles();
  const period = periodOf(query);
  const body = h('div', { class: 'page__body' }, loadingLine());
  const load = () => getAssessment(period).then((a) => {
    const scored = a.units.filter((u) => u.score != null);
    const list = scored.map((u) => `${u.unit_name} ${num(u.score)}`).join('，');
    fill(body,
      h('p', { class: 'muted', 'data-testid': 'assessment-period' }, t('as.periodLine', {
        period: periodText(a.period_from, a.period_to), previous: periodText(a.previous_from, a.previous_to),
      })),
      a.units.length ? null : h('p', { class: 'muted' }, t('as.noUnits')),
      scored.length ? card('as.chart', barChart(scored.map((u) => ({ label: u.unit_name, value: u.score })), {
        label: t('as.chartLabel', { list }), max: 100, testid: 'score-chart',
      })) : null,
      a.units.length ? h('section', { class: 'card' }, h('p', { class: 'field__hint' }, t('as.formulaHint')), table(a, period)) : null,
      card('rp.export', exportButtons(`/reports/assessment${qs({ period })}`, `${t('as.title')}-${period}`)),
      isBureau(user) ? weightsForm(a, load) : null);
  }, (err) => fill(body, loadError(problemText(err), load)));
  load();
  return {
    node: h('section', { class: 'page page--assessment' },
      isBureau(user) ? backLink('#/supervisor', 'supervisor.title') : null,
      pageHeading('as.title'), periodPicker(period), body),
  };
}

// ---- the records behind one value ------------------------------------------------------------------

export function indicatorRecordsPage({ query }) {
  reportStyles();
  const unitId = query.get('unit_id') || '';
  const indicator = query.get('indicator') || '';
  const part = query.get('part') === 'denominator' ? 'denominator' : 'numerator';
  const period = periodOf(query);
  const body = h('div', { class: 'page__body' }, loadingLine());
  const load = () => getAssessment(period).then((a) => {
    const ind = a.indicators.find((x) => x.key === indicator);
    const u = a.units.find((x) => x.unit_id === unitId);
    const v = u && u.values[indicator];
    if (!ind || !u) throw new ApiError({ status: 404 });
    const tab = (p) => h('a', {
      class: `btn ${p === part ? 'btn--primary' : 'btn--secondary'}`,
      href: `#/assessment/records${qs({ unit_id: unitId, indicator, part: p, period })}`,
      'aria-current': p === part ? 'page' : null,
      'data-testid': `tab-${p}`,
    }, t('as.tab', { part: t(`as.${p}`), n: num(v ? v[p] : null) }));
    fill(body,
      h('h2', { class: 'page__subtitle' }, ind.label),
      h('p', { class: 'muted' }, ind.formula),
      h('p', { class: 'lead', 'data-testid': 'indicator-line' }, t('as.valueLine', { unit: u.unit_name, value: valueText(ind, v) })),
      ind.measure === 'rate' ? h('nav', { class: 'tabs', 'aria-label': ind.label }, tab('numerator'), tab('denominator')) : null,
      recordList((cursor) => request('GET', `/reports/assessment/records${qs({ unit_id: unitId, indicator, part, period, limit: 50, cursor })}`),
        { emptyKey: 'as.noRecords' }),
      exportButtons(`/reports/assessment/records${qs({ unit_id: unitId, indicator, part, period })}`,
        `${u.unit_name}-${ind.label}-${t(`as.${part}`)}`, ['csv', 'xlsx']));
  }).catch((err) => fill(body, loadError(problemText(err), load)));
  load();
  return {
    node: h('section', { class: 'page page--records' },
      backLink(`#/assessment${qs({ period })}`, 'as.back'), pageHeading('as.recordsTitle'), body),
  };
}
