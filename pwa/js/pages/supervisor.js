// #/supervisor 执法监督 on a phone: the live stream within the supervisor's scope (the server filters
// it): counters, alerts to handle with the same buttons as the command center, the latest records.

import { request } from '../api.js';
import { h, nextId } from '../dom.js';
import { t } from '../i18n.js';
import { LiveStream } from '../live.js';
import { accountCard, pageHeading, placeholder } from './common.js';
import { actionFeed, alertList, counters, createDirectory, liveStatus, loadAlerts, summaryFeed } from './watch.js';

const TYPES = ['action.created', 'evidence.added', 'alert.raised', 'alert.acked'];
const FEED_MAX = 30;

function section(titleKey, body, cls) {
  const id = nextId('sec');
  return h('section', { class: `card ${cls}`, 'aria-labelledby': id },
    h('h2', { id, class: 'card__title' }, t(titleKey)), body);
}

export function supervisorPage({ user, onLogout }) {
  const directory = createDirectory();
  directory.learnUser(user.id, user.display_name);
  const stream = new LiveStream({ types: TYPES });
  const status = liveStatus(stream);
  const counts = counters();
  const alerts = alertList({ directory, maxHandled: 5, maxOpen: 100, label: 'supervisor.alerts' });
  const feed = actionFeed({ max: FEED_MAX, directory, label: 'supervisor.latest' });
  const summary = summaryFeed(counts.update);

  let loading = null;
  function loadAll() {
    if (loading) return loading;
    loading = (async () => {
      await directory.loadUnits();
      alerts.refreshAll();
      const [actions, alertItems] = await Promise.allSettled([
        request('GET', `/actions?limit=${FEED_MAX}`),
        loadAlerts(),
      ]);
      if (actions.status === 'fulfilled') feed.addAll(actions.value.items);
      if (alertItems.status === 'fulfilled') alerts.addAll(alertItems.value);
    })().finally(() => {
      loading = null;
    });
    return loading;
  }

  stream.on('action.created', (ev) => {
    feed.add(ev.data, { fresh: true });
    summary.refresh();
  });
  stream.on('evidence.added', (ev) => feed.evidenceAdded(ev.data));
  stream.on('alert.raised', (ev) => {
    alerts.upsert(ev.data, { fresh: true });
    summary.refresh();
  });
  stream.on('alert.acked', (ev) => {
    alerts.upsert(ev.data);
    summary.refresh();
  });
  stream.on('sync', ({ resumed }) => {
    summary.refresh();
    if (!resumed) loadAll();
  });

  const node = h('section', { class: 'page page--supervisor' },
    pageHeading('supervisor.title'),
    status.node,
    counts.node,
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/spot-checks', 'data-testid': 'spot-checks-link' }, t('sc.supervisorLink')),
    section('supervisor.alerts', alerts.node, 'watch watch--alerts'),
    section('supervisor.latest', feed.node, 'watch watch--feed'),
    placeholder('supervisor.documents'),
    placeholder('supervisor.reviews'),
    accountCard(user, onLogout));

  loadAll();
  stream.start();

  return {
    node,
    cleanup() {
      stream.stop();
      summary.stop();
      feed.destroy();
      status.cleanup();
    },
  };
}
