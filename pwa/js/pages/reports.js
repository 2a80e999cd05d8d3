// Monthly reports (工作推进情况). #/reports: the bureau's overview of a month; #/reports/<id>: one
// version of a report, its figures (every number opens the records it counts), the unit's narrative,
// comments, submit / accept / correct and the exports; #/reports/<id>/records/<figure>: the records
// behind one number. monthlyCard: last month's report on the responder's home (pages/inbox.js).

import { request } from '../api.js';
import { fill, h } from '../dom.js';
import { beijingToday, formatDate, formatDateTime, t } from '../i18n.js';
import { backLink, facts, field, say } from '../enforcement.js';
import { card, loadError, loadingLine, statusBadge } from '../widgets.js';
import { isResponder, responderUnits } from '../caps.js';
import { columnChart } from '../charts.js';
import {
  enc, exportButtons, isBureau, lastMonth, monthText, monthsUpTo, nextMonth, num, periodText, problemText, qs, recordList,
  reportStyles,
} from '../reports.js';
import { pageHeading } from './common.js';

const GROUPS = ['actions', 'cases', 'spot_checks', 'documents', 'training', 'certificates', 'channels', 'file_reviews'];
const NARRATIVE = ['progress', 'problems', 'next_steps'];
const TREND_FIGURE = 'actions.total';

const api = {
  get: (id) => request('GET', `/reports/${enc(id)}`),
  monthly: (unitId, month) => request('GET', `/reports/monthly${qs({ unit_id: unitId, month })}`),
  act: (id, what, body) => request('POST', `/reports/${enc(id)}/${what}`, { body }),
};

/** The status as a badge; a draft past its due date reads 逾期未报. */
function reportBadge(status, late) {
  return statusBadge(late && status === 'draft' ? 'late' : status, { keys: 'rp.status', testid: 'report-status' });
}

function submittedLine(r) {
  return r.submitted_at ? h('span', { class: 'row__meta', 'data-testid': 'submitted-at' }, t('rp.submittedAt', { time: formatDateTime(r.submitted_at) })) : null;
}

const reportHref = (id) => `#/reports/${enc(id)}`;
const reportTitle = (r) => `${r.unit_name} · ${r.month ? monthText(r.month) : periodText(r.period_from, r.period_to)}`;

// ---- #/reports: the month's overview --------------------------------------------------------------

function overviewRow(u, month, current) {
  const head = h('span', { class: 'row__head' }, h('span', { class: 'row__title' }, u.unit_name),
    u.status ? reportBadge(u.status, u.late) : null);
  const attrs = { 'data-testid': 'overview-unit', 'data-unit': u.unit_id, 'data-status': u.status || '' };
  if (u.report_id) return h('li', attrs, h('a', { class: 'row', href: reportHref(u.report_id) }, head, submittedLine(u)));
  if (month >= current) return h('li', attrs, h('div', { class: 'row row--static' }, head, h('span', { class: 'row__meta' }, t('rp.notYet'))));
  // A month that is over but whose report nobody has opened: the first read drafts it.
  const open = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, t('rp.open'));
  const msg = h('p', { class: 'notice', role: 'status' });
  open.addEventListener('click', () => api.monthly(u.unit_id, month).then(
    (r) => { location.hash = reportHref(r.id); },
    (err) => say(msg, problemText(err))));
  return h('li', attrs, h('div', { class: 'row row--static' }, head), open, msg);
}

export function reportsPage({ query }) {
  reportStyles();
  const current = beijingToday().slice(0, 7);
  const month = /^\d{4}-\d{2}$/.test(query.get('month') || '') ? query.get('month') : lastMonth();
  const picker = h('input', { type: 'month', id: 'rp-month', value: month, max: current, 'data-testid': 'month' });
  const form = h('form', { class: 'card' },
    h('div', { class: 'field' }, h('label', { for: picker.id }, t('rp.month')), picker),
    h('button', { type: 'submit', class: 'btn btn--secondary btn--block' }, t('rp.show')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (picker.value) location.hash = `#/reports${qs({ month: picker.value })}`;
  });
  const body = h('div', { class: 'page__body', 'data-testid': 'overview' }, loadingLine());
  const load = () => request('GET', `/reports/monthly/overview${qs({ month })}`).then(
    (o) => fill(body,
      h('h2', { class: 'page__subtitle' }, monthText(month)),
      o.due_on ? h('p', { class: 'muted' }, t('rp.dueOn', { date: formatDate(o.due_on) })) : null,
      o.units.length
        ? h('ul', { class: 'list' }, o.units.map((u) => overviewRow(u, month, current)))
        : h('p', { class: 'muted' }, t('rp.noUnits'))),
    (err) => fill(body, loadError(problemText(err), load)));
  load();
  return {
    node: h('section', { class: 'page page--reports' },
      backLink('#/supervisor', 'supervisor.title'), pageHeading('rp.listTitle'), form, body),
  };
}

// ---- #/reports/<id>: one report -------------------------------------------------------------------

function figureTables(r) {
  const groups = GROUPS.filter((g) => r.figures.some((f) => f.group === g));
  return card('rp.figures',
    h('p', { class: 'field__hint' }, t('rp.figureHint')),
    groups.map((g) => h('div', { class: 'table-wrap' }, h('table', { class: 'table table--figures', 'data-group': g },
      h('caption', {}, t(`rp.group.${g}`)),
      h('tbody', {}, r.figures.filter((f) => f.group === g).map((f) => h('tr', {},
        h('th', { scope: 'row' }, f.label),
        h('td', {}, h('a', {
          class: 'figure-link',
          href: `${reportHref(r.id)}/records/${enc(f.key)}`,
          'data-testid': 'figure',
          'data-key': f.key,
          'data-value': f.value,
          'aria-label': `${f.label} ${num(f.value)}`,
        }, num(f.value))))))))));
}

/**
 * Actions per month over the six months up to this report's: this report's own figure, and for the
 * months before it the live figure (GET /reports/records counts, which drafts no report).
 */
function trendCard(r) {
  const slot = h('div', {}, loadingLine());
  const months = monthsUpTo(r.month, 6);
  const own = (r.figures.find((f) => f.key === TREND_FIGURE) || {}).value;
  const live = (m) => request('GET', `/reports/records${qs({ figure: TREND_FIGURE, unit_id: r.unit_id, from: `${m}-01`, to: `${nextMonth(m)}-01`, limit: 1 })}`)
    .then((page) => page.total);
  Promise.allSettled(months.map((m) => (m === r.month ? Promise.resolve(own) : live(m)))).then((got) => {
    const points = months.map((m, i) => ({
      label: t('rp.trendMonth', { n: Number(m.slice(5)), y: m.slice(2, 4) }),
      value: got[i].status === 'fulfilled' ? got[i].value : null,
    }));
    const list = points.map((p) => `${p.label} ${num(p.value)}`).join('，');
    fill(slot, columnChart(points, { label: t('rp.trendLabel', { list }), testid: 'trend-chart' }));
  });
  return card('rp.trend', slot);
}

function narrativeCard(r, msg, reload) {
  const given = r.narrative || {};
  if (!r.can_edit) {
    return card('rp.narrative', facts(NARRATIVE.map((k) => [t(`rp.${k}`), given[k], `narrative-${k}`])));
  }
  const inputs = NARRATIVE.map((k) => field({ id: `rp-${k}`, label: t(`rp.${k}`), multiline: true, value: given[k] || '', maxlength: 4000, rows: 4 }));
  const text = () => Object.fromEntries(NARRATIVE.map((k, i) => [k, inputs[i].input.value.trim()]));
  const save = () => request('PATCH', `/reports/${enc(r.id)}`, { body: { narrative: text() } });
  const saveBtn = h('button', { type: 'button', class: 'btn btn--secondary btn--block', 'data-testid': 'report-save' }, t('rp.save'));
  const submitBtn = h('button', { type: 'button', class: 'btn btn--primary btn--block', 'data-testid': 'report-submit' }, t('rp.submit'));
  const busy = async (fn) => {
    saveBtn.disabled = submitBtn.disabled = true;
    try {
      await fn();
    } catch (err) {
      say(msg, problemText(err));
    } finally {
      saveBtn.disabled = submitBtn.disabled = false;
    }
  };
  saveBtn.addEventListener('click', () => busy(async () => {
    await save();
    say(msg, t('rp.saved'));
  }));
  submitBtn.addEventListener('click', () => {
    if (!window.confirm(t('rp.submitConfirm'))) return;
    busy(async () => {
      await save();
      await api.act(r.id, 'submit');
      say(msg, t('rp.submitted'));
      reload();
    });
  });
  return card('rp.narrative', inputs.map((x) => x.node), h('div', { class: 'rp-actions' }, saveBtn, submitBtn));
}

function commentsCard(r, msg, reload) {
  const input = field({ id: 'rp-comment', label: t('rp.comment'), multiline: true, maxlength: 2000 });
  const send = h('button', { type: 'button', class: 'btn btn--secondary btn--block', 'data-testid': 'comment-send' }, t('rp.commentSend'));
  send.addEventListener('click', async () => {
    const text = input.input.value.trim();
    if (!text) {
      input.input.setAttribute('aria-invalid', 'true');
      say(msg, t('rp.commentEmpty'));
      return;
    }
    send.disabled = true;
    try {
      await api.act(r.id, 'comments', { text });
      reload();
    } catch (err) {
      say(msg, problemText(err));
      send.disabled = false;
    }
  });
  const comments = r.comments || [];
  return card('rp.comments',
    comments.length
      ? h('ul', { class: 'list', 'data-testid': 'comments' }, comments.map((c) => h('li', { class: 'row row--static', 'data-testid': 'comment' },
        h('span', { class: 'row__meta' }, `${c.by_name || ''} · ${formatDateTime(c.at)}`),
        h('span', { class: 'narrative__text' }, c.text))))
      : h('p', { class: 'muted' }, t('rp.noComments')),
    input.node, send);
}

/** 采纳 for the bureau, 更正 for the unit's responder once the report is submitted. */
function decisionButtons(r, user, msg, reload) {
  const out = [];
  const button = (key, testid, cls, confirmKey, run) => {
    const b = h('button', { type: 'button', class: `btn ${cls} btn--block`, 'data-testid': testid }, t(key));
    b.addEventListener('click', async () => {
      if (confirmKey && !window.confirm(t(confirmKey))) return;
      b.disabled = true;
      try {
        await run();
      } catch (err) {
        say(msg, problemText(err));
        b.disabled = false;
      }
    });
    out.push(b);
  };
  if (r.can_accept) {
    button('rp.accept', 'report-accept', 'btn--primary', null, async () => {
      await api.act(r.id, 'accept');
      say(msg, t('rp.accepted'));
      reload();
    });
  }
  if (['submitted', 'accepted'].includes(r.status) && responderUnits(user).includes(r.unit_id)) {
    button('rp.correct', 'report-correct', 'btn--secondary', 'rp.correctConfirm', async () => {
      const made = await api.act(r.id, 'correct');
      location.hash = reportHref(made.id);
    });
  }
  return out.length ? h('div', { class: 'rp-actions' }, out) : null;
}

export function reportPage({ params, user }) {
  reportStyles();
  const msg = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite', 'data-testid': 'report-message' });
  const body = h('div', { class: 'page__body' }, loadingLine());
  const draw = (r) => fill(body,
    h('h2', { class: 'page__subtitle', 'data-testid': 'report-title' }, reportTitle(r)),
    h('p', { class: 'row__head' }, reportBadge(r.status, r.late), ' ', h('span', { class: 'muted' }, t('rp.version', { n: r.version }))),
    submittedLine(r),
    r.accepted_at ? h('p', { class: 'muted' }, t('rp.acceptedAt', { time: formatDateTime(r.accepted_at) })) : null,
    r.status === 'draft' && r.due_on ? h('p', { class: 'muted' }, t('rp.dueOn', { date: formatDate(r.due_on) })) : null,
    r.status === 'superseded' ? h('p', { class: 'notice notice--warn' }, t('rp.superseded')) : null,
    decisionButtons(r, user, msg, load),
    figureTables(r),
    r.kind === 'monthly' && r.month ? trendCard(r) : null,
    narrativeCard(r, msg, load),
    commentsCard(r, msg, load),
    card('rp.export', exportButtons(`/reports/${enc(r.id)}/export`, `${r.unit_name}-${r.month || r.period_from}-v${r.version}`)));
  function load() {
    return api.get(params.id).then(draw, (err) => fill(body, loadError(problemText(err), load)));
  }
  load();
  const back = isBureau(user) ? backLink('#/reports', 'rp.listTitle') : isResponder(user) ? backLink('#/inbox', 'role.responder') : null;
  return { node: h('section', { class: 'page page--report' }, back, pageHeading('rp.title'), msg, body) };
}

// ---- #/reports/<id>/records/<figure> --------------------------------------------------------------

export function figureRecordsPage({ params }) {
  reportStyles();
  const { id, figure } = params;
  const body = h('div', { class: 'page__body' }, loadingLine());
  const load = () => api.get(id).then((r) => {
    const f = (r.figures || []).find((x) => x.key === figure) || { key: figure, label: figure, value: null };
    fill(body,
      h('h2', { class: 'page__subtitle' }, [t(`rp.group.${f.group}`), f.label].filter((x, i, all) => all.indexOf(x) === i).join(' · ')),
      h('p', { class: 'muted' }, reportTitle(r)),
      h('p', { class: 'lead', 'data-testid': 'figure-value', 'data-value': f.value }, `${f.label}${t('common.colon')}${num(f.value)}`),
      recordList((cursor) => request('GET', `/reports/${enc(id)}/records${qs({ figure, limit: 50, cursor })}`), { sum: f.measure === 'sum' }),
      exportButtons(`/reports/${enc(id)}/records${qs({ figure })}`, `${reportTitle(r)}-${f.label}`, ['csv', 'xlsx']));
  }, (err) => fill(body, loadError(problemText(err), load)));
  load();
  return {
    node: h('section', { class: 'page page--records' }, backLink(reportHref(id), 'rp.back'), pageHeading('rp.recordsTitle'), body),
  };
}

// ---- the unit's home: last month's report ---------------------------------------------------------

export function monthlyCard(user) {
  reportStyles();
  const month = lastMonth();
  const list = h('ul', { class: 'list', 'data-testid': 'home-reports' });
  for (const unitId of responderUnits(user)) {
    const item = h('li', {}, loadingLine());
    list.append(item);
    api.monthly(unitId, month).then(
      (r) => fill(item, h('a', { class: 'row', href: reportHref(r.id), 'data-testid': 'home-report' },
        h('span', { class: 'row__head' }, h('span', { class: 'row__title' }, t('rp.homeLine', { unit: r.unit_name, month: monthText(month) })), reportBadge(r.status, r.late)),
        submittedLine(r) || (r.due_on ? h('span', { class: 'row__meta' }, t('rp.dueOn', { date: formatDate(r.due_on) })) : null))),
      (err) => fill(item, h('p', { class: 'muted' }, problemText(err))));
  }
  return card('rp.homeTitle', list);
}
