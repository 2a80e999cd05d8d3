// Shell: hash router, header (connectivity, language), role switcher, service worker.

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
import { flush } from './outbox.js';
import { h } from './dom.js';
import { loginPage } from './pages/login.js';
import { officerPage } from './pages/officer.js';
import {
  adminPage,
  commandPage,
  invitedPage,
  liaisonPage,
  noRolePage,
  reviewerPage,
  supervisorPage,
} from './pages/roles.js';

/** Role → route, in the order that picks the home page of a user with several roles. */
const ROLE_ROUTES = [
  ['admin', 'admin'],
  ['command', 'command'],
  ['supervisor', 'supervisor'],
  ['invited_supervisor', 'invited'],
  ['legal_reviewer', 'reviewer'],
  ['liaison', 'liaison'],
  ['officer', 'officer'],
];

const PAGES = {
  admin: { render: adminPage, title: 'admin.title' },
  command: { render: commandPage, title: 'command.title' },
  supervisor: { render: supervisorPage, title: 'supervisor.title' },
  invited: { render: invitedPage, title: 'invited.title' },
  reviewer: { render: reviewerPage, title: 'reviewer.title' },
  liaison: { render: liaisonPage, title: 'liaison.title' },
  officer: { render: officerPage, title: 'officer.title' },
};

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
  return ROLE_ROUTES.filter(([role]) => roles.has(role)).map(([, route]) => route);
}

function routeFromHash() {
  const m = /^#\/([\w-]+)/.exec(location.hash);
  return m ? m[1] : '';
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

function show(route, view, { quiet = false } = {}) {
  if (current.cleanup) current.cleanup();
  current = { route, cleanup: view.cleanup || null };
  main.replaceChildren(view.node);
  const titleKey = route === 'login' ? 'login.title' : PAGES[route] ? PAGES[route].title : null;
  document.title = titleKey ? `${t(titleKey)} – ${t('app.name')}` : t('app.name');
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
  await logout();
  flash = 'login.loggedOut';
  go('login');
}

function render(opts) {
  const route = routeFromHash();
  const user = hasSession() ? getCachedUser() : null;
  if (!user) {
    renderRoleNav(null);
    if (route !== 'login') return go('login', { replace: true });
    const view = loginPage({
      flash,
      onLoggedIn(u) {
        flash = null;
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
  if (!routes.includes(route)) return go(routes[0], { replace: true });
  renderRoleNav(user, route);
  show(route, PAGES[route].render({ user, onLogout: doLogout }), opts);
}

/** Re-render after a language change, keeping what the user has typed. */
function rerender() {
  const values = {};
  for (const el of main.querySelectorAll('input[id]')) {
    values[el.id] = el.type === 'checkbox' ? el.checked : el.value;
  }
  const active = document.activeElement && document.activeElement.id;
  const scroll = window.scrollY;
  render({ quiet: true });
  for (const [id, v] of Object.entries(values)) {
    const el = document.getElementById(id);
    if (!el) continue;
    if (el.type === 'checkbox') {
      el.checked = v;
      el.dispatchEvent(new Event('change'));
    } else el.value = v;
  }
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
      await fetchMe();
      await flush();
    });
  } catch (e) {
    if (e && (e.code === 'network.offline' || e.code === 'network.timeout')) {
      retryTimer = setTimeout(sync, RETRY_MS);
    }
    return;
  }
  if (hasSession() && JSON.stringify(getCachedUser()) !== before && current.route !== 'login') render({ quiet: true });
}

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

setReachabilityHandler(setServerReachable);
setAuthLostHandler((reason) => {
  flash = reason === 'elsewhere' ? 'login.loggedOut' : 'login.expired';
  if (current.route !== 'login') go('login');
});
onNetChange((state) => {
  renderNet(state);
});
window.addEventListener('online', () => sync());
window.addEventListener('hashchange', () => render());
langBtn.addEventListener('click', () => setLang(getLang() === 'en' ? 'zh-CN' : 'en'));
onLangChange(() => {
  renderChrome();
  rerender();
});

renderChrome();
render();
sync();
registerServiceWorker();
