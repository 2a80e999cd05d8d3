// #/officer/outbox "待发送": everything kept on this phone and its state — waiting, sending n%, sent,
// or needs attention with the server's reason — with what the officer can do about each.

import { h } from '../dom.js';
import { has, t, formatDateTime } from '../i18n.js';
import { isOnline, onNetChange } from '../net.js';
import { discard, entries, nearQuota, onOutboxChange, storageInfo } from '../store.js';
import { flush, progressOf, retry } from '../sender.js';
import { mediaTile, sizeText } from '../media.js';
import { RECORDING_KINDS, backLink, takeFlash } from '../enforcement.js';

const SECTIONS = [
  ['attention', 'outbox.attention'],
  ['queue', 'outbox.queue'],
  ['draft', 'outbox.drafts'],
  ['sent', 'outbox.sent'],
];

function section(entry) {
  if (entry.state === 'waiting' || entry.state === 'sending') return 'queue';
  return entry.state;
}

/** Bytes sent and left of a video (what decides whether the next window of signal is enough). */
function bytesParams(entry, sent) {
  const done = Math.max(0, Math.min(entry.size, Math.round(sent)));
  return { pct: Math.floor((done / entry.size) * 100), sent: sizeText(done), left: sizeText(entry.size - done) };
}

function stateText(entry, parent) {
  const video = entry.type === 'evidence' && entry.media !== 'photo' && entry.size > 0;
  if (entry.state === 'sending') {
    const p = progressOf(entry.id);
    if (p == null) return t('outbox.state.sending');
    return video ? t('outbox.state.sendingBytes', bytesParams(entry, p * entry.size)) : t('outbox.state.sendingPct', { pct: Math.floor(p * 100) });
  }
  if (entry.state === 'waiting' && parent && parent.state !== 'sent') return t('outbox.state.afterRecord');
  if (entry.state === 'waiting' && entry.sentBytes && entry.size) {
    return video ? t('outbox.state.resumeBytes', bytesParams(entry, entry.sentBytes))
      : t('outbox.state.resume', { pct: Math.floor((entry.sentBytes / entry.size) * 100) });
  }
  return t(`outbox.state.${entry.state}`);
}

function reason(entry) {
  if (!entry.error) return '';
  if (entry.error.code === 'outbox.blob_missing') return t('outbox.blobMissing');
  return entry.error.message || t('err.unknown');
}

function editDraft(entry, navigate) {
  try {
    localStorage.setItem(`fw.draftId.${entry.userId}`, entry.id);
  } catch {
    /* the form then starts empty; the entry stays here */
  }
  navigate('officer/new');
}

function buttons(entry, navigate) {
  const out = [];
  const btn = (key, testid, fn, cls = 'btn--secondary') => {
    const b = h('button', { type: 'button', class: `btn ${cls}`, 'data-testid': testid }, t(key));
    b.addEventListener('click', fn);
    out.push(b);
  };
  if (entry.type === 'action' && (entry.state === 'attention' || entry.state === 'draft')) {
    btn(entry.state === 'draft' ? 'outbox.continue' : 'outbox.edit', 'outbox-edit', () => editDraft(entry, navigate), 'btn--primary');
  }
  if (entry.state === 'attention') btn('outbox.retry', 'outbox-retry', () => retry(entry.id));
  if (entry.state === 'attention' || entry.state === 'draft') {
    btn('outbox.delete', 'outbox-delete', async () => {
      const key = entry.type === 'action' ? 'outbox.deleteRecordConfirm' : 'outbox.deleteMediaConfirm';
      if (confirm(t(key))) await discard(entry.id);
    }, 'btn--danger');
  }
  if (entry.type === 'action' && entry.state === 'sent') {
    out.push(h('a', { class: 'btn btn--secondary', href: `#/officer/actions/${entry.id}` }, t('outbox.open')));
  }
  return out.length ? h('div', { class: 'outbox-entry__buttons' }, out) : null;
}

function actionCard(entry, children, navigate) {
  const s = entry.summary || {};
  const d = entry.draft || {};
  const title = s.itemName || t('outbox.untitled');
  const sub = [d.kind ? t(`kind.${d.kind}`) : '', d.occurredAt ? formatDateTime(d.occurredAt) : '', s.unitName || '']
    .filter(Boolean)
    .join(' · ');
  const why = reason(entry);
  // 全过程记录: a kind that needs a video or audio file, and this phone holds none for it.
  const noRecording = RECORDING_KINDS.includes(d.kind) && !children.some((m) => m.media && m.media !== 'photo');
  return h('li', { class: `outbox-entry outbox-entry--${entry.state}`, 'data-testid': 'outbox-entry', 'data-id': entry.id, 'data-state': entry.state },
    h('p', { class: 'outbox-entry__head' },
      h('strong', {}, title),
      h('span', { class: `state state--${entry.state}`, 'data-testid': 'outbox-state' }, stateText(entry))),
    sub ? h('p', { class: 'muted' }, sub) : null,
    why ? h('p', { class: 'alert alert--static', 'data-testid': 'outbox-reason' }, t('outbox.refused'), why) : null,
    noRecording ? h('p', { class: 'notice notice--warn', 'data-testid': 'outbox-recording' }, t('action.recordingNone')) : null,
    children.length
      ? h('ul', { class: 'media' }, children.map((m) => mediaTile(m, h('span', { class: 'outbox-media' },
        h('span', { class: `state state--${m.state}`, 'data-testid': 'outbox-media-state', 'data-state': m.state }, stateText(m, entry)),
        reason(m) ? h('span', { class: 'alert alert--static', 'data-testid': 'outbox-reason' }, reason(m)) : null,
        m.state === 'attention' ? buttons(m, navigate) : null))))
      : null,
    buttons(entry, navigate));
}

/** An entry refused because the sender's own certificate is not valid: kept, marked, never dropped. */
export function heldByCertificate(entry, userId) {
  const e = entry.error;
  if (entry.state !== 'attention' || !e || e.code !== 'certificate.invalid') return false;
  const who = e.extra && e.extra.officer_id;
  return !who || !userId || String(who) === String(userId);
}

export function outboxPage({ navigate, user }) {
  const held = h('p', { class: 'alert alert--static', role: 'status', 'data-testid': 'outbox-held', hidden: true });
  const flashText = takeFlash();
  const flash = h('p', { class: 'notice notice--ok', role: 'status', 'data-testid': 'flash' }, flashText);
  flash.hidden = !flashText;
  const storage = h('p', { class: 'muted', 'data-testid': 'storage' });
  const quotaWarn = h('p', { class: 'alert', role: 'alert', 'data-testid': 'quota-warning', hidden: true }, t('outbox.quotaWarn'));
  const sendBtn = h('button', { type: 'button', class: 'btn btn--primary btn--xl btn--block', 'data-testid': 'outbox-send' }, t('outbox.sendNow'));
  const netNote = h('p', { class: 'notice', role: 'status', 'data-testid': 'outbox-net' });
  const lists = h('div', { class: 'outbox-lists', 'data-testid': 'outbox-lists' });
  let alive = true;
  let frame = 0;

  async function draw() {
    frame = 0;
    const all = await entries();
    if (!alive) return;
    const actions = all.filter((e) => e.type === 'action');
    const kids = (a) => all.filter((e) => e.type === 'evidence' && e.actionId === a.id);
    const groups = SECTIONS.map(([key, title]) => {
      const own = actions.filter((a) => {
        if (key === 'attention') return a.state === 'attention' || kids(a).some((m) => m.state === 'attention');
        if (key === 'queue') return section(a) === 'queue' || (a.state === 'sent' && kids(a).some((m) => m.state !== 'sent' && m.state !== 'attention'));
        if (key === 'sent') return a.state === 'sent' && kids(a).every((m) => m.state === 'sent');
        return a.state === key;
      });
      if (!own.length) return null;
      return h('section', { class: 'card', 'data-testid': `outbox-${key}` },
        h('h2', { class: 'card__title' }, t(title), h('span', { class: 'badge' }, String(own.length))),
        h('ul', { class: 'outbox-list' }, own.slice().reverse().map((a) => actionCard(a, kids(a), navigate))));
    }).filter(Boolean);
    lists.replaceChildren(...(groups.length ? groups : [h('p', { class: 'empty', 'data-testid': 'outbox-empty' }, t('outbox.empty'))]));
    const kept = all.filter((e) => heldByCertificate(e, user && user.id));
    for (const e of kept) {
      const li = lists.querySelector(`[data-id="${CSS.escape(e.id)}"]`);
      if (li) li.dataset.held = 'certificate';
    }
    held.hidden = !kept.length;
    if (kept.length) {
      const status = (kept[0].error.extra && kept[0].error.extra.certificate_status) || 'invalid';
      const key = `err.certificate.state.${status}`;
      held.textContent = t('outbox.certHeld', { what: t(has(key) ? key : 'err.certificate.state.invalid'), n: kept.length });
    }
    const waiting = all.some((e) => e.state === 'waiting' || e.state === 'sending');
    sendBtn.hidden = !waiting;
    sendBtn.disabled = !isOnline();
    netNote.textContent = waiting ? t(isOnline() ? 'outbox.willSend' : 'outbox.offline') : '';
  }

  function soon() {
    if (!frame) frame = requestAnimationFrame(() => draw());
  }

  async function drawStorage() {
    const info = await storageInfo();
    if (!alive || !info) return;
    storage.textContent = t(info.persisted ? 'outbox.storageKept' : 'outbox.storage', {
      used: sizeText(info.usage),
      free: sizeText(Math.max(0, info.quota - info.usage)),
    });
    quotaWarn.hidden = !(await nearQuota(0));
  }

  sendBtn.addEventListener('click', () => flush());
  const offChange = onOutboxChange(() => {
    soon();
    drawStorage();
  });
  const offNet = onNetChange(soon);
  // Progress of a video in flight is not written on every chunk: repaint while something is sending.
  const ticker = setInterval(soon, 1000);
  draw();
  drawStorage();

  const node = h('section', { class: 'page page--outbox' },
    backLink('#/officer', 'officer.title'),
    h('h1', { class: 'page__title', tabindex: '-1' }, t('outbox.title')),
    flash,
    h('p', { class: 'lead' }, t('outbox.lead')),
    netNote,
    held,
    sendBtn,
    lists,
    storage,
    quotaWarn);
  return {
    node,
    cleanup() {
      alive = false;
      offChange();
      offNet();
      clearInterval(ticker);
      if (frame) cancelAnimationFrame(frame);
    },
  };
}
