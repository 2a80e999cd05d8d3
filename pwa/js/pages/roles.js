// Home pages for the other roles (the reviewer's is pages/review.js). Each shows its purpose, its work
// areas and the account card.

import { h, nextId } from '../dom.js';
import { t } from '../i18n.js';
import { accountCard, pageHeading, placeholder, wipButton } from './common.js';

function page(cls, ...children) {
  return { node: h('section', { class: `page ${cls}` }, ...children) };
}

export function supervisorPage({ user, onLogout }) {
  return page('page--supervisor',
    pageHeading('supervisor.title'),
    h('p', { class: 'lead' }, t('supervisor.intro')),
    placeholder('supervisor.alerts'),
    placeholder('supervisor.documents'),
    placeholder('supervisor.reviews'),
    accountCard(user, onLogout));
}

export function invitedPage({ user, onLogout }) {
  const id = nextId('sec');
  return page('page--invited',
    pageHeading('invited.title'),
    h('p', { class: 'lead', 'data-testid': 'invited-intro' }, t('invited.intro')),
    h('section', { class: 'card', 'aria-labelledby': id },
      h('h2', { id, class: 'card__title' }, t('invited.onDuty')),
      h('p', { class: 'muted' }, t('common.empty')),
      wipButton('invited.spotCheck')),
    accountCard(user, onLogout));
}

export function liaisonPage({ user, onLogout }) {
  return page('page--liaison',
    pageHeading('liaison.title'),
    h('p', { class: 'lead' }, t('liaison.intro')),
    wipButton('liaison.report'),
    placeholder('liaison.history'),
    accountCard(user, onLogout));
}

function counter(labelKey, testid) {
  return h('li', { class: 'counter', 'data-testid': testid },
    h('span', { class: 'counter__value' }, t('common.noValue')),
    h('span', { class: 'counter__label' }, t(labelKey)));
}

export function commandPage({ user, onLogout }) {
  const countersId = nextId('sec');
  return page('page--command',
    pageHeading('command.title'),
    h('section', { class: 'counters', 'aria-labelledby': countersId },
      h('h2', { id: countersId, class: 'visually-hidden' }, t('command.counters')),
      h('ul', { class: 'counters__list' },
        counter('command.records', 'count-records'),
        counter('command.onDuty', 'count-on-duty'),
        counter('command.openAlerts', 'count-alerts'),
        counter('command.overdue', 'count-overdue'))),
    h('div', { class: 'command-grid' },
      placeholder('command.feed'),
      placeholder('command.map'),
      placeholder('command.alerts')),
    accountCard(user, onLogout));
}

export function adminPage({ user, onLogout }) {
  return page('page--admin',
    pageHeading('admin.title'),
    h('p', { class: 'lead' }, t('admin.intro')),
    h('div', { class: 'tiles' },
      placeholder('admin.units'),
      placeholder('admin.users'),
      placeholder('admin.items'),
      placeholder('admin.delegations')),
    accountCard(user, onLogout));
}

export function noRolePage({ user, onLogout }) {
  return page('page--norole',
    h('h1', { class: 'page__title', tabindex: '-1' }, user.display_name || user.username),
    h('p', { class: 'alert alert--static' }, t('app.noRole')),
    accountCard(user, onLogout));
}
