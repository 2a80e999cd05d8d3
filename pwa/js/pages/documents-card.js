// The supervisor home's 待回复文书 card: how many issued documents wait for the unit's answer (and how
// many of them are overdue), each number a link to its list, recounted when a document changes.

import { h, nextId } from '../dom.js';
import { t } from '../i18n.js';
import { docApi } from '../documents.js';

const COUNT_PAGE = 200;
const RECOUNT_GAP_MS = 1000;

/** Documents with this status in the viewer's scope (the server's own count when it gives one). */
async function countOf(status) {
  let n = 0;
  let cursor = null;
  for (let i = 0; i < 20; i += 1) {
    const page = await docApi.list({ status, limit: COUNT_PAGE, cursor });
    if (page && typeof page.total === 'number') return page.total;
    n += ((page && page.items) || []).length;
    cursor = page && page.next_cursor;
    if (!cursor) break;
  }
  return n;
}

/** Returns { node, refresh(), stop() }; `refresh` may be called as often as events come. */
export function documentsCard() {
  const id = nextId('sec');
  const value = h('span', { class: 'doc-card__value', 'data-testid': 'docs-awaiting' }, t('common.noValue'));
  const overdue = h('a', { class: 'doc-card__overdue', href: '#/documents/filter/overdue', 'data-testid': 'docs-overdue', hidden: true });
  const node = h('section', { class: 'card doc-card', 'aria-labelledby': id, 'data-testid': 'docs-card' },
    h('h2', { id, class: 'card__title' }, t('supervisor.docsCard')),
    h('a', { class: 'doc-card__count', href: '#/documents/filter/awaiting', 'data-testid': 'docs-awaiting-link' }, value,
      h('span', { class: 'visually-hidden' }, t('doc.filter.awaiting'))),
    overdue,
    h('div', { class: 'doc-card__links' },
      h('a', { class: 'btn btn--secondary btn--block', href: '#/documents', 'data-testid': 'docs-link' }, t('supervisor.docsOpen')),
      h('a', { class: 'btn btn--secondary btn--block', href: '#/tasks', 'data-testid': 'tasks-link' }, t('supervisor.tasks'))));
  let timer = null;
  let last = 0;
  let stopped = false;

  async function run() {
    timer = null;
    last = Date.now();
    try {
      let all;
      let late;
      try {
        const c = await docApi.counts();
        all = c.awaiting;
        late = c.overdue;
      } catch {
        // Without the server's counts, count the lists: issued, returned and overdue all wait.
        const [issued, returned, overdue] = await Promise.all([countOf('issued'), countOf('returned'), countOf('overdue')]);
        all = issued + returned + overdue;
        late = overdue;
      }
      if (stopped) return;
      const text = t('supervisor.docsCount', { n: all });
      if (value.textContent !== text) {
        value.textContent = text;
        value.classList.remove('is-changed');
        void value.offsetWidth; // restart the highlight
        value.classList.add('is-changed');
      }
      value.dataset.count = String(all);
      overdue.hidden = !late;
      overdue.dataset.count = String(late);
      overdue.textContent = t('supervisor.docsOverdue', { n: late });
    } catch {
      /* offline or refused: the last number stays; the next change tries again */
    }
  }
  function refresh() {
    if (stopped || timer) return;
    timer = setTimeout(run, Math.max(0, last + RECOUNT_GAP_MS - Date.now()));
  }
  refresh();
  return {
    node,
    refresh,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
