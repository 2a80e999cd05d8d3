// The audit log for supervisors and admins: filter by who, what, object and day; check the hash
// chain (and the signed tree heads and evidence records) with its result in words; download what the
// filter shows as CSV or Excel.

import { request } from '../api.js';
import { fill, h } from '../dom.js';
import { formatDateTime, t } from '../i18n.js';
import { pagedList, say } from '../enforcement.js';
import { card } from '../widgets.js';
import { exportButtons, problemText, qs, reportStyles } from '../reports.js';
import { pageHeading } from './common.js';
import '../i18n-org.js';

const FIELDS = [
  ['actor', 'au.actor', 'text'],
  ['action', 'au.action', 'text'],
  ['object_type', 'au.objectType', 'text'],
  ['object_id', 'au.objectId', 'text'],
  ['from', 'au.from', 'date'],
  ['to', 'au.to', 'date'],
];

function entryRow(e) {
  const data = e.data && Object.keys(e.data).length ? JSON.stringify(e.data) : '';
  return h('li', { class: 'au-entry', 'data-testid': 'au-entry', 'data-seq': e.seq },
    h('p', { class: 'row__title' }, `#${e.seq} ${e.action}`),
    h('p', { class: 'row__meta' }, [formatDateTime(e.at), e.actor || t('au.system'), `${e.object_type} ${e.object_id}`].join(' · ')),
    data ? h('p', { class: 'au-data' }, data.length > 300 ? `${data.slice(0, 300)}…` : data) : null);
}

function checkResult(check) {
  if (check.ok) {
    return h('p', { class: 'notice notice--ok', 'data-testid': 'au-check-ok' },
      t('au.checkOk', { n: check.checked, heads: check.heads_checked, signed: check.signed_size }));
  }
  return h('div', { class: 'alert alert--static', 'data-testid': 'au-check-broken' },
    h('p', {}, t('au.checkBroken', { seq: check.broken_at_seq ?? '—' })),
    h('ul', {}, ...check.problems.map((p) => h('li', {}, p))));
}

export function auditPage({ query, navigate }) {
  reportStyles();
  const values = Object.fromEntries(FIELDS.map(([key]) => [key, query.get(key) || '']));
  const inputs = FIELDS.map(([key, label, type]) => {
    const input = h('input', { id: `au-${key}`, name: key, type, value: values[key], maxlength: type === 'text' ? 64 : null, 'data-testid': `au-${key}` });
    return [key, h('label', { for: `au-${key}` }, t(label)), input];
  });
  const form = h('form', { class: 'au-filter', 'data-testid': 'au-filter' },
    ...inputs.flatMap(([, label, input]) => [label, input]),
    h('button', { type: 'submit', class: 'btn btn--primary' }, t('au.apply')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    navigate(`audit${qs(Object.fromEntries(inputs.map(([key, , input]) => [key, input.value.trim()])))}`);
  });

  const list = pagedList({
    fetchPage: (cursor) => request('GET', `/audit${qs({ ...values, limit: 50, cursor })}`),
    renderItem: entryRow,
    emptyKey: 'au.empty',
    errorMessage: problemText,
    testid: 'au-entries',
  });

  const result = h('div', { role: 'status', 'aria-live': 'polite' });
  const check = h('button', { type: 'button', class: 'btn btn--secondary', 'data-testid': 'au-check' }, t('au.check'));
  check.addEventListener('click', () => {
    check.disabled = true;
    say(result, t('au.checking'));
    request('GET', '/audit/verify')
      .then((r) => fill(result, checkResult(r)))
      .catch((err) => say(result, problemText(err)))
      .finally(() => { check.disabled = false; });
  });

  return {
    node: h('section', { class: 'page page--audit' },
      pageHeading('au.title'),
      h('p', { class: 'lead' }, t('au.intro')),
      card('au.chain', check, result),
      card('au.filterTitle', form),
      list.node,
      card('rp.export', exportButtons(`/audit/export${qs(values)}`, 'audit-log', ['csv', 'xlsx']))),
  };
}
