// #/inbox 监督文书收件箱 for the person a unit names to answer supervision documents (its leader or a
// responder), on the phone: the unit's documents, unread ones marked, each with its deadline and the
// days left. Opening one shows #/documents/<id>, where the answer is written.

import { errorMessage } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { card, loadError, loadingLine } from '../widgets.js';
import { AWAITING, docApi, dueLine, responderUnits, taskApi } from '../documents.js';
import { accountCard, pageHeading } from './common.js';
import { docRow, docStream } from './documents.js';
import { taskRow } from './tasks.js';
import { monthlyCard } from './reports.js';

const PAGE_SIZE = 100;

export function isUnread(d) {
  if (typeof d.unread === 'boolean') return d.unread;
  return Boolean(d.number) && !d.read_at;
}

export function inboxPage({ user, onLogout }) {
  const units = new Set(responderUnits(user));
  const badge = h('span', { class: 'badge', 'data-testid': 'inbox-unread' }, '0');
  const waiting = h('ul', { class: 'list', 'data-testid': 'inbox-waiting' });
  const done = h('ul', { class: 'list', 'data-testid': 'inbox-done' });
  const state = h('div', { class: 'list__status' });
  const tasks = h('ul', { class: 'list', 'data-testid': 'inbox-tasks' });
  const tasksCard = card('task.unitTitle', tasks);
  tasksCard.hidden = true;

  async function load() {
    if (!waiting.children.length && !done.children.length) state.replaceChildren(loadingLine());
    try {
      const page = await docApi.list({ limit: PAGE_SIZE });
      // A supervisor who also answers for a unit sees only that unit's documents here.
      const items = ((page && page.items) || []).filter((d) => !units.size || units.has(d.unit_id));
      const open = items.filter((d) => AWAITING.includes(d.status));
      const rest = items.filter((d) => !open.includes(d));
      const row = (d) => {
        const due = AWAITING.includes(d.status) ? dueLine(d) : null;
        const li = docRow(d, { unread: isUnread(d), due: !due });
        if (due) li.querySelector('a').append(due);
        return li;
      };
      waiting.replaceChildren(...open.map(row));
      done.replaceChildren(...rest.map(row));
      const unread = items.filter(isUnread).length;
      badge.textContent = String(unread);
      badge.classList.toggle('badge--on', unread > 0);
      state.replaceChildren();
      if (!open.length) state.append(h('p', { class: 'muted', 'data-testid': 'inbox-empty' }, t('inbox.empty')));
    } catch (err) {
      state.replaceChildren(loadError(errorMessage(err), load));
    }
    try {
      const page = await taskApi.list({ status: 'open', limit: 50 });
      // Tasks of the unit as a whole (an officer's own show on their home screen).
      const items = ((page && page.items) || []).filter((x) => !x.assignee_user_id && units.has(x.unit_id));
      tasks.replaceChildren(...items.map((x) => taskRow(x)));
      tasksCard.hidden = !items.length;
    } catch {
      /* the documents are what this page is for; tasks show when they load */
    }
  }

  const stream = docStream(() => load());
  load();
  const node = h('section', { class: 'page page--inbox' },
    pageHeading('inbox.title'),
    h('p', { class: 'lead' }, t('inbox.intro'), ' ', h('span', { class: 'inbox__unread' }, t('inbox.unread'), ' ', badge)),
    card('inbox.waiting', waiting, state),
    monthlyCard(user),
    tasksCard,
    // Reports the bureau forwarded to the unit, petitions and lawsuits about it (pages/channels.js).
    h('a', { class: 'btn btn--secondary btn--block', href: '#/channels', 'data-testid': 'inbox-channels' }, t('inbox.channels')),
    card('inbox.done', done),
    accountCard(user, onLogout));
  return { node, cleanup: () => stream.stop() };
}
