// #/shared/<token>: an outside recipient (a judge, a prosecutor) opens evidence shared with them — no
// account, the link and, when one was set, an access code told separately. Photos come stamped with
// the recipient's name and the viewing time; originals download as they were recorded. The token is
// taken out of the address bar at once, so it stays in no history entry.

import { errorMessage, shareBlob, shareRequest } from '../api.js';
import { h, nextId } from '../dom.js';
import { formatDateTime, t } from '../i18n.js';
import '../i18n-share.js';
import { errorLine, loadingLine } from '../widgets.js';
import { formatSize } from './evidence.js';

const TOKEN_KEY = 'fw.share'; // sessionStorage: this tab only
const SESSION_KEY = 'fw.shareSession';
const LINK_PROBLEMS = {
  'share.invalid': 'shared.invalid',
  'share.expired': 'shared.expired',
  'share.revoked': 'shared.revoked',
  'share.locked': 'shared.locked',
};

function read(key) {
  try {
    return sessionStorage.getItem(key);
  } catch {
    return null;
  }
}
function write(key, value) {
  try {
    if (value) sessionStorage.setItem(key, value);
    else sessionStorage.removeItem(key);
  } catch {
    /* storage blocked: kept in memory for this page */
  }
}

let token = null;
let session = null;

function takeToken() {
  const m = /^#\/shared\/([^/?#\s]+)$/.exec(location.hash);
  if (m) {
    try {
      token = decodeURIComponent(m[1]);
    } catch {
      token = m[1];
    }
    if (token !== read(TOKEN_KEY)) write(SESSION_KEY, null); // another link: its own session
    write(TOKEN_KEY, token);
    history.replaceState(history.state, '', `${location.pathname}${location.search}#/shared`);
  } else if (!token) {
    token = read(TOKEN_KEY);
  }
  if (!session) session = read(SESSION_KEY);
  return token;
}

export function sharedPage() {
  takeToken();
  const heading = h('h1', { class: 'page__title', tabindex: '-1' }, t('shared.title'));
  const body = h('div', { class: 'page__body', 'data-testid': 'shared' }, loadingLine());
  const node = h('section', { class: 'page page--shared' }, heading, body);
  const urls = [];

  function problem(err) {
    const key = LINK_PROBLEMS[err && err.code];
    body.replaceChildren(h('p', { class: 'alert alert--static', role: 'alert', 'data-testid': 'shared-problem', 'data-code': err && err.code },
      key ? t(key) : errorMessage(err)));
  }

  async function open(code = null) {
    if (!token) {
      problem({ code: 'share.invalid' });
      return;
    }
    body.replaceChildren(h('p', { class: 'muted', role: 'status' }, t('shared.opening')));
    try {
      const opened = await shareRequest('POST', '/shared/open', null, { body: code ? { token, code } : { token } });
      session = opened.session;
      write(SESSION_KEY, session);
      draw(opened);
    } catch (err) {
      if (err.code === 'share.code_required' || err.code === 'share.code_wrong') {
        body.replaceChildren(codeForm(err.code === 'share.code_wrong' ? err.extra.attempts_left : null));
      } else {
        problem(err);
      }
    }
  }

  function codeForm(left) {
    const id = nextId('shared');
    const input = h('input', { id, class: 'input input--narrow', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6', required: true, 'data-testid': 'shared-code' });
    const form = h('form', { class: 'form' },
      left != null ? errorLine(t('shared.codeWrong', { n: left })) : null,
      h('label', { for: id }, t('shared.codePrompt')),
      input,
      h('button', { type: 'submit', class: 'btn btn--primary', 'data-testid': 'shared-code-send' }, t('shared.codeSend')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (input.value.trim()) open(input.value.trim());
    });
    queueMicrotask(() => input.focus());
    return form;
  }

  async function start() {
    if (session) {
      try {
        draw(await shareRequest('GET', '/shared', session));
        return;
      } catch (err) {
        if (err.code !== 'share.session_invalid') {
          problem(err);
          return;
        }
        session = null;
        write(SESSION_KEY, null);
      }
    }
    await open();
  }

  function draw(found) {
    const s = found.share;
    const items = found.items || [];
    body.replaceChildren(
      h('p', { class: 'notice', 'data-testid': 'shared-for' }, t('shared.for', { organisation: s.organisation, recipient: s.recipient, until: formatDateTime(s.expires_at) })),
      h('p', { class: 'muted' }, t('shared.notice')),
      s.note ? h('p', { class: 'muted' }, s.note) : null,
      items.length
        ? h('p', { class: 'muted' }, t('shared.items', { n: items.length }))
        : h('p', { class: 'muted empty', 'data-testid': 'shared-none' }, t('shared.none')),
      h('ul', { class: 'list shared__items' }, items.map(item)));
  }

  function item(ev) {
    const picture = h('div', { class: 'shared__picture' });
    const status = h('div', { class: 'slot' });
    const download = h('button', { type: 'button', class: 'btn btn--secondary', 'data-testid': 'shared-download' }, t('shared.download'));
    download.addEventListener('click', () => fetchOriginal(ev, download, status));
    if (ev.preview) {
      picture.append(loadingLine());
      shareBlob(`/shared/evidence/${encodeURIComponent(ev.id)}/preview`, session)
        .then((blob) => {
          const url = URL.createObjectURL(blob);
          urls.push(url);
          picture.replaceChildren(h('img', { src: url, alt: ev.filename || t(`shared.kind.${ev.kind}`), class: 'shared__img', 'data-testid': 'shared-preview' }));
        })
        .catch((err) => picture.replaceChildren(errorLine(errorMessage(err))));
    } else {
      picture.append(h('p', { class: 'muted' }, t('shared.noPreview')));
    }
    return h('li', { class: 'list__item', 'data-testid': 'shared-item', 'data-id': ev.id },
      h('p', { class: 'list__title' }, `${t(`shared.kind.${ev.kind}`)} · ${ev.filename || ''} ${formatSize(ev.size)}`),
      h('p', { class: 'muted' }, formatDateTime(ev.captured_at || ev.received_at)),
      picture,
      h('p', { class: 'muted mono', 'data-testid': 'shared-sha' }, t('shared.sha', { sha: ev.sha256 })),
      download,
      status);
  }

  async function fetchOriginal(ev, button, status) {
    button.disabled = true;
    status.replaceChildren(h('p', { class: 'muted', role: 'status' }, t('shared.downloading')));
    try {
      const link = await shareRequest('GET', `/shared/evidence/${encodeURIComponent(ev.id)}/link`, session);
      if (link.url) {
        location.assign(link.url); // the object store's own short-lived link: served with its file name
      } else {
        const blob = await shareBlob(`/shared/evidence/${encodeURIComponent(ev.id)}/content`, session, { timeout: 30 * 60 * 1000 });
        const url = URL.createObjectURL(blob);
        const a = h('a', { href: url, download: ev.filename || `${ev.sha256.slice(0, 16)}` });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60000);
      }
      status.replaceChildren();
    } catch (err) {
      const key = LINK_PROBLEMS[err.code];
      status.replaceChildren(errorLine(key ? t(key) : err.code === 'share.session_invalid' ? t('shared.session') : errorMessage(err)));
    } finally {
      button.disabled = false;
    }
  }

  start();
  return { node, cleanup: () => urls.forEach((u) => URL.revokeObjectURL(u)) };
}
