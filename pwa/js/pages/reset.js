// #/reset/<token>: setting a new password with the one-time link an admin made. The token leaves
// the address bar as soon as it is read (it stays in no history entry) and is sent only in the body.

import { request } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { field, say } from '../enforcement.js';
import '../i18n-admin.js';

const KEY = 'fw.reset'; // sessionStorage: survives a reload of this tab, nothing longer
const MIN_PASSWORD = 8;
let token = null;

function takeToken() {
  const m = /^#\/reset\/([^/?#\s]+)$/.exec(location.hash);
  if (m) {
    token = m[1];
    try { sessionStorage.setItem(KEY, token); } catch { /* memory only */ }
    history.replaceState(history.state, '', `${location.pathname}${location.search}#/reset`);
  } else if (!token) {
    try { token = sessionStorage.getItem(KEY); } catch { token = null; }
  }
  return token;
}

export function resetPage() {
  const value = takeToken();
  const msg = h('p', { class: 'alert', role: 'alert', 'data-testid': 'reset-message' });
  const body = h('div', { class: 'page__body' });
  const node = h('section', { class: 'page page--reset' }, h('h1', { class: 'page__title', tabindex: '-1' }, t('rs.title')), body);
  const toLogin = h('a', { class: 'btn btn--secondary btn--block', href: '#/login', 'data-testid': 'reset-login' }, t('rs.toLogin'));
  if (!value) {
    body.append(h('p', { class: 'alert alert--static' }, t('rs.noLink')), toLogin);
    return { node };
  }
  const first = field({ id: 'rs-password', label: t('rs.password'), hint: t('ad.passwordHint'), type: 'password', minlength: MIN_PASSWORD, maxlength: 128, required: true, autocomplete: 'new-password' });
  const second = field({ id: 'rs-again', label: t('rs.again'), type: 'password', minlength: MIN_PASSWORD, maxlength: 128, required: true, autocomplete: 'new-password' });
  const submit = h('button', { type: 'submit', class: 'btn btn--primary btn--xl btn--block' }, t('rs.submit'));
  const form = h('form', { class: 'form', 'data-testid': 'reset-form' }, first.node, second.node, submit, msg);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const password = first.input.value;
    if (password.length < MIN_PASSWORD) return say(msg, t('rs.tooShort', { n: MIN_PASSWORD }));
    if (password !== second.input.value) return say(msg, t('rs.mismatch'));
    submit.disabled = true;
    return request('POST', '/auth/password-reset', { body: { token: value, password }, auth: false })
      .then(() => {
        token = null;
        try { sessionStorage.removeItem(KEY); } catch { /* nothing kept */ }
        body.replaceChildren(h('p', { class: 'notice notice--ok', 'data-testid': 'reset-done' }, t('rs.done')), toLogin);
      })
      .catch((err) => say(msg, err && err.code === 'password_reset.invalid' ? t('rs.invalid') : t('rs.failed')))
      .finally(() => { submit.disabled = false; });
  });
  body.append(h('p', { class: 'lead' }, t('rs.intro')), form);
  return { node };
}
