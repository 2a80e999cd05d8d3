// #/oversight 赋权事项执法监督 (四(三)五): a department's officers and legal advisers read the townships'
// actions and cases under the items it delegated, and raise findings on them. A finding is a
// corrective action of the township, opened by the department, which accepts the correction.

import { errorMessage, request } from '../api.js';
import { fill, h } from '../dom.js';
import { formatDate, formatDateTime, t } from '../i18n.js';
import { field, pagedList, say } from '../enforcement.js';
import { taskApi } from '../documents.js';
import { card, loadError, loadingLine, statusBadge } from '../widgets.js';
import { pageHeading } from './common.js';
import '../i18n-docs.js';
import '../i18n-oversight.js';

const enc = encodeURIComponent;

/** Whether the user works in a department whose delegated items it oversees. */
export function oversees(user) {
  return Boolean(user && (user.units || []).some((u) => u.kind === 'department'));
}

/** The inline form under a record: the finding's text and its time, sent once (its id is fixed). */
function findingForm(kind, record, onSent) {
  const id = `ov-${kind}-${record.id}`;
  const taskId = crypto.randomUUID();
  const open = h('button', { type: 'button', class: 'btn btn--secondary', 'aria-expanded': 'false', 'data-testid': 'raise-finding' }, t('ov.raise'));
  const text = field({ id: `${id}-text`, label: t('ov.findingText'), hint: t('ov.findingHint'), multiline: true, maxlength: 4000 });
  const days = field({ id: `${id}-days`, label: t('ov.dueDays'), value: '5', inputmode: 'numeric', maxlength: 2 });
  const note = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite', 'data-testid': 'finding-note' });
  const send = h('button', { type: 'submit', class: 'btn btn--primary' }, t('ov.send'));
  const form = h('form', { class: 'finding-form', hidden: true, novalidate: true }, text.node, days.node, send);
  open.addEventListener('click', () => {
    form.hidden = !form.hidden;
    open.setAttribute('aria-expanded', String(!form.hidden));
    if (!form.hidden) text.input.focus();
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const description = text.input.value.trim();
    const due = Number(days.input.value.trim());
    if (description.length < 2) {
      text.input.setAttribute('aria-invalid', 'true');
      say(note, t('ov.textMissing'));
      return;
    }
    if (!Number.isInteger(due) || due < 1 || due > 60) {
      days.input.setAttribute('aria-invalid', 'true');
      say(note, t('ov.daysInvalid'));
      return;
    }
    send.disabled = true;
    send.textContent = t('ov.sending');
    try {
      const task = await taskApi.create({ id: taskId, source: { kind, id: record.id }, description, due_days: due });
      form.hidden = true;
      open.hidden = true;
      fill(note, t('ov.sent', { unit: record.unit_name || '', date: task.due_on ? formatDate(task.due_on) : '' }), ' ',
        h('a', { href: `#/tasks/${enc(task.id)}`, 'data-testid': 'finding-task' }, t('ov.openTask')));
      onSent();
    } catch (err) {
      say(note, errorMessage(err));
    } finally {
      send.disabled = false;
      send.textContent = t('ov.send');
    }
  });
  return h('div', { class: 'finding' }, open, form, note);
}

function officers(x) {
  return (x.officers || []).map((o) => o.display_name).filter(Boolean).join('、');
}

function actionRow(x, onSent) {
  return h('li', { 'data-testid': 'overseen-action', 'data-id': x.id },
    h('a', { class: 'row', href: `#/actions/${enc(x.id)}` },
      h('span', { class: 'row__head' }, h('span', { class: 'row__title' }, `${x.unit_name} · ${x.item_name}`)),
      h('span', { class: 'row__meta' }, [formatDateTime(x.occurred_at), t(`kind.${x.kind}`), officers(x)].filter(Boolean).join(' · '))),
    findingForm('action', x, onSent));
}

function caseRow(x, onSent) {
  return h('li', { 'data-testid': 'overseen-case', 'data-id': x.id },
    h('a', { class: 'row', href: `#/cases/${enc(x.id)}` },
      h('span', { class: 'row__head' }, h('span', { class: 'row__title' }, `${x.unit_name} · ${x.number || x.item_name}`), statusBadge(x.status)),
      h('span', { class: 'row__meta' }, [x.item_name, formatDateTime(x.created_at)].filter(Boolean).join(' · '))),
    findingForm('case', x, onSent));
}

function findingRow(x) {
  return h('li', {},
    h('a', { class: 'row', href: `#/tasks/${enc(x.id)}`, 'data-testid': 'my-finding', 'data-status': x.status },
      h('span', { class: 'row__head' }, h('span', { class: 'row__title' }, x.title), h('span', { class: 'badge' }, t(`task.filter.${x.status}`))),
      x.due_on ? h('span', { class: 'row__meta' }, t('task.dueOn', { date: formatDate(x.due_on) })) : null));
}

/** #/oversight */
export function oversightPage({ user }) {
  const unitSelect = h('select', { id: 'ov-unit', 'data-testid': 'ov-unit' }, h('option', { value: '' }, t('ov.allUnits')));
  const unitField = h('div', { class: 'field' }, h('label', { for: 'ov-unit' }, t('ov.unit')), unitSelect);
  const mine = h('div', {}, loadingLine());
  const loadMine = async () => {
    try {
      const page = await taskApi.list({ limit: 100 });
      const items = (page.items || []).filter((x) => x.opened_by === user.id && x.source && ['action', 'case'].includes(x.source.kind));
      fill(mine, items.length ? h('ul', { class: 'list', 'data-testid': 'my-findings' }, items.map(findingRow)) : h('p', { class: 'empty' }, t('ov.noFindings')));
    } catch (err) {
      fill(mine, loadError(errorMessage(err), loadMine));
    }
  };
  const params = (cursor) => {
    const q = new URLSearchParams({ overseen: 'true', limit: '30' });
    if (unitSelect.value) q.set('unit_id', unitSelect.value);
    if (cursor) q.set('cursor', cursor);
    return q.toString();
  };
  const actions = pagedList({
    fetchPage: (cursor) => request('GET', `/actions?${params(cursor)}`),
    renderItem: (x) => actionRow(x, loadMine),
    emptyKey: 'ov.noActions',
    errorMessage,
    testid: 'overseen-actions',
  });
  const cases = pagedList({
    fetchPage: (cursor) => request('GET', `/cases?${params(cursor)}`),
    renderItem: (x) => caseRow(x, loadMine),
    emptyKey: 'ov.noCases',
    errorMessage,
    testid: 'overseen-cases',
  });
  // The townships the department delegated to: read from the units the lists can name.
  request('GET', '/units?limit=200').then((page) => {
    for (const u of (page.items || []).filter((x) => x.kind === 'township')) unitSelect.append(h('option', { value: u.id }, u.name));
  }, () => {});
  unitSelect.addEventListener('change', () => {
    actions.reload();
    cases.reload();
  });
  loadMine();
  return {
    node: h('section', { class: 'page' },
      pageHeading('ov.title'),
      h('p', { class: 'lead' }, t('ov.intro')),
      unitField,
      card('ov.actions', actions.node),
      card('ov.cases', cases.node),
      card('ov.mine', mine)),
  };
}
