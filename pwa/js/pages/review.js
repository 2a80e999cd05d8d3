// #/reviewer "法制审核": the queue of cases awaiting legal review.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { errorMessage } from '../api.js';
import { api, pagedList } from '../enforcement.js';
import { card } from '../widgets.js';
import { accountCard, pageHeading, todaySlot } from './common.js';
import { approvedAsIs, caseRow } from './cases.js';

const PAGE_SIZE = 20;

/** Approved cases stay in the review status until the unit decides: mark them apart from new ones. */
function queueRow(c) {
  const done = approvedAsIs(c);
  return caseRow(c, h('span', { class: `queue__state${done ? ' queue__state--done' : ''}`, 'data-testid': 'queue-state' },
    t(done ? 'reviewer.approvedWaiting' : 'reviewer.awaiting')));
}

export function reviewerPage({ user, onLogout }) {
  const list = pagedList({
    fetchPage: (cursor) => api.cases({ status: 'review', limit: PAGE_SIZE, cursor }),
    renderItem: queueRow,
    emptyKey: 'reviewer.queueEmpty',
    errorMessage,
    testid: 'review-queue',
  });
  const node = h('section', { class: 'page page--reviewer' },
    pageHeading('reviewer.title'),
    todaySlot(user),
    h('p', { class: 'lead' }, t('reviewer.intro')),
    card('reviewer.queue', list.node),
    (user.units || []).some((u) => u.kind === 'department')
      ? h('a', { class: 'btn btn--secondary btn--block', href: '#/oversight', 'data-testid': 'oversight-link' }, t('ov.link'))
      : null,
    accountCard(user, onLogout));
  return { node };
}
