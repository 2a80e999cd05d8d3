// 今日待办: the card at the top of every home, from GET /today — what this person must do, each entry
// opening the list (or the one item) behind it. Loaded on first use by each home.

import { request } from '../api.js';
import { fill, h } from '../dom.js';
import { formatDate, formatDateTime, t } from '../i18n.js';
import { card, loadingLine } from '../widgets.js';
import '../i18n-today.js';

const enc = encodeURIComponent;

/** Where an entry opens, for this user (the same key opens another list for another role). */
function hrefOf(item, user) {
  const roles = (user && user.roles) || [];
  const first = item.first ? enc(item.first) : null;
  switch (item.key) {
    case 'spot_checks.to_answer': return first ? `#/spot-checks/${first}` : null;
    case 'tasks.assigned':
    case 'tasks.unit': return '#/tasks';
    case 'recordings.missing': return '#/officer/actions';
    case 'clocks.due_soon': return '#/clocks';
    case 'reviews.waiting': return '#/cases';
    case 'documents.to_answer': return '#/inbox';
    case 'channels.to_explain':
    case 'channels.new': return '#/channels';
    case 'reports.due': return first ? `#/reports/${first}` : null;
    case 'spot_checks.to_review':
    case 'appeals.to_decide': return roles.includes('supervisor') ? '#/spot-checks' : null;
    case 'documents.to_accept': return '#/documents/filter/responded';
    case 'documents.overdue': return '#/documents/filter/overdue';
    case 'reports.to_accept': return '#/reports';
    case 'nominations.received': return '#/nominations';
    case 'certificates.expiring': return first ? `#/admin/users/${first}` : '#/admin/users';
    case 'accounts.locked': return '#/admin/users';
    default: return null;
  }
}

function dueText(item) {
  if (!item.due) return '';
  if (item.key === 'certificates.expiring') return t('td.expiresOn', { date: formatDate(item.due) });
  return item.due.length > 10 ? t('td.dueAt', { time: formatDateTime(item.due) }) : t('td.dueOn', { date: formatDate(item.due) });
}

function row(item, user) {
  const href = hrefOf(item, user);
  const inner = [
    h('span', { class: 'row__head' },
      h('span', { class: 'row__title' }, t(`td.${item.key}`)),
      h('span', { class: 'badge', 'data-testid': 'today-count' }, t('td.count', { n: item.count }))),
    h('span', { class: 'row__meta' }, [dueText(item), item.overdue ? t('td.overdue', { n: item.overdue }) : ''].filter(Boolean).join(' · ')),
  ];
  return h('li', { 'data-testid': 'today-item', 'data-key': item.key, 'data-overdue': item.overdue ? 'true' : 'false' },
    href ? h('a', { class: 'row', href }, inner) : h('div', { class: 'row' }, inner));
}

export function todayCard(user) {
  const body = h('div', {}, loadingLine());
  const load = () => request('GET', '/today').then((today) => {
    const items = (today && today.items) || [];
    fill(body, items.length
      ? h('ul', { class: 'list', 'data-testid': 'today-list' }, items.map((x) => row(x, user)))
      : h('p', { class: 'empty', 'data-testid': 'today-empty' }, t('td.empty')));
  }, () => {
    fill(body, h('p', { class: 'muted', 'data-testid': 'today-failed' }, t('td.failed')));
    window.addEventListener('online', load, { once: true });
  });
  load();
  const node = card('td.title', body);
  node.dataset.testid = 'today';
  return node;
}
