// Supervision documents (行政执法监督文书) and corrective actions (整改任务): the API, who may do what,
// deadlines in words, and the parts the supervisor's, the unit responder's and the officer's screens
// share. Every page of these lives in pages/documents*.js and pages/tasks.js.

import './i18n-docs.js';
import { errorMessage, request, requestBlob, uploadBlob } from './api.js';
import { h } from './dom.js';
import { beijingToday, daysUntil, formatDate, t } from './i18n.js';
import { statusBadge } from './widgets.js';
import { canSign, isSupervisor, responderUnits } from './caps.js';

export { isResponder, isSupervisor, responderUnits } from './caps.js';

const enc = encodeURIComponent;

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v != null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const DOC_TYPES = ['inspection_notice', 'opinion', 'proposal', 'correction_order', 'check_record'];
/** The list filters, in the order of the tabs; '' is every document. */
export const DOC_FILTERS = ['', 'awaiting', 'draft', 'issued', 'overdue', 'responded', 'closed'];
/**
 * Statuses that wait for the unit's answer (the 待回复文书 of the supervisor's home): draft → issued →
 * responded → accepted → closed, responded → returned (不合格) → responded…, issued | returned → overdue.
 */
export const AWAITING = ['issued', 'overdue', 'returned'];
export const LINK_KINDS = ['action', 'case', 'spot_check', 'alert'];
/** Evidence a responder may attach: photos and PDFs. */
export const ATTACH_TYPES = 'image/jpeg,image/png,image/webp,application/pdf';

export const docApi = {
  list: (params) => request('GET', `/supervision-documents${query(params)}`),
  counts: () => request('GET', '/supervision-documents/counts'),
  get: (id) => request('GET', `/supervision-documents/${enc(id)}`),
  create: (body) => request('POST', '/supervision-documents', { body }),
  issue: (id) => request('POST', `/supervision-documents/${enc(id)}/issue`, { body: {} }),
  respond: (id, body) => request('POST', `/supervision-documents/${enc(id)}/response`, { body }),
  accept: (id, body) => request('POST', `/supervision-documents/${enc(id)}/acceptance`, { body }),
  close: (id, body) => request('POST', `/supervision-documents/${enc(id)}/close`, { body: body || {} }),
  decideReview: (id, body) => request('POST', `/supervision-documents/${enc(id)}/review-decision`, { body }),
  askReview: (id, body) => request('POST', `/supervision-documents/${enc(id)}/review-request`, { body }),
  attach: (id, blob, headers) => uploadBlob(`/supervision-documents/${enc(id)}/evidence`, blob, headers),
  pdf: (id) => requestBlob(`/supervision-documents/${enc(id)}/pdf`, { timeout: 60000 }),
  workingDays: (from, add) => request('GET', `/calendar/working-days${query({ from, add })}`),
};

export const taskApi = {
  list: (params) => request('GET', `/corrective-actions${query(params)}`),
  get: (id) => request('GET', `/corrective-actions/${enc(id)}`),
  create: (body) => request('POST', '/corrective-actions', { body }),
  complete: (id, body) => request('POST', `/corrective-actions/${enc(id)}/complete`, { body }),
  close: (id, body) => request('POST', `/corrective-actions/${enc(id)}/close`, { body: body || {} }),
  attach: (id, blob, headers) => uploadBlob(`/corrective-actions/${enc(id)}/evidence`, blob, headers),
};

/** The records a document can be drafted from, read to pre-fill the form. */
export const linkApi = {
  action: (id) => request('GET', `/actions/${enc(id)}`),
  case: (id) => request('GET', `/cases/${enc(id)}`),
  spot_check: (id) => request('GET', `/spot-checks/${enc(id)}`),
  // Alerts have no detail route: find it among the recent ones.
  alert: async (id) => {
    const page = await request('GET', '/alerts?limit=200');
    return ((page && page.items) || []).find((a) => a.id === id) || { id };
  },
};

// ---- who may do what -------------------------------------------------------------------------

/**
 * What the signed-in user may do with a document: the server's `allowed` when it sends one, else
 * the rules as the contract states them.
 */
export function docAllowed(doc, user) {
  if (Array.isArray(doc.allowed)) return new Set(doc.allowed);
  const out = new Set();
  const sup = isSupervisor(user);
  const mine = responderUnits(user).includes(doc.unit_id);
  if (sup && doc.status === 'draft' && canSign(user) && doc.drafted_by !== user.id) out.add('issue');
  if (sup && doc.status === 'responded') out.add('accept');
  if (sup && doc.status !== 'closed' && doc.status !== 'draft') out.add('close');
  if (mine && AWAITING.includes(doc.status)) out.add('respond');
  return out;
}

// ---- words -------------------------------------------------------------------------------------

export function typeName(type, given = '') {
  if (given) return given;
  const key = `doc.type.${type}`;
  const text = t(key);
  return text === key ? String(type || '') : text;
}

export function docStatusBadge(status) {
  return statusBadge(status || 'draft', { cls: 'doc-status', keys: 'doc.status', testid: 'doc-status' });
}

export function taskStatusBadge(status) {
  return statusBadge(status || 'open', { cls: 'doc-status', keys: 'task.status', testid: 'task-status' });
}

/** "5 个工作日" / "10 个自然日" */
export function deadlineWords(deadline) {
  if (!deadline || !deadline.days) return t('common.noValue');
  return t(deadline.working ? 'doc.deadline.working' : 'doc.deadline.calendar', { n: deadline.days });
}

/** 2026年12月09日 with 暂定 when the year's holiday arrangement is not published yet. */
export function dueText(dueOn, provisional) {
  if (!dueOn) return t('common.noValue');
  return provisional ? `${formatDate(dueOn)} ${t('doc.provisional')}` : formatDate(dueOn);
}

/** The due date as a line that says how much time is left, for the unit's inbox. */
export function dueLine(doc) {
  const due = doc.due_on;
  if (!due) return null;
  const left = daysUntil(due);
  let words;
  let cls = 'due';
  if (doc.status === 'overdue' || left < 0) {
    words = t('doc.due.over', { n: Math.abs(left || 0) });
    cls += ' due--over';
  } else if (left === 0) {
    words = t('doc.due.today');
    cls += ' due--soon';
  } else {
    words = t('doc.due.left', { n: left });
    if (left <= 2) cls += ' due--soon';
  }
  return h('p', { class: cls, 'data-testid': 'doc-due' },
    h('span', { class: 'due__label' }, t('doc.dueOn')), ' ',
    h('strong', {}, dueText(due, doc.due_provisional)), ' ',
    AWAITING.includes(doc.status) ? h('span', { class: 'due__left', 'data-testid': 'doc-days-left' }, words) : null);
}

/** "YYYY-MM-DD" + n calendar days. */
export function addCalendarDays(ymd, n) {
  const [y, m, d] = ymd.split('-').map(Number);
  const x = new Date(Date.UTC(y, m - 1, d + n));
  return x.toISOString().slice(0, 10);
}

/** The due date for a deadline counted from today: { date, provisional }. */
export async function dueFromToday(days, working) {
  const today = beijingToday();
  // A period in calendar days that ends on a day off ends on the next working day: the first
  // working day after the day before its end.
  const res = working
    ? await docApi.workingDays(today, days)
    : await docApi.workingDays(addCalendarDays(today, days - 1), 1);
  return { date: res && res.date, provisional: Boolean(res && res.provisional) };
}

// ---- attachments (photos from the camera, files) ---------------------------------------------------

async function sha256Hex(blob) {
  if (!(crypto && crypto.subtle)) return null;
  try {
    const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  } catch {
    return null;
  }
}

/** Upload one file as evidence of a document or task, the way evidence is sent everywhere. */
export async function uploadAttachment(attach, id, file) {
  const headers = { 'Content-Type': file.type || 'application/octet-stream', Accept: 'application/json, application/problem+json' };
  const sum = await sha256Hex(file);
  if (sum) headers['X-Content-SHA256'] = sum;
  if (file.lastModified) headers['X-Captured-At'] = new Date(file.lastModified).toISOString();
  return attach(id, file, headers);
}

/**
 * 拍照 (the phone's camera) and 选择文件 (photos or PDFs), with the chosen files listed and removable.
 * Returns { node, files() }.
 */
export function attachmentPicker({ idPrefix }) {
  const files = [];
  const list = h('ul', { class: 'attach__list', 'data-testid': 'attach-list' });
  const camId = `${idPrefix}-camera`;
  const fileId = `${idPrefix}-files`;
  const camera = h('input', { id: camId, type: 'file', accept: 'image/*', capture: 'environment', class: 'attach__input', 'data-testid': 'attach-camera' });
  const picker = h('input', { id: fileId, type: 'file', accept: ATTACH_TYPES, multiple: true, class: 'attach__input', 'data-testid': 'attach-files' });
  function draw() {
    list.replaceChildren(...files.map((f, i) => {
      const remove = h('button', { type: 'button', class: 'btn btn--secondary attach__remove' }, t('doc.attach.remove'));
      remove.addEventListener('click', () => {
        files.splice(i, 1);
        draw();
      });
      return h('li', { class: 'attach__item', 'data-testid': 'attach-item' },
        h('span', { class: 'attach__name' }, f.name || t('doc.attach.photo')),
        h('span', { class: 'muted' }, ` ${Math.max(1, Math.round(f.size / 1024))} KB`), remove);
    }));
  }
  for (const input of [camera, picker]) {
    input.addEventListener('change', () => {
      for (const f of input.files || []) files.push(f);
      input.value = '';
      draw();
    });
  }
  const node = h('div', { class: 'attach' },
    h('p', { class: 'field__hint' }, t('doc.attach.hint')),
    h('div', { class: 'attach__buttons' },
      camera, h('label', { class: 'btn btn--secondary attach__btn', for: camId }, t('doc.attach.camera')),
      picker, h('label', { class: 'btn btn--secondary attach__btn', for: fileId }, t('doc.attach.files'))),
    list);
  return { node, files: () => files.slice(), clear: () => { files.length = 0; draw(); } };
}

/** Upload every chosen file; resolves to the evidence ids. A failure names the file. */
export async function uploadAll(attach, id, files, onProgress) {
  const ids = [];
  for (let i = 0; i < files.length; i += 1) {
    if (onProgress) onProgress(i + 1, files.length);
    try {
      const ev = await uploadAttachment(attach, id, files[i]);
      ids.push(ev.id);
    } catch (err) {
      err.fileName = files[i].name || '';
      throw err;
    }
  }
  return ids;
}

/** A failed upload in words, naming the file. */
export function uploadError(err) {
  const reason = err && err.status === 413 ? t('doc.attach.tooBig') : err && err.status === 415 ? t('doc.attach.badType') : errorMessage(err);
  return err && err.fileName ? t('doc.attach.failed', { name: err.fileName, reason }) : reason;
}

/** Download the issued PDF under its number. */
export async function downloadPdf(doc) {
  const blob = await docApi.pdf(doc.id);
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: `${doc.number || doc.title || 'document'}.pdf`, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

