// 执法事项清单 (四(三)一): the items a unit may enforce on a day, its own and those delegated to it,
// with their legal basis. Anyone signed in opens it, prints it, or downloads it as CSV / Excel.

import { request } from '../api.js';
import { fill, h } from '../dom.js';
import { beijingToday, formatDate, t } from '../i18n.js';
import { card, loadError, loadingLine } from '../widgets.js';
import { enc, exportButtons, problemText, qs, reportStyles } from '../reports.js';
import { pageHeading } from './common.js';
import '../i18n-org.js';

const KINDS = ['penalty', 'coercion', 'inspection', 'other'];

function ruleText(item) {
  const major = item.major_case;
  const parts = [];
  if (major && major.fine_at_least != null) parts.push(t('el.majorFine', { amount: major.fine_at_least }));
  if (major && major.measures && major.measures.length) parts.push(major.measures.join('、'));
  return parts.join('；');
}

function entryRow(e) {
  const item = e.item;
  const basis = item.legal_basis || t('el.noBasis');
  const since = e.delegated_from
    ? t('el.delegatedSpan', { from: formatDate(e.delegated_from), to: e.delegated_to ? formatDate(e.delegated_to) : t('el.openEnded') })
    : '';
  const criminal = item.criminal_threshold ? t('el.criminal', { amount: item.criminal_threshold.amount_involved_at_least }) : '';
  const rule = ruleText(item);
  return h('li', { class: 'el-entry', 'data-testid': 'el-entry', 'data-authority': e.authority, 'data-item': item.id },
    h('p', { class: 'row__title' }, `${item.code} ${item.name}`),
    h('p', { class: 'row__meta' },
      [KINDS.includes(item.kind) ? t(`el.kind.${item.kind}`) : item.kind,
        e.authority === 'own' ? t('el.own') : t('el.delegated', { owner: e.owner_unit_name }), since].filter(Boolean).join(' · ')),
    h('p', { class: 'el-basis' }, basis),
    rule ? h('p', { class: 'row__meta' }, t('el.major', { rule })) : null,
    criminal ? h('p', { class: 'row__meta' }, criminal) : null);
}

/** Units whose lists mean something (they enforce), the viewer's own first. */
function enforcingUnits(page, user) {
  const mine = new Set(((user && user.units) || []).map((u) => String(u.id)));
  const rows = (page.items || []).filter((u) => ['township', 'department'].includes(u.kind));
  return rows.sort((a, b) => (mine.has(String(b.id)) - mine.has(String(a.id))) || a.name.localeCompare(b.name, 'zh'));
}

/** #/enforcement-list: the list of the viewer's own enforcing unit, else of the first township. */
export function enforcementIndexPage({ user, navigate }) {
  const body = h('div', { class: 'page__body' }, loadingLine());
  const load = () => request('GET', '/units?limit=200').then((page) => {
    const first = enforcingUnits(page, user)[0];
    if (first) navigate(`units/${enc(first.id)}/enforcement-list`);
    else fill(body, h('p', { class: 'empty' }, t('el.noUnits')));
  }, (err) => fill(body, loadError(problemText(err), load)));
  load();
  return { node: h('section', { class: 'page' }, pageHeading('el.title'), body) };
}

export function enforcementListPage({ params, query, user, navigate }) {
  reportStyles();
  const unitId = params.id;
  const day = query.get('on') || beijingToday();
  const body = h('div', { class: 'page__body' }, loadingLine());
  const units = h('select', { id: 'el-unit', 'data-testid': 'el-unit' });
  const date = h('input', { id: 'el-on', type: 'date', value: day, 'data-testid': 'el-on' });
  const go = () => navigate(`units/${enc(units.value || unitId)}/enforcement-list${qs({ on: date.value })}`);
  units.addEventListener('change', go);
  date.addEventListener('change', go);
  const printBtn = h('button', { type: 'button', class: 'btn btn--secondary', 'data-testid': 'el-print' }, t('el.print'));
  printBtn.addEventListener('click', () => window.print());

  request('GET', '/units?limit=200').then((page) => {
    fill(units, ...enforcingUnits(page, user).map((u) => h('option', { value: u.id, selected: String(u.id) === String(unitId) }, u.name)));
  }).catch(() => {});

  const load = () => request('GET', `/units/${enc(unitId)}/enforcement-list${qs({ on: day })}`).then((list) => {
    const own = list.entries.filter((e) => e.authority === 'own').length;
    fill(body,
      h('h2', { class: 'page__subtitle', 'data-testid': 'el-title' }, t('el.heading', { unit: list.unit_name })),
      h('p', { class: 'lead', 'data-testid': 'el-count', 'data-count': list.entries.length },
        t('el.count', { date: formatDate(list.on), n: list.entries.length, own, delegated: list.entries.length - own })),
      list.entries.length
        ? h('ol', { class: 'list el-list', 'data-testid': 'el-entries' }, ...list.entries.map(entryRow))
        : h('p', { class: 'empty', 'data-testid': 'el-empty' }, t('el.empty')),
      card('rp.export', exportButtons(`/units/${enc(unitId)}/enforcement-list${qs({ on: day })}`,
        `${list.unit_name}-执法事项清单-${list.on}`, ['csv', 'xlsx']), printBtn));
  }, (err) => fill(body, loadError(problemText(err), load)));
  load();
  return {
    node: h('section', { class: 'page page--enforcement-list' },
      pageHeading('el.title'),
      h('div', { class: 'el-controls no-print' },
        h('label', { for: 'el-unit' }, t('el.unit')), units,
        h('label', { for: 'el-on' }, t('el.on')), date),
      body),
  };
}
