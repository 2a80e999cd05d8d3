// Building blocks shared by the role pages.

import { h, nextId } from '../dom.js';
import { t } from '../i18n.js';
import { pendingCount } from '../store.js';

export function unitNames(user) {
  const units = Array.isArray(user.units) ? user.units : [];
  return units.map((u) => u && u.name).filter(Boolean);
}

/** The 今日待办 card (pages/today.js), its module loaded on first use. */
export function todaySlot(user) {
  const slot = h('div', { class: 'today-slot' });
  import('./today.js').then((m) => slot.replaceChildren(m.todayCard(user)), () => {});
  return slot;
}

export function pageHeading(key) {
  return h('h1', { class: 'page__title', tabindex: '-1' }, t(key));
}

/** Name, units and the sign-out button. */
export function accountCard(user, onLogout) {
  const id = nextId('account');
  const units = unitNames(user);
  const btn = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, t('account.logout'));
  btn.addEventListener('click', async () => {
    // What waits in the outbox stays on the phone, but only this officer's next sign-in sends it.
    const waiting = await pendingCount();
    if (waiting && !confirm(t('account.logoutPending', { n: waiting }))) return;
    btn.disabled = true;
    btn.textContent = t('account.loggingOut');
    await onLogout();
  });
  return h(
    'section',
    { class: 'card account', 'aria-labelledby': id },
    h('h2', { id, class: 'card__title' }, t('account.title')),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, t('account.name')),
      h('dd', { 'data-testid': 'user-name' }, user.display_name || user.username),
      h('dt', {}, t('account.username')),
      h('dd', {}, user.username),
      h('dt', {}, t('account.units')),
      h('dd', { 'data-testid': 'user-units' }, units.length ? units.join('、') : t('account.noUnit')),
    ),
    btn,
  );
}

/** The home of a signed-in user with no role the app knows. */
export function noRolePage({ user, onLogout }) {
  return { node: h('section', { class: 'page page--norole' },
    h('h1', { class: 'page__title', tabindex: '-1' }, user.display_name || user.username),
    h('p', { class: 'alert alert--static' }, t('app.noRole')),
    accountCard(user, onLogout)) };
}
