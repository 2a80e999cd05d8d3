// The admin's home, loaded on first use (the reviewer's is pages/review.js, the live views
// pages/command.js and pages/supervisor.js, the invited supervisor's pages/spotcheck.js, the
// channels' roles pages/channels.js; a user with no role gets common.js's noRolePage). It shows the
// admin's work areas and the account card.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { accountCard, pageHeading, todaySlot } from './common.js';

function page(cls, ...children) {
  return { node: h('section', { class: `page ${cls}` }, ...children) };
}

export function adminPage({ user, onLogout }) {
  return page('page--admin',
    pageHeading('admin.title'),
    todaySlot(user),
    h('p', { class: 'lead' }, t('admin.intro')),
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
