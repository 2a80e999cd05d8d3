// 法定期限: the statutory clocks of the user's units on one screen, what is due first on top, and
// the acts still without their audio-video recording (全过程记录).

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { errorMessage } from '../api.js';
import { api, backLink, clockRow } from '../enforcement.js';
import { loadError, loadingLine } from '../widgets.js';

export function clocksPage({ user }) {
  const roles = new Set(Array.isArray(user && user.roles) ? user.roles : []);
  const home = roles.has('officer') ? ['#/officer', 'officer.title'] : ['#/supervisor', 'supervisor.title'];
  const body = h('div', { class: 'page__body' }, loadingLine());
  let alive = true;

  async function load() {
    body.replaceChildren(loadingLine());
    try {
      const answer = await api.clocks();
      if (!alive) return;
      const items = answer.items || [];
      body.replaceChildren(
        answer.recordings_missing
          ? h('p', { class: 'notice notice--warn', 'data-testid': 'recordings-missing' },
            t('clock.recordingsMissing', { n: answer.recordings_missing, late: answer.recordings_overdue }))
          : '',
        items.length
          ? h('ul', { class: 'list', 'data-testid': 'clocks' }, items.map((c) => clockRow(c, true)))
          : h('p', { class: 'muted', 'data-testid': 'clocks-empty' }, t('clock.none')));
    } catch (err) {
      if (alive) body.replaceChildren(loadError(errorMessage(err), load));
    }
  }
  load();
  const node = h('section', { class: 'page page--list' },
    backLink(...home),
    h('h1', { class: 'page__title', tabindex: '-1' }, t('clock.listTitle')),
    body);
  return { node, cleanup() { alive = false; } };
}
