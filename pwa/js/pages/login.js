// #/login

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { login, errorMessage } from '../api.js';

/**
 * ctx.onLoggedIn(user) is called after a successful sign-in.
 * ctx.flash is an optional message key shown on arrival (session expired, signed out).
 */
export function loginPage(ctx) {
  const error = h('div', { id: 'login-error', class: 'alert', role: 'alert' });
  const info = ctx.flash ? h('p', { class: 'notice notice--info', role: 'status' }, t(ctx.flash)) : null;

  const username = h('input', {
    id: 'login-username',
    name: 'username',
    type: 'text',
    autocomplete: 'username',
    autocapitalize: 'none',
    autocorrect: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'login-error',
  });
  const password = h('input', {
    id: 'login-password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    'aria-describedby': 'login-error',
  });
  const show = h('input', { id: 'login-show', type: 'checkbox', class: 'check__box' });
  show.addEventListener('change', () => {
    password.type = show.checked ? 'text' : 'password';
  });
  const submit = h('button', { type: 'submit', class: 'btn btn--primary btn--xl btn--block' }, t('login.submit'));

  function fail(message, field) {
    error.textContent = message;
    for (const el of [username, password]) el.removeAttribute('aria-invalid');
    if (field) {
      field.setAttribute('aria-invalid', 'true');
      field.focus();
    }
  }

  const form = h(
    'form',
    { class: 'form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'login-username' }, t('login.username')), username),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, t('login.password')), password),
    h('div', { class: 'check' }, show, h('label', { for: 'login-show' }, t('login.showPassword'))),
    error,
    submit,
  );

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const u = username.value.trim();
    const p = password.value;
    if (!u) return fail(t('login.needUsername'), username);
    if (!p) return fail(t('login.needPassword'), password);
    error.textContent = '';
    if (info) info.remove();
    submit.disabled = true;
    submit.textContent = t('login.submitting');
    try {
      const user = await login(u, p);
      ctx.onLoggedIn(user);
    } catch (err) {
      submit.disabled = false;
      submit.textContent = t('login.submit');
      password.value = '';
      fail(errorMessage(err), err && err.code === 'auth.invalid_credentials' ? password : null);
    }
  });

  const node = h(
    'section',
    { class: 'page page--login' },
    h('h1', { class: 'page__title', tabindex: '-1' }, t('login.title')),
    h('p', { class: 'lead' }, t('app.fullName')),
    h('p', { class: 'muted' }, t('login.intro')),
    info,
    form,
  );
  return { node, focus: username };
}
