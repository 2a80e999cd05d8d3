// What the shell needs to know about supervision documents before their pages load: who answers a
// unit's documents or may sign them (capabilities, not roles), which live events concern them, and
// the 制作监督文书 link on records. The pages themselves (documents.js and pages/documents*.js,
// inbox.js, tasks.js) load on first use.

import { request } from './api.js';
import { h } from './dom.js';
import { addStrings, t } from './i18n.js';

addStrings({
  'zh-CN': {
    'role.responder': '监督文书',
    'doc.draftFrom': '制作监督文书',
    'inbox.link': '监督文书收件箱',
    'inbox.linkUnread': '未读 {n} 份',
    'alarm.type.document.overdue': '监督文书超期未回复',
    'alarm.document.overdue': '监督文书 {number} 已过回复期限（{due}），受文单位尚未回复。',
  },
  en: {
    'role.responder': 'Documents',
    'doc.draftFrom': 'Draft a supervision document',
    'inbox.link': 'Supervision documents inbox',
    'inbox.linkUnread': '{n} unread',
    'alarm.type.document.overdue': 'Supervision document overdue',
    'alarm.document.overdue': 'Supervision document {number} was due on {due}; the unit has not answered.',
  },
});

function roleSet(user) {
  return new Set(Array.isArray(user && user.roles) ? user.roles : []);
}

export function isSupervisor(user) {
  return roleSet(user).has('supervisor');
}

/** The unit ids this user answers documents for (its leader, or a person the unit named). */
export function responderUnits(user) {
  if (!user || !Array.isArray(user.responder_units)) return [];
  return user.responder_units.map((u) => (u && typeof u === 'object' ? u.unit_id : u)).filter(Boolean);
}

export function isResponder(user) {
  return responderUnits(user).length > 0;
}

/** 签发权: may issue a colleague's draft. */
export function canSign(user) {
  return Boolean(user && user.signing === true);
}

/** Live events about documents and corrective actions. */
export const DOCUMENT_EVENTS = ['document.updated', 'corrective_action.updated'];

export function isDocumentEvent(ev) {
  return Boolean(ev && DOCUMENT_EVENTS.includes(ev.type));
}

/** 制作监督文书 from the record on screen (supervisors only; null for anyone else). */
export function draftFromButton(user, kind, id) {
  if (!isSupervisor(user)) return null;
  return h('a', { class: 'btn btn--secondary btn--block', href: `#/documents/new/${kind}/${encodeURIComponent(id)}`, 'data-testid': 'doc-draft-from' }, t('doc.draftFrom'));
}

/**
 * The open corrective actions (整改任务) assigned to this user, for the home screen: [] when there
 * are none or they cannot be fetched now (the task pages load only when there is something to show).
 */
export async function openTasks(user) {
  try {
    const page = await request('GET', '/corrective-actions?status=open&limit=20');
    const items = (page && page.items) || [];
    return items.filter((x) => x.assignee_user_id === user.id);
  } catch {
    return [];
  }
}

/**
 * For a unit's responder: a link to the inbox with the number of documents not opened yet
 * (`GET /supervision-documents/counts` → `unread`); null for anyone else.
 */
export function inboxLink(user) {
  if (!isResponder(user)) return null;
  const badge = h('span', { class: 'badge', 'data-testid': 'home-inbox-unread', hidden: true });
  const node = h('a', { class: 'btn btn--secondary btn--block', href: '#/inbox', 'data-testid': 'home-inbox' }, t('inbox.link'), ' ', badge);
  request('GET', '/supervision-documents/counts').then((c) => {
    const n = Number(c && c.unread) || 0;
    badge.textContent = t('inbox.linkUnread', { n });
    badge.hidden = !n;
  }, () => {});
  return node;
}
