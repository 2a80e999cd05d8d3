// Small widgets the enforcement and the spot-check pages share: a titled card, a status word, and the
// lines shown while something loads or after it failed.

import { h, nextId } from './dom.js';
import { t } from './i18n.js';

/** A card titled by an i18n key, or by `{ text }` for a title that is not one. */
export function card(titleKey, ...children) {
  const id = nextId('sec');
  return h('section', { class: 'card', 'aria-labelledby': id },
    h('h2', { id, class: 'card__title' }, typeof titleKey === 'string' ? t(titleKey) : titleKey.text),
    ...children);
}

/**
 * A status as a word in its colour: `cls` names the CSS block (`status`, `status--filed`) and `keys`
 * the i18n prefix of the words; a case or record takes the defaults.
 */
export function statusBadge(status, { cls = 'status', keys = 'status', testid = null } = {}) {
  return h('span', { class: `${cls} ${cls}--${status}`, 'data-status': status, 'data-testid': testid }, t(`${keys}.${status}`));
}

/**
 * An act a reconsideration or a court confirmed illegal, revoked or changed (the record's
 * `reversed`: { outcome, decision_number }): a line that says so, or null while it stands.
 */
export function reversedNote(record, { inline = false } = {}) {
  const r = record && record.reversed;
  if (!r) return null;
  const text = t('reversed.note', { outcome: r.outcome, number: r.decision_number });
  return inline
    ? h('span', { class: 'row__meta reversed', 'data-testid': 'reversed' }, text)
    : h('p', { class: 'alert alert--static reversed', 'data-testid': 'reversed' }, text);
}

/** "加载中…" as a status line (`cls`: its classes). */
export function loadingLine(cls = 'muted loading') {
  return h('p', { class: cls, role: 'status' }, t('common.loading'));
}

/** Why something failed, announced. */
export function errorLine(message) {
  return h('p', { class: 'alert', role: 'alert' }, message);
}

/**
 * Where the server's renditions of a piece of evidence stand, when it is worth saying: "making the
 * preview…" while pending, and a failure with its reason (the original is kept). Otherwise null.
 */
export function renditionNotice(ev, cls = '') {
  const state = ev && ev.rendition_state;
  if (state === 'pending') {
    return h('p', { class: `notice ${cls}`.trim(), role: 'status', 'data-testid': 'rendition-pending' }, t('evidence.rendition.pending'));
  }
  if (state === 'failed') {
    const reason = ev.rendition_error || t('evidence.rendition.unknown');
    return h('p', { class: `notice notice--warn ${cls}`.trim(), role: 'note', 'data-testid': 'rendition-failed' },
      t('evidence.rendition.failed', { reason }));
  }
  return null;
}

/** A failed load: the reason and a retry button. */
export function loadError(message, retry) {
  const btn = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, t('common.retry'));
  btn.addEventListener('click', retry);
  return h('div', { class: 'action' }, errorLine(message), btn);
}
