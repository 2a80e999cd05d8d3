// The evidence page's retention card: how long this record is kept and why (保存至…, held, in an open
// case or a lawsuit), the store's own lock, and for supervisors a legal hold placed or released here.

import { errorMessage, request } from './api.js';
import { h, nextId } from './dom.js';
import { formatDate, t } from './i18n.js';
import './i18n-retention.js';
import { card, errorLine, loadingLine } from './widgets.js';

const HOLDERS = ['supervisor'];

export function retentionCard(evidenceId, user) {
  const body = h('div', { 'data-testid': 'retention' }, loadingLine());
  const node = card('rt.title', body);
  const canHold = (user.roles || []).some((r) => HOLDERS.includes(r));

  function lines(s) {
    const out = [];
    if (s.retain_until) {
      out.push(h('p', { class: 'retention__until', 'data-testid': 'retention-until' },
        t('rt.until', { date: formatDate(s.retain_until) }), s.rule ? t('rt.basis', { basis: t(`rt.rule.${s.rule}`) }) : ''));
    }
    const state = {
      case_open: 'rt.caseOpen', litigation: 'rt.litigation', held: 'rt.held', due: 'rt.due',
    }[s.state];
    if (state) out.push(h('p', { class: `retention__state retention__state--${s.state}`, 'data-testid': 'retention-state', 'data-state': s.state }, t(state)));
    for (const hold of s.holds || []) {
      const line = h('p', { class: 'muted', 'data-testid': 'retention-hold' }, t('rt.holdReason', { reason: hold.reason }));
      out.push(line);
      if (canHold && hold.object_type === 'evidence') out.push(button('rt.release', release(hold.id)));
    }
    if (s.store_locked_until) out.push(h('p', { class: 'muted', 'data-testid': 'retention-store-lock' }, t('rt.storeLock', { date: formatDate(s.store_locked_until) })));
    if (canHold && !(s.holds || []).some((x) => x.object_type === 'evidence')) out.push(button('rt.hold', hold));
    return out;
  }

  function button(key, onClick) {
    const b = h('button', { type: 'button', class: 'btn btn--secondary', 'data-testid': key === 'rt.hold' ? 'retention-hold-btn' : 'retention-release-btn' }, t(key));
    b.addEventListener('click', () => b.replaceWith(reasonForm(key, onClick)));
    return b;
  }

  /** Holds and releases need a reason: asked for in place, sent with the button under it. */
  function reasonForm(key, send) {
    const id = nextId('rt');
    const input = h('input', { id, class: 'input', required: true, maxlength: '2000', 'data-testid': 'retention-reason' });
    const form = h('form', { class: 'form retention__form' },
      h('label', { for: id }, t(key === 'rt.hold' ? 'rt.holdPrompt' : 'rt.releasePrompt')),
      input,
      h('button', { type: 'submit', class: 'btn btn--primary', 'data-testid': 'retention-reason-send' }, t(key)));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const reason = input.value.trim();
      if (reason) send(reason);
    });
    queueMicrotask(() => input.focus());
    return form;
  }

  function hold(reason) {
    return act(() => request('POST', '/legal-holds', { body: { object_type: 'evidence', object_id: evidenceId, reason } }), 'rt.holdPlaced');
  }

  function release(holdId) {
    return (reason) => act(() => request('POST', `/legal-holds/${encodeURIComponent(holdId)}/release`, { body: { reason } }), 'rt.released');
  }

  async function act(call, doneKey) {
    try {
      await call();
      await refresh(t(doneKey));
    } catch (err) {
      body.append(errorLine(errorMessage(err)));
    }
  }

  async function refresh(note = null) {
    try {
      const s = await request('GET', `/evidence/${encodeURIComponent(evidenceId)}/retention`);
      body.replaceChildren(...lines(s), note ? h('p', { class: 'muted', role: 'status' }, note) : '');
    } catch (err) {
      body.replaceChildren(errorLine(errorMessage(err)));
    }
  }

  refresh();
  return node;
}
