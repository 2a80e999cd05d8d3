// The admin's home, loaded on first use (the reviewer's is pages/review.js, the live views
// pages/command.js and pages/supervisor.js, the invited supervisor's pages/spotcheck.js, the
// channels' roles pages/channels.js; a user with no role gets common.js's noRolePage). It shows the
// admin's work areas and the account card.

import { request } from '../api.js';
import { fill, h } from '../dom.js';
import { t } from '../i18n.js';
import { accountCard, pageHeading, todaySlot } from './common.js';
import '../i18n-admin.js';

function page(cls, ...children) {
  return { node: h('section', { class: `page ${cls}` }, ...children) };
}

/** What is not set up yet, in the order it is done: no unit, no item, or no user but the admin.
 * Nothing is said once each exists (or when the server cannot be asked). */
function setupNotice() {
  const box = h('div', { 'data-testid': 'admin-setup' });
  Promise.all([
    request('GET', '/units?limit=1'), request('GET', '/items?limit=1'), request('GET', '/users?limit=2'),
  ]).then(([units, items, users]) => {
    let step = null;
    if (!units.items.length) step = 'units';
    else if (!items.items.length) step = 'items';
    else if (users.items.length < 2) step = 'users';
    if (!step) return;
    fill(box, h('div', { class: 'notice', role: 'status', 'data-testid': 'admin-setup-notice', 'data-step': step },
      h('p', {}, h('strong', {}, t(step === 'units' ? 'ad.setup.nothing' : 'ad.setup.partly'))),
      h('p', {}, t(`ad.setup.${step}`)),
      h('a', { class: 'btn btn--primary btn--block', href: `#/admin/${step}`, 'data-testid': 'admin-setup-start' }, t(`ad.setup.start.${step}`))));
  }, () => {});
  return box;
}

export function adminPage({ user, onLogout }) {
  return page('page--admin',
    pageHeading('admin.title'),
    todaySlot(user),
    h('p', { class: 'lead' }, t('admin.intro')),
    setupNotice(),
    h('a', { class: 'btn btn--primary btn--xl btn--block', href: '#/admin/units', 'data-testid': 'admin-units-link' }, t('admin.units')),
    h('a', { class: 'btn btn--primary btn--xl btn--block', href: '#/admin/items', 'data-testid': 'admin-items-link' }, t('admin.items')),
    h('a', { class: 'btn btn--primary btn--xl btn--block', href: '#/admin/users', 'data-testid': 'admin-users-link' }, t('admin.users')),
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/imports', 'data-testid': 'imports-link' }, t('im.link')),
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/retention', 'data-testid': 'retention-link' }, t('admin.retention')),
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/shares', 'data-testid': 'shares-link' }, t('admin.shares')),
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/enforcement-list', 'data-testid': 'enforcement-list-link' }, t('el.link')),
    h('a', { class: 'btn btn--secondary btn--xl btn--block', href: '#/audit', 'data-testid': 'audit-link' }, t('au.link')),
    accountCard(user, onLogout));
}
