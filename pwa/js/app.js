// Shell: hash router, header (connectivity, language), role switcher, service worker.
// The officer's and the simple role homes load with the shell; the enforcement pages and the live
// views (command center, supervisor) are imported on first use.

import { t, getLang, loadLang, setLang, onLangChange } from './i18n.js';
import {
  fetchMe,
  getCachedUser,
  hasSession,
  logout,
  setAuthLostHandler,
  setReachabilityHandler,
} from './api.js';
import { getNetState, onNetChange, setServerReachable, withSync } from './net.js';
import { flush, releaseHeld, serverReached } from './sender.js';
import { keepFieldDataFresh, refreshFieldData } from './field-data.js';
import { h, restoreValues } from './dom.js';
import { loginPage } from './pages/login.js';
import { officerPage } from './pages/officer.js';
import { noRolePage } from './pages/common.js';
import { isResponder } from './caps.js';

/** Role → route, in the order that picks the home page of a user with several roles. */
const ROLE_ROUTES = [
  ['admin', 'admin'],
  ['command', 'command'],
  ['supervisor', 'supervisor'],
  ['invited_supervisor', 'invited'],
  ['legal_reviewer', 'reviewer'],
  ['liaison', 'liaison'],
  ['petition_office', 'registrar'],
  ['court', 'registrar'],
  ['procuratorate', 'organ'],
  ['public_security', 'organ'],
  ['officer', 'officer'],
  // Not a role: the person a unit names to answer supervision documents (see userRoutes).
  ['responder', 'inbox'],
];

const PAGES = {
  admin: { load: () => import('./pages/roles.js'), name: 'adminPage', title: 'admin.title' },
  command: { load: () => import('./pages/command.js'), name: 'commandPage', title: 'command.title' },
  supervisor: { load: () => import('./pages/supervisor.js'), name: 'supervisorPage', title: 'supervisor.title' },
  invited: { load: () => import('./pages/spotcheck.js'), name: 'invitedHomePage', title: 'invited.title' },
  reviewer: { load: () => import('./pages/review.js'), name: 'reviewerPage', title: 'reviewer.title' },
  liaison: { load: () => import('./pages/channels.js'), name: 'liaisonHomePage', title: 'liaison.title' },
  registrar: { load: () => import('./pages/channels.js'), name: 'registrarPage', title: 'registrar.title' },
  organ: { load: () => import('./pages/channels.js'), name: 'organPage', title: 'organ.title' },
  officer: { render: officerPage, title: 'officer.title' },
  inbox: { load: () => import('./pages/inbox.js'), name: 'inboxPage', title: 'inbox.title' },
};

/** Pages below a role home, or shared by several roles: [pattern, page]. `:id` matches one segment. */
const CASE_ROLES = ['officer', 'legal_reviewer', 'supervisor'];
const UNIT_ROLES = ['supervisor', 'admin', 'officer', 'legal_reviewer'];
const MEETING_ROLES = [...UNIT_ROLES, 'command'];
const BUREAU = ['supervisor', 'admin'];
const ADMIN = ['admin'];
const NONE = [];
const EVERYONE = () => true;
/** A page of pages/<file>.js, loaded on first use. */
const desk = (file, name, title, roles, allow) => ({ roles, allow, load: () => import(`./pages/${file}.js`), name, title });
const SUBPAGES = [
  ['officer/new', desk('action-new', 'newActionPage', 'action.newTitle', ['officer'])],
  ['officer/outbox', desk('outbox', 'outboxPage', 'outbox.title', ['officer'])],
  ['officer/actions', desk('actions', 'actionsPage', 'actions.title', ['officer'])],
  ['officer/actions/:id', desk('actions', 'actionPage', 'action.detailTitle', ['officer'])],
  // Any record shown anywhere (the feed, a case) opens here, for every role that may see it.
  ['actions/:id', desk('actions', 'actionPage', 'action.detailTitle', ['officer', 'legal_reviewer', 'supervisor', 'command', 'admin'])],
  ['cases', desk('cases', 'casesPage', 'cases.title', CASE_ROLES)],
  ['clocks', desk('clocks', 'clocksPage', 'clock.listTitle', ['officer', 'legal_reviewer', 'supervisor', 'command'])],
  ['cases/:id', desk('cases', 'casePage', 'case.title', CASE_ROLES)],
  ['spot-checks', desk('spotcheck', 'spotChecksPage', 'sc.supervisorTitle', ['supervisor'])],
  ['spot-checks/:id', desk('spotcheck-view', 'spotCheckPage', 'sc.title', ['supervisor', 'invited_supervisor', 'officer'])],
  ['documents', desk('documents', 'documentsPage', 'doc.listTitle', ['supervisor', 'command'])],
  ['documents/filter/:status', desk('documents', 'documentsPage', 'doc.listTitle', ['supervisor', 'command'])],
  ['documents/new', desk('documents', 'newDocumentPage', 'doc.newTitle', ['supervisor'])],
  ['documents/new/:kind/:id', desk('documents', 'newDocumentPage', 'doc.newTitle', ['supervisor'])],
  ['documents/:id', desk('documents', 'documentPage', 'doc.title', ['supervisor', 'command'], isResponder)],
  ['tasks', desk('tasks', 'tasksPage', 'task.title', ['supervisor', 'officer', 'legal_reviewer'], isResponder)],
  ['tasks/:id', desk('tasks', 'taskPage', 'task.detailTitle', ['supervisor', 'officer', 'legal_reviewer'], isResponder)],
  ['oversight', desk('oversight', 'oversightPage', 'ov.title', ['officer', 'legal_reviewer'])],
  // Supervision channels: the inbox for supervisors, the unit's forwarded reports; one item for
  // everyone the server lets see it (its reporter, the registering office, the unit, the bureau).
  ['channels', desk('channels', 'channelInboxPage', 'ch.inbox', ['supervisor', 'admin', 'officer', 'legal_reviewer'], isResponder)],
  ['channels/:id', desk('channels', 'channelItemPage', 'ch.detail', ['supervisor', 'admin', 'officer', 'legal_reviewer', 'liaison', 'petition_office', 'court'], isResponder)],
  ['trainings', desk('training', 'trainingsPage', 'tr.listTitle', ['supervisor'])],
  ['trainings/year/:year', desk('training', 'trainingsPage', 'tr.listTitle', ['supervisor'])],
  ['trainings/:id', desk('training', 'trainingPage', 'tr.title', ['supervisor'])],
  ['assessments/:year', desk('training', 'assessmentPage', 'tr.runTitle', ['supervisor'])],
  ['officer/training', desk('training', 'myTrainingPage', 'tr.mineTitle', ['officer'])],
  ['retention', desk('retention', 'retentionPage', 'rt.pageTitle', BUREAU)],
  ['shares', desk('shares', 'sharesPage', 'sh.pageTitle', BUREAU)],
  // Desk pages and pages for everyone signed in: desk(page file, export, title, roles, allow).
  ['nominations', desk('nominations', 'nominationsPage', 'nq.title', BUREAU)],
  ['invited-supervisors', desk('nominations', 'invitedSupervisorsPage', 'ro.title', BUREAU)],
  ['reports', desk('reports', 'reportsPage', 'rp.listTitle', BUREAU)],
  ['reports/:id', desk('reports', 'reportPage', 'rp.title', UNIT_ROLES, isResponder)],
  ['reports/:id/records/:figure', desk('reports', 'figureRecordsPage', 'rp.recordsTitle', UNIT_ROLES, isResponder)],
  ['assessment', desk('assessment', 'assessmentPage', 'as.title', UNIT_ROLES, isResponder)],
  ['assessment/records', desk('assessment', 'indicatorRecordsPage', 'as.recordsTitle', UNIT_ROLES, isResponder)],
  ['leading-groups', desk('meetings', 'leadingGroupsPage', 'mt.groupsTitle', MEETING_ROLES, isResponder)],
  ['leading-groups/:id', desk('meetings', 'leadingGroupPage', 'mt.groupTitle', MEETING_ROLES, isResponder)],
  ['meetings', desk('meetings', 'meetingsPage', 'mt.meetingsTitle', MEETING_ROLES, isResponder)],
  ['meetings/:id', desk('meetings', 'meetingPage', 'mt.meetingTitle', MEETING_ROLES, isResponder)],
  ['case-reviews', desk('case-reviews', 'caseReviewsPage', 'cr.title', BUREAU)],
  ['case-reviews/:id', desk('case-reviews', 'caseReviewPage', 'cr.drawTitle', BUREAU)],
  ['admin/units', desk('admin', 'adminUnitsPage', 'ad.unitsTitle', ADMIN)],
  ['admin/items', desk('admin', 'adminItemsPage', 'ad.itemsTitle', ADMIN)],
  ['admin/users', desk('admin', 'adminUsersPage', 'ad.usersTitle', ADMIN)],
  ['admin/users/:id', desk('admin', 'adminUserPage', 'ad.userTitle', ADMIN)],
  ['imports', desk('imports', 'importsPage', 'im.title', ADMIN)],
  ['audit', desk('audit', 'auditPage', 'au.title', BUREAU)],
  ['enforcement-list', desk('enforcement-list', 'enforcementIndexPage', 'el.title', NONE, EVERYONE)],
  ['units/:id/enforcement-list', desk('enforcement-list', 'enforcementListPage', 'el.title', NONE, EVERYONE)],
  ['evidence/:id', desk('evidence', 'evidencePage', 'evidence.title', ['officer', 'legal_reviewer', 'supervisor', 'command', 'admin', 'invited_supervisor'], isResponder)],
];

/** The invitation link #/invite/<token> opens without a session (its token is not a path segment). */
const INVITE_PAGE = { load: () => import('./pages/invite.js'), name: 'invitePage', title: 'invite.title' };
/** A password link #/reset/<token> opens without a session too. */
const RESET_PAGE = { load: () => import('./pages/reset.js'), name: 'resetPage', title: 'rs.title' };
/** #/nominate, the application to be an invited supervisor, is open to everyone, signed in or not. */
const NOMINATE_PAGE = { load: () => import('./pages/nominate.js'), name: 'nominatePage', title: 'nm.title' };
/** A share link #/shared/<token> is for an outside recipient: no account, whoever is signed in here. */
const SHARED_PAGE = { load: () => import('./pages/shared.js'), name: 'sharedPage', title: 'shared.title' };

const RETRY_MS = 30000;

const main = document.getElementById('main');
const netEl = document.getElementById('net');
const langBtn = document.getElementById('lang-toggle');
const rolesNav = document.getElementById('roles');
const updateEl = document.getElementById('update');

let current = { route: null, cleanup: null };
let flash = null; // message key for the login page
let firstRender = true;

export function userRoutes(user) {
  const roles = new Set(Array.isArray(user && user.roles) ? user.roles : []);
  if (isResponder(user)) roles.add('responder');
  return ROLE_ROUTES.filter(([role]) => roles.has(role)).map(([, route]) => route);
}

// A path segment may hold a dot (a report figure's key, `actions.total`); a `?query` after the path
// reaches the page as ctx.query.
const HASH = /^#\/([\w./-]*)(?:\?([^#]*))?$/;

function pathFromHash() {
  const m = HASH.exec(location.hash);
  return m ? m[1].replace(/\/+$/, '') : '';
}

function queryFromHash() {
  const m = HASH.exec(location.hash);
  return new URLSearchParams((m && m[2]) || '');
}

function routeFromHash() {
  return pathFromHash().split('/')[0];
}

/** The sub-page for a path, with its parameters; null when none matches. */
function matchSubpage(path) {
  const parts = path.split('/');
  for (const [pattern, page] of SUBPAGES) {
    const want = pattern.split('/');
    if (want.length !== parts.length) continue;
    const params = {};
    if (want.every((w, i) => (w.startsWith(':') ? ((params[w.slice(1)] = parts[i]), true) : w === parts[i]))) {
      return { page, params };
    }
  }
  return null;
}

function go(route, { replace = false } = {}) {
  const hash = `#/${route}`;
  if (location.hash === hash) {
    render();
  } else if (replace) {
    history.replaceState(history.state, '', hash);
    render();
  } else {
    location.hash = hash;
  }
}

// ---- chrome -------------------------------------------------------------------------------

function renderNet(state = getNetState()) {
  netEl.dataset.state = state;
  netEl.className = `net net--${state}`;
  netEl.querySelector('.net__icon').textContent = { online: '●', offline: '○', syncing: '↻' }[state];
  netEl.querySelector('.net__text').textContent = t(`net.${state}`);
  netEl.title = state === 'offline' ? t('net.offlineHint') : '';
}

function renderChrome() {
  document.documentElement.lang = getLang();
  document.getElementById('brand-name').textContent = t('app.name');
  document.querySelector('.skip').textContent = t('app.skip');
  langBtn.textContent = t('lang.toggle');
  langBtn.setAttribute('lang', getLang() === 'en' ? 'zh-CN' : 'en');
  langBtn.setAttribute('aria-label', t('lang.toggleLabel'));
  renderNet();
}

function renderRoleNav(user, route) {
  const routes = user ? userRoutes(user) : [];
  rolesNav.replaceChildren();
  if (routes.length < 2) {
    rolesNav.hidden = true;
    return;
  }
  rolesNav.hidden = false;
  rolesNav.setAttribute('aria-label', t('roles.nav'));
  const list = h('ul', { class: 'roles__list' });
  for (const [role, r] of ROLE_ROUTES) {
    if (!routes.includes(r)) continue;
    list.append(h('li', {}, h('a', {
      href: `#/${r}`,
      class: 'roles__link',
      'aria-current': r === route ? 'page' : null,
    }, t(`role.${role}`))));
  }
  rolesNav.append(list);
}

// ---- routing ------------------------------------------------------------------------------

function show(route, view, { quiet = false, restore = null, titleKey = null } = {}) {
  if (current.cleanup) current.cleanup();
  current = { route, cleanup: view.cleanup || null };
  main.replaceChildren(view.node);
  if (restore) restoreValues(main, restore);
  const key = titleKey || (route === 'login' ? 'login.title' : PAGES[route] ? PAGES[route].title : null);
  document.title = key ? `${t(key)} – ${t('app.name')}` : t('app.name');
  const target = view.focus || main.querySelector('h1');
  // On first load only the login form takes focus; later route changes move focus to the new heading.
  // A quiet re-render (new language, fresher user data) leaves focus and scroll where they were.
  if (!quiet) {
    if (target && (!firstRender || route === 'login')) target.focus({ preventScroll: true });
    if (!firstRender) window.scrollTo(0, 0);
  }
  firstRender = false;
}

async function doLogout() {
  keepFieldDataFresh(null);
  await logout();
  flash = 'login.loggedOut';
  go('login');
}

let renderSeq = 0;

// An officer's spot-check alerts (banner, sound, vibration) follow them across every page.
let spotAlerts = null;
function spotCheckAlerts(user) {
  const officer = Boolean(user && Array.isArray(user.roles) && user.roles.includes('officer'));
  if (!officer && !spotAlerts) return;
  spotAlerts = spotAlerts || import('./pages/spotcheck-officer.js');
  spotAlerts.then((m) => m.watchSpotChecks(officer ? user : null)).catch(() => {
    spotAlerts = null;
  });
}

/** A page module that could not be fetched (offline before it was ever cached). */
function unavailablePage() {
  const retry = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, t('common.retry'));
  retry.addEventListener('click', () => render());
  return {
    node: h('section', { class: 'page' },
      h('h1', { class: 'page__title', tabindex: '-1' }, t('app.name')),
      h('p', { class: 'alert alert--static', role: 'alert' }, t('err.network')),
      retry),
  };
}

async function renderLazy(seq, route, page, ctx, opts) {
  let mod = null;
  try {
    mod = await page.load();
  } catch {
    /* offline and never cached: say so below */
  }
  if (seq !== renderSeq) return;
  show(route, mod ? mod[page.name](ctx) : unavailablePage(), { ...opts, titleKey: page.title });
}

function render(opts = {}) {
  const seq = ++renderSeq;
  const path = pathFromHash();
  const route = routeFromHash();
  const user = hasSession() ? getCachedUser() : null;
  spotCheckAlerts(user);
  if (/^#\/invite(\/|$)/.test(location.hash)) {
    renderRoleNav(null);
    return renderLazy(seq, 'invite', INVITE_PAGE, { user, navigate: go }, opts);
  }
  if (/^#\/reset(\/|$)/.test(location.hash)) {
    renderRoleNav(null);
    return renderLazy(seq, 'reset', RESET_PAGE, {}, opts);
  }
  if (/^#\/nominate$/.test(location.hash)) {
    renderRoleNav(user);
    return renderLazy(seq, 'nominate', NOMINATE_PAGE, { user }, opts);
  }
  if (/^#\/shared(\/|$)/.test(location.hash)) {
    renderRoleNav(null);
    return renderLazy(seq, 'shared', SHARED_PAGE, {}, opts);
  }
  if (!user) {
    renderRoleNav(null);
    if (route !== 'login') return go('login', { replace: true });
    const view = loginPage({
      flash,
      onLoggedIn(u) {
        flash = null;
        keepFieldDataFresh(u); // what the officer needs offline is on the phone before they go out
        const routes = userRoutes(u);
        go(routes[0] || 'home');
      },
    });
    flash = null;
    return show('login', view, opts);
  }
  const routes = userRoutes(user);
  if (!routes.length) {
    renderRoleNav(null);
    return show('home', noRolePage({ user, onLogout: doLogout }), opts);
  }
  const ctx = {
    user,
    onLogout: doLogout,
    navigate: go,
    params: {},
    query: queryFromHash(),
    refresh: Boolean(opts.quiet),
    restore: opts.restore || null,
  };
  let page = null;
  if (path === route && routes.includes(route)) page = PAGES[route];
  else {
    const sub = matchSubpage(path);
    const roles = new Set(user.roles || []);
    if (sub && (sub.page.roles.some((r) => roles.has(r)) || (sub.page.allow && sub.page.allow(user)))) {
      page = sub.page;
      ctx.params = sub.params;
    }
  }
  if (!page) return go(routes[0], { replace: true });
  renderRoleNav(user, route);
  if (page.load) return renderLazy(seq, route, page, ctx, opts);
  return show(route, page.render(ctx), opts);
}

/** Re-render after a language change, keeping what the user has typed. */
async function rerender() {
  const values = {};
  for (const el of main.querySelectorAll('input[id], textarea[id], select[id]')) {
    values[el.id] = el.type === 'checkbox' || el.type === 'radio' ? el.checked : el.value;
  }
  const active = document.activeElement && document.activeElement.id;
  const scroll = window.scrollY;
  await render({ quiet: true, restore: values });
  if (active && document.getElementById(active)) document.getElementById(active).focus({ preventScroll: true });
  window.scrollTo(0, scroll);
}

// ---- background refresh -------------------------------------------------------------------

let retryTimer = null;

/** Fetch the current user and flush the outbox; re-render if anything the page shows changed. */
async function sync() {
  if (!hasSession() || !navigator.onLine) return;
  clearTimeout(retryTimer);
  const before = JSON.stringify(getCachedUser());
  try {
    await withSync(async () => {
      const me = await fetchMe();
      if (me && me.certificate && me.certificate.status === 'valid' && (me.roles || []).includes('officer')) {
        await releaseHeld(me.id);
      }
      await flush();
    });
    refreshFieldData(getCachedUser()).catch(() => {});
  } catch (e) {
    if (e && (e.code === 'network.offline' || e.code === 'network.timeout')) {
      retryTimer = setTimeout(sync, RETRY_MS);
    }
    return;
  }
  if (hasSession() && JSON.stringify(getCachedUser()) !== before && current.route !== 'login') rerender();
}

// The server tells an officer's open socket when their account changed (a certificate revoked or
// suspended, say): reload it at once rather than at the next sync.
window.addEventListener('fw:me-changed', () => sync());

// ---- service worker -----------------------------------------------------------------------

function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  const hadController = Boolean(navigator.serviceWorker.controller);
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (!hadController) return; // first install: nothing to announce
    const btn = h('button', { type: 'button', class: 'btn btn--secondary' }, t('app.reload'));
    btn.addEventListener('click', () => location.reload());
    updateEl.replaceChildren(h('p', { role: 'status' }, t('app.updated'), ' '), btn);
    updateEl.hidden = false;
  });
  navigator.serviceWorker.register('/sw.js', { scope: '/', updateViaCache: 'none' }).catch(() => {
    /* without a service worker the app still works online */
  });
}

// ---- boot ---------------------------------------------------------------------------------

setReachabilityHandler((ok) => {
  setServerReachable(ok);
  if (ok) serverReached();
});
setAuthLostHandler((reason) => {
  flash = reason === 'elsewhere' ? 'login.loggedOut' : 'login.expired';
  if (current.route !== 'login') go('login');
});
onNetChange((state) => {
  renderNet(state);
});
window.addEventListener('online', () => sync());
// Reopening the app (or switching back to it) is a chance to send what waits in the outbox.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') sync();
});
window.addEventListener('hashchange', () => render());
langBtn.addEventListener('click', () => setLang(getLang() === 'en' ? 'zh-CN' : 'en'));
onLangChange(() => {
  renderChrome();
  rerender();
});

// An English reader's copy comes first (zh-CN needs nothing fetched).
loadLang().then(() => {
  renderChrome();
  render();
});
if (hasSession()) keepFieldDataFresh(getCachedUser());
sync();
registerServiceWorker();
