// 对外分享: a supervisor's card on an evidence page (that evidence) or a case page (the whole case
// file) that makes a share link for an outside party. The link and its access code are shown once —
// only their hashes are kept — with the code meant to travel another way.

import { errorMessage, request } from './api.js';
import { h, nextId } from './dom.js';
import { t } from './i18n.js';
import './i18n-share.js';
import { card, errorLine } from './widgets.js';

const SHARERS = ['supervisor', 'admin'];
const PURPOSES = ['court', 'procuratorate', 'reconsideration', 'other'];

export function canShare(user) {
  return (user.roles || []).some((r) => SHARERS.includes(r));
}

function field(labelKey, control) {
  const id = nextId('sh');
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, t(labelKey)), control);
}

/** `target` is `{ evidence_ids: [id] }` or `{ case_id: id }`. */
export function shareCard(target) {
  const body = h('div', { 'data-testid': 'share' });
  const node = card('sh.title', h('p', { class: 'muted' }, t(target.case_id ? 'sh.caseHint' : 'sh.hint')), body);
  const start = h('button', { type: 'button', class: 'btn btn--secondary', 'data-testid': 'share-open' }, t('sh.open'));
  start.addEventListener('click', () => body.replaceChildren(form()));
  body.append(start, h('a', { class: 'btn btn--link', href: '#/shares', 'data-testid': 'shares-link' }, t('sh.manage')));

  function form() {
    const recipient = h('input', { class: 'input', maxlength: '100', required: true, autocomplete: 'off', 'data-testid': 'share-recipient' });
    const organisation = h('input', { class: 'input', maxlength: '200', required: true, 'data-testid': 'share-organisation' });
    const purpose = h('select', { class: 'input', 'data-testid': 'share-purpose' },
      PURPOSES.map((p) => h('option', { value: p }, t(`sh.purpose.${p}`))));
    const days = h('input', { class: 'input input--narrow', type: 'number', min: '1', max: '30', value: '7', required: true, 'data-testid': 'share-days' });
    const code = h('input', { type: 'checkbox', class: 'check__box', 'data-testid': 'share-code' });
    const codeId = nextId('sh');
    code.id = codeId;
    const note = h('input', { class: 'input', maxlength: '4000', 'data-testid': 'share-note' });
    const problem = h('div', { class: 'slot' });
    const send = h('button', { type: 'submit', class: 'btn btn--primary', 'data-testid': 'share-create' }, t('sh.create'));
    const f = h('form', { class: 'form', novalidate: true },
      field('sh.recipient', recipient),
      field('sh.organisation', organisation),
      field('sh.purpose', purpose),
      field('sh.days', days),
      h('div', { class: 'check' }, code, h('label', { for: codeId }, t('sh.requireCode'))),
      field('sh.note', note),
      problem,
      send);
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!recipient.value.trim() || !organisation.value.trim()) {
        problem.replaceChildren(errorLine(t('sh.needFields')));
        return;
      }
      send.disabled = true;
      try {
        const made = await request('POST', '/shares', {
          body: {
            ...target,
            recipient: recipient.value.trim(),
            organisation: organisation.value.trim(),
            purpose: purpose.value,
            days: Number(days.value) || 7,
            require_code: code.checked,
            note: note.value.trim(),
          },
        });
        body.replaceChildren(result(made));
      } catch (err) {
        problem.replaceChildren(errorLine(errorMessage(err)));
        send.disabled = false;
      }
    });
    queueMicrotask(() => recipient.focus());
    return f;
  }

  function result(made) {
    const link = h('input', { class: 'input', readonly: true, value: made.link, 'data-testid': 'share-link' });
    const said = h('p', { class: 'muted', role: 'status' });
    const copy = h('button', { type: 'button', class: 'btn btn--secondary', 'data-testid': 'share-copy' }, t('sh.copy'));
    copy.addEventListener('click', async () => {
      link.select();
      let ok = false;
      try {
        await navigator.clipboard.writeText(made.link);
        ok = true;
      } catch {
        try {
          ok = document.execCommand('copy');
        } catch {
          ok = false;
        }
      }
      said.textContent = ok ? t('sh.copied') : '';
    });
    return h('div', { class: 'share__made' },
      h('p', { class: 'notice notice--ok', role: 'status' }, t('sh.made')),
      field('sh.link', link),
      copy,
      said,
      made.code
        ? h('div', { class: 'notice', 'data-testid': 'share-code-shown' },
          h('p', { class: 'share__code' }, t('sh.code', { code: made.code })),
          h('p', { class: 'muted' }, t('sh.codeHint')))
        : null,
      h('a', { class: 'btn btn--link', href: '#/shares' }, t('sh.manage')));
  }

  return node;
}
