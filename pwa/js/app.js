// Shell: hash router, header (connectivity, language), role switcher, service worker.
// The officer's and the simple role homes load with the shell; the enforcement pages and the live
// views (command center, supervisor) are imported on first use.

import { t, getLang, setLang, onLangChange } from './i18n.js';
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
import { adminPage, noRolePage } from './pages/roles.js';
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
  admin: { render: adminPage, title: 'admin.title' },
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
const SUBPAGES = [
  ['officer/new', { roles: ['officer'], load: () => import('./pages/action-new.js'), name: 'newActionPage', title: 'action.newTitle' }],
  ['officer/outbox', { roles: ['officer'], load: () => import('./pages/outbox.js'), name: 'outboxPage', title: 'outbox.title' }],
  ['officer/actions', { roles: ['officer'], load: () => import('./pages/actions.js'), name: 'actionsPage', title: 'actions.title' }],
  ['officer/actions/:id', { roles: ['officer'], load: () => import('./pages/actions.js'), name: 'actionPage', title: 'action.detailTitle' }],
  // Any record shown anywhere (the feed, a case) opens here, for every role that may see it.
  ['actions/:id', { roles: ['officer', 'legal_reviewer', 'supervisor', 'command', 'admin'], load: () => import('./pages/actions.js'), name: 'actionPage', title: 'action.detailTitle' }],
  ['cases', { roles: CASE_ROLES, load: () => import('./pages/cases.js'), name: 'casesPage', title: 'cases.title' }],
  ['clocks', { roles: ['officer', 'legal_reviewer', 'supervisor', 'command'], load: () => import('./pages/clocks.js'), name: 'clocksPage', title: 'clock.listTitle' }],
  ['cases/:id', { roles: CASE_ROLES, load: () => import('./pages/cases.js'), name: 'casePage', title: 'case.title' }],
  ['spot-checks', { roles: ['supervisor'], load: () => import('./pages/spotcheck.js'), name: 'spotChecksPage', title: 'sc.supervisorTitle' }],
  ['spot-checks/:id', { roles: ['supervisor', 'invited_supervisor', 'officer'], load: () => import('./pages/spotcheck-view.js'), name: 'spotCheckPage', title: 'sc.title' }],
  ['documents', { roles: ['supervisor', 'command'], load: () => import('./pages/documents.js'), name: 'documentsPage', title: 'doc.listTitle' }],
  ['documents/filter/:status', { roles: ['supervisor', 'command'], load: () => import('./pages/documents.js'), name: 'documentsPage', title: 'doc.listTitle' }],
  ['documents/new', { roles: ['supervisor'], load: () => import('./pages/documents.js'), name: 'newDocumentPage', title: 'doc.newTitle' }],
  ['documents/new/:kind/:id', { roles: ['supervisor'], load: () => import('./pages/documents.js'), name: 'newDocumentPage', title: 'doc.newTitle' }],
  ['documents/:id', { roles: ['supervisor', 'command'], allow: isResponder, load: () => import('./pages/documents.js'), name: 'documentPage', title: 'doc.title' }],
  ['tasks', { roles: ['supervisor', 'officer'], allow: isResponder, load: () => import('./pages/tasks.js'), name: 'tasksPage', title: 'task.title' }],
  ['tasks/:id', { roles: ['supervisor', 'officer'], allow: isResponder, load: () => import('./pages/tasks.js'), name: 'taskPage', title: 'task.detailTitle' }],
  // Supervision channels: the inbox for supervisors, the unit's forwarded reports; one item for
  // everyone the server lets see it (its reporter, the registering office, the unit, the bureau).
  ['channels', { roles: ['supervisor', 'admin', 'officer', 'legal_reviewer'], allow: isResponder, load: () => import('./pages/channels.js'), name: 'channelInboxPage', title: 'ch.inbox' }],
  ['channels/:id', { roles: ['supervisor', 'admin', 'officer', 'legal_reviewer', 'liaison', 'petition_office', 'court'], allow: isResponder, load: () => import('./pages/channels.js'), name: 'channelItemPage', title: 'ch.detail' }],
  ['trainings', { roles: ['supervisor'], load: () => import('./pages/training.js'), name: 'trainingsPage', title: 'tr.listTitle' }],
  ['trainings/year/:year', { roles: ['supervisor'], load: () => import('./pages/training.js'), name: 'trainingsPage', title: 'tr.listTitle' }],
  ['trainings/:id', { roles: ['supervisor'], load: () => import('./pages/training.js'), name: 'trainingPage', title: 'tr.title' }],
  ['assessments/:year', { roles: ['supervisor'], load: () => import('./pages/training.js'), name: 'assessmentPage', title: 'tr.runTitle' }],
  ['officer/training', { roles: ['officer'], load: () => import('./pages/training.js'), name: 'myTrainingPage', title: 'tr.mineTitle' }],
  ['retention', { roles: ['supervisor', 'admin'], load: () => import('./pages/retention.js'), name: 'retentionPage', title: 'rt.pageTitle' }],
  ['shares', { roles: ['supervisor', 'admin'], load: () => import('./pages/shares.js'), name: 'sharesPage', title: 'sh.pageTitle' }],
  // 特邀监督员: the nomination queue and the roster are the bureau's (pages/nominations.js).
  ['nominations', { roles: ['supervisor', 'admin'], load: () => import('./pages/nominations.js'), name: 'nominationsPage', title: 'nq.title' }],
  ['invited-supervisors', { roles: ['supervisor', 'admin'], load: () => import('./pages/nominations.js'), name: 'invitedSupervisorsPage', title: 'ro.title' }],
  // Reports, the assessment and 案卷评查 (pages/reports.js, assessment.js, case-reviews.js): the
  // bureau sees every unit, a unit's own people their unit (the server decides).
  ['reports', { roles: ['supervisor', 'admin'], load: () => import('./pages/reports.js'), name: 'reportsPage', title: 'rp.listTitle' }],
  ['reports/:id', { roles: UNIT_ROLES, allow: isResponder, load: () => import('./pages/reports.js'), name: 'reportPage', title: 'rp.title' }],
  ['reports/:id/records/:figure', { roles: UNIT_ROLES, allow: isResponder, load: () => import('./pages/reports.js'), name: 'figureRecordsPage', title: 'rp.recordsTitle' }],
  ['assessment', { roles: UNIT_ROLES, allow: isResponder, load: () => import('./pages/assessment.js'), name: 'assessmentPage', title: 'as.title' }],
  ['assessment/records', { roles: UNIT_ROLES, allow: isResponder, load: () => import('./pages/assessment.js'), name: 'indicatorRecordsPage', title: 'as.recordsTitle' }],
  // 领导小组 and 联席会议 (pages/meetings.js): the bureau keeps them, a unit's people read their own.
  ['leading-groups', { roles: MEETING_ROLES, allow: isResponder, load: () => import('./pages/meetings.js'), name: 'leadingGroupsPage', title: 'mt.groupsTitle' }],
  ['leading-groups/:id', { roles: MEETING_ROLES, allow: isResponder, load: () => import('./pages/meetings.js'), name: 'leadingGroupPage', title: 'mt.groupTitle' }],
  ['meetings', { roles: MEETING_ROLES, allow: isResponder, load: () => import('./pages/meetings.js'), name: 'meetingsPage', title: 'mt.meetingsTitle' }],
  ['meetings/:id', { roles: MEETING_ROLES, allow: isResponder, load: () => import('./pages/meetings.js'), name: 'meetingPage', title: 'mt.meetingTitle' }],
  ['case-reviews', { roles: ['supervisor', 'admin'], load: () => import('./pages/case-reviews.js'), name: 'caseReviewsPage', title: 'cr.title' }],
  ['case-reviews/:id', { roles: ['supervisor', 'admin'], load: () => import('./pages/case-reviews.js'), name: 'caseReviewPage', title: 'cr.drawTitle' }],
  // 执法事项清单: every signed-in person may read and print any unit's (四(三)一).
  ['admin/units', { roles: ['admin'], load: () => import('./pages/admin.js'), name: 'adminUnitsPage', title: 'ad.unitsTitle' }],
  ['admin/items', { roles: ['admin'], load: () => import('./pages/admin.js'), name: 'adminItemsPage', title: 'ad.itemsTitle' }],
  ['admin/users', { roles: ['admin'], load: () => import('./pages/admin.js'), name: 'adminUsersPage', title: 'ad.usersTitle' }],
  ['admin/users/:id', { roles: ['admin'], load: () => import('./pages/admin.js'), name: 'adminUserPage', title: 'ad.userTitle' }],
  ['imports', { roles: ['admin'], load: () => import('./pages/imports.js'), name: 'importsPage', title: 'im.title' }],
  ['audit', { roles: ['supervisor', 'admin'], load: () => import('./pages/audit.js'), name: 'auditPage', title: 'au.title' }],
  ['enforcement-list', { roles: [], allow: () => true, load: () => import('./pages/enforcement-list.js'), name: 'enforcementIndexPage', title: 'el.title' }],
  ['units/:id/enforcement-list', { roles: [], allow: () => true, load: () => import('./pages/enforcement-list.js'), name: 'enforcementListPage', title: 'el.title' }],
  ['evidence/:id', { roles: ['officer', 'legal_reviewer', 'supervisor', 'command', 'admin', 'invited_supervisor'], allow: isResponder, load: () => import('./pages/evidence.js'), name: 'evidencePage', title: 'evidence.title' }],
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

renderChrome();
render();
if (hasSession()) keepFieldDataFresh(getCachedUser());
sync();
registerServiceWorker();
