// #/shares 对外分享的证据: every share link a supervisor made, its state (有效 / 已过期 / 已撤回 /
// 锁定), how often the recipient viewed and downloaded, the access log, and 撤回 with a reason.

import { errorMessage, request } from '../api.js';
import { h, nextId } from '../dom.js';
import { formatDateTime, t } from '../i18n.js';
import '../i18n-share.js';
import { card, errorLine, loadError, loadingLine } from '../widgets.js';
import { pageHeading } from './common.js';

export function sharesPage() {
  const body = h('div', { 'data-testid': 'shares' }, loadingLine());

  async function load() {
    try {
      const shares = await request('GET', '/shares');
      if (!shares.length) {
        body.replaceChildren(h('p', { class: 'muted empty', 'data-testid': 'shares-none' }, t('sh.none')));
        return;
      }
      body.replaceChildren(h('ul', { class: 'list' }, shares.map(row)));
    } catch (err) {
      body.replaceChildren(loadError(errorMessage(err), load));
    }
  }

  function row(s) {
    const slot = h('div', { class: 'slot' });
    const more = h('button', { type: 'button', class: 'btn btn--secondary', 'data-testid': 'share-details' }, t('sh.details'));
    more.addEventListener('click', () => details(s.id, slot));
    return h('li', { class: 'list__item', 'data-testid': 'share-row', 'data-state': s.state, 'data-id': s.id },
      h('p', { class: 'list__title' }, t('sh.row', { organisation: s.organisation, recipient: s.recipient, purpose: t(`sh.purpose.${s.purpose}`) })),
      h('p', { class: `badge badge--${s.state}`, 'data-testid': 'share-state' }, t(`sh.state.${s.state}`)),
      h('p', { class: 'muted' }, t('sh.rowUntil', { n: s.evidence_ids.length, until: formatDateTime(s.expires_at) })),
      s.revoke_reason ? h('p', { class: 'muted' }, s.revoke_reason) : null,
      more,
      slot);
  }

  async function details(id, slot) {
    slot.replaceChildren(loadingLine());
    try {
      const s = await request('GET', `/shares/${encodeURIComponent(id)}`);
      const log = s.log.length
        ? h('ol', { class: 'list', 'data-testid': 'share-log' }, s.log.map((e) => h('li', { 'data-testid': 'share-log-entry' },
          t(e.action === 'evidence.shared_viewed' ? 'sh.logViewed' : 'sh.logDownloaded', { at: formatDateTime(e.at) }))))
        : h('p', { class: 'muted', 'data-testid': 'share-log-none' }, t('sh.logNone'));
      slot.replaceChildren(
        h('p', { class: 'muted', 'data-testid': 'share-counts' }, t('sh.rowFacts', {
          n: s.evidence_ids.length, until: formatDateTime(s.expires_at), views: s.views, downloads: s.downloads,
        })),
        card('sh.log', log),
        s.state === 'active' ? revokeButton(s.id, slot) : null);
    } catch (err) {
      slot.replaceChildren(errorLine(errorMessage(err)));
    }
  }

  function revokeButton(id, slot) {
    const b = h('button', { type: 'button', class: 'btn btn--danger', 'data-testid': 'share-revoke' }, t('sh.revoke'));
    b.addEventListener('click', () => {
      const inputId = nextId('sh');
      const input = h('input', { id: inputId, class: 'input', required: true, maxlength: '2000', 'data-testid': 'share-revoke-reason' });
      const form = h('form', { class: 'form' },
        h('label', { for: inputId }, t('sh.revokePrompt')), input,
        h('button', { type: 'submit', class: 'btn btn--danger', 'data-testid': 'share-revoke-send' }, t('sh.revoke')));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const reason = input.value.trim();
        if (!reason) return;
        try {
          await request('POST', `/shares/${encodeURIComponent(id)}/revoke`, { body: { reason } });
          await load();
          body.prepend(h('p', { class: 'notice notice--ok', role: 'status', 'data-testid': 'share-revoked' }, t('sh.revoked')));
        } catch (err) {
          form.append(errorLine(errorMessage(err)));
        }
      });
      b.replaceWith(form);
      queueMicrotask(() => input.focus());
    });
    return b;
  }

  const node = h('section', { class: 'page page--shares' },
    pageHeading('sh.pageTitle'),
    h('p', { class: 'muted' }, t('sh.pageHint')),
    body);
  load();
  return { node };
}
