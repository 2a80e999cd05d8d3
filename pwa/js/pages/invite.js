// #/invite/<token>: an invited supervisor's first visit. Two sentences on what the role is, a user
// name and a password, then straight to the invited supervisor's home, signed in.
// The token is taken out of the address bar as soon as it is read, so it stays in no history entry.

import { errorMessage, request, startSession } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { setFlash } from '../enforcement.js';

const TOKEN_KEY = 'fw.invite'; // sessionStorage: survives a reload of this tab, nothing longer
const USERNAME = /^[A-Za-z0-9._-]{3,64}$/;
const MIN_PASSWORD = 8;
const LINK_CODES = ['invitation.invalid', 'invitation.used', 'invitation.expired', 'invitation.revoked'];

let token = null;

function remember(value) {
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage blocked: the token is kept in memory for this page */
  }
}

/** The invitation token: from the address (which is then cleaned) or from earlier in this tab. */
function takeToken() {
  const m = /^#\/invite\/([^/?#\s]+)$/.exec(location.hash);
  if (m) {
    try {
      token = decodeURIComponent(m[1]);
    } catch {
      token = m[1];
    }
    remember(token);
    history.replaceState(history.state, '', `${location.pathname}${location.search}#/invite`);
  } else if (!token) {
    try {
      token = sessionStorage.getItem(TOKEN_KEY);
    } catch {
      token = null;
    }
  }
  return token;
}


function linkProblem(key) {
  const login = h('a', { class: 'btn btn--secondary btn--block', href: '#/login' }, t('invite.toLogin'));
  return h('div', { class: 'action', 'data-testid': 'invite-problem' },
    h('p', { class: 'alert alert--static', role: 'alert' }, t(key)),
    h('p', { class: 'muted' }, t('invite.askAgain')),
    login);
}

export function invitePage({ navigate }) {
  const value = takeToken();
  const heading = h('h1', { class: 'page__title', tabindex: '-1' }, t('invite.title'));
  const body = h('div', { class: 'page__body' });
  const node = h('section', { class: 'page page--invite' },
    heading,
    h('p', { class: 'lead', 'data-testid': 'invite-intro' }, t('invite.intro')),
    body);

  if (!value) {
    body.append(linkProblem('invite.missing'));
    return { node };
  }

  const username = h('input', {
    id: 'invite-username',
    name: 'username',
    type: 'text',
    autocomplete: 'username',
    autocapitalize: 'none',
    autocorrect: 'off',
    spellcheck: 'false',
    maxlength: 64,
    'aria-describedby': 'invite-username-hint',
  });
  // The invitee chooses the name they will sign in with (their phone number works too): a
  // generated one is forgotten by the next visit.
  username.placeholder = t('invite.usernamePlaceholder');
  const password = h('input', {
    id: 'invite-password',
    name: 'password',
    type: 'password',
    autocomplete: 'new-password',
    minlength: MIN_PASSWORD,
    'aria-describedby': 'invite-password-hint',
  });
  const again = h('input', { id: 'invite-again', name: 'again', type: 'password', autocomplete: 'new-password' });
  const show = h('input', { id: 'invite-show', type: 'checkbox', class: 'check__box' });
  show.addEventListener('change', () => {
    password.type = show.checked ? 'text' : 'password';
    again.type = password.type;
  });
  const error = h('p', { class: 'alert', role: 'alert', 'data-testid': 'invite-error' });
  const submit = h('button', { type: 'submit', class: 'btn btn--primary btn--xl btn--block' }, t('invite.accept'));
  const form = h('form', { class: 'form', novalidate: true, 'data-testid': 'invite-form' },
    h('div', { class: 'field' },
      h('label', { for: 'invite-username' }, t('invite.username')),
      h('p', { id: 'invite-username-hint', class: 'field__hint' }, t('invite.usernameHint')),
      username),
    h('div', { class: 'field' },
      h('label', { for: 'invite-password' }, t('invite.password')),
      h('p', { id: 'invite-password-hint', class: 'field__hint' }, t('invite.passwordHint', { n: MIN_PASSWORD })),
      password),
    h('div', { class: 'field' }, h('label', { for: 'invite-again' }, t('invite.again')), again),
    h('div', { class: 'check' }, show, h('label', { for: 'invite-show' }, t('login.showPassword'))),
    error,
    submit);

  function fail(message, field) {
    error.textContent = message;
    for (const el of [username, password, again]) el.removeAttribute('aria-invalid');
    if (field) {
      field.setAttribute('aria-invalid', 'true');
      field.focus();
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = username.value.trim();
    if (!name) return fail(t('invite.needUsername'), username);
    if (!USERNAME.test(name)) return fail(t('invite.badUsername'), username);
    if (password.value.length < MIN_PASSWORD) return fail(t('invite.shortPassword', { n: MIN_PASSWORD }), password);
    if (password.value !== again.value) return fail(t('invite.mismatch'), again);
    error.textContent = '';
    submit.disabled = true;
    submit.textContent = t('invite.accepting');
    let res;
    try {
      res = await request('POST', '/invitations/accept', {
        body: { token: value, password: password.value, username: name },
        auth: false,
      });
    } catch (err) {
      submit.disabled = false;
      submit.textContent = t('invite.accept');
      if (err && LINK_CODES.includes(err.code)) {
        token = null;
        remember(null);
        body.replaceChildren(linkProblem(`invite.${err.code.split('.')[1]}`));
        heading.focus();
        return;
      }
      if (err && err.code === 'conflict.duplicate') return fail(t('invite.usernameTaken'), username);
      return fail(errorMessage(err), null);
    }
    token = null;
    remember(null);
    startSession(res.session);
    setFlash(t('invite.welcome', { username: res.username }));
    navigate('invited');
  });

  // Ask the server first whether the link still works, so a used or revoked one says so before the
  // invitee types anything. Without an answer (no network) the form is shown: accepting tells.
  const checking = h('p', { class: 'muted', role: 'status' }, t('invite.checking'));
  body.append(checking);
  request('POST', '/invitations/check', { body: { token: value }, auth: false })
    .then((preview) => {
      checking.remove();
      if (preview && preview.name) form.prepend(h('p', { class: 'invite__greeting', 'data-testid': 'invite-greeting' }, t('invite.greeting', { name: preview.name })));
      body.append(form);
      username.focus();
    })
    .catch((err) => {
      checking.remove();
      if (err && LINK_CODES.includes(err.code)) {
        token = null;
        remember(null);
        body.replaceChildren(linkProblem(`invite.${err.code.split('.')[1]}`));
        return;
      }
      body.append(form);
    });
  return { node, focus: heading };
}
