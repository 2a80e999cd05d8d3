// #/supervisor 执法监督 on a phone: the live stream within the supervisor's scope (the server filters
// it): counters, alerts to handle with the same buttons as the command center, the latest records.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { accountCard, pageHeading, todaySlot } from './common.js';
import { liveWatch, region } from './watch.js';
import { documentsCard } from './documents-card.js';
import { DOCUMENT_EVENTS, isDocumentEvent } from '../caps.js';
import '../i18n-reports.js';
import '../i18n-roster.js';
import '../i18n-meetings.js';

const TYPES = ['action.created', 'evidence.added', 'alert.raised', 'alert.acked', ...DOCUMENT_EVENTS];
const FEED_MAX = 30;

export function supervisorPage({ user, onLogout }) {
  const live = liveWatch({
    user,
    types: TYPES,
    actionsLimit: FEED_MAX,
    feed: { max: FEED_MAX, label: 'supervisor.latest', draftLink: true },
    alerts: { maxHandled: 5, maxOpen: 100, label: 'supervisor.alerts', draftLink: true },
    links: { overdue_documents: '#/documents/filter/overdue' },
  });

  const docs = documentsCard();
  live.stream.on('*', (ev) => {
    if (isDocumentEvent(ev)) docs.refresh();
  });
  live.stream.on('sync', () => docs.refresh());

  const node = h('section', { class: 'page page--supervisor' },
    pageHeading('supervisor.title'),
    todaySlot(user),
    live.status.node,
    live.counts.node,
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/spot-checks', 'data-testid': 'spot-checks-link' }, t('sc.supervisorLink')),
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/channels', 'data-testid': 'channels-link' }, t('supervisor.channels')),
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/trainings', 'data-testid': 'trainings-link' }, t('tr.supervisorLink')),
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/reports', 'data-testid': 'reports-link' }, t('rp.link')),
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/assessment', 'data-testid': 'ranking-link' }, t('as.link')),
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/enforcement-list', 'data-testid': 'enforcement-list-link' }, t('el.link')),
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/audit', 'data-testid': 'audit-link' }, t('au.link')),
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/leading-groups', 'data-testid': 'leading-groups-link' }, t('mt.groupsLink')),
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/meetings', 'data-testid': 'meetings-link' }, t('mt.meetingsLink')),
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/case-reviews', 'data-testid': 'case-reviews-link' }, t('cr.link')),
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/retention', 'data-testid': 'retention-link' }, t('supervisor.retention')),
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/shares', 'data-testid': 'shares-link' }, t('supervisor.shares')),
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/invited-supervisors', 'data-testid': 'roster-link' }, t('ro.link')),
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/nominations', 'data-testid': 'nominations-link' }, t('nq.link')),
    docs.node,
    region('supervisor.alerts', live.alerts.node, 'watch watch--alerts'),
    region('supervisor.latest', live.feed.node, 'watch watch--feed'),
    accountCard(user, onLogout));

  live.start();

  return {
    node,
    cleanup() {
      docs.stop();
      live.cleanup();
    },
  };
}
