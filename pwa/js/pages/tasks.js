// #/tasks 整改任务 and #/tasks/<id>: corrective actions opened by a failed spot-check (for its officer),
// from a document's 要求, or by hand. The assignee (an officer, or the unit) completes one with a photo
// or file and a note; the person who opened it closes it. The officer's home shows their open tasks
// (tasksHomeCard, loaded only when there are some).

import { ApiError, errorMessage, request } from '../api.js';
import { fill, h } from '../dom.js';
import { formatDate, formatDateTime, t } from '../i18n.js';
import { backLink, field, say, takeFlash } from '../enforcement.js';
import { card, loadError, loadingLine } from '../widgets.js';
import { attachmentPicker, dueText, taskApi, taskStatusBadge, uploadAll, uploadError } from '../documents.js';
import { isDocumentEvent } from '../caps.js';
import { LiveStream } from '../live.js';
import { pageHeading } from './common.js';

const FILTERS = ['open', 'completed', 'closed'];

/** Unit names, loaded once per page (every signed-in user may read the organisation tree). */
function unitNames(user) {
  const names = new Map((user.units || []).filter((u) => u && u.id).map((u) => [u.id, u.name]));
  let load = null;
  return {
    name: (id) => names.get(id) || '',
    load() {
      load = load || request('GET', '/units?limit=200').then((page) => {
        for (const u of (page && page.items) || []) names.set(u.id, u.name);
      }, () => {});
      return load;
    },
  };
}

function assigneeText(x, user, units) {
  if (x.assignee_user_id && x.assignee_user_id === user.id) return t('task.assignee.me');
  if (x.assignee_user_id) return t('task.assignee.officer', { unit: units.name(x.unit_id) });
  return t('task.assignee.unit', { unit: units.name(x.unit_id) });
}

function sourceLink(x) {
  const s = x.source;
  if (!s || !s.kind) return null;
  const pages = { spot_check: 'spot-checks', document: 'documents', meeting: 'meetings', action: 'actions', case: 'cases' };
  const href = pages[s.kind] ? `#/${pages[s.kind]}/${encodeURIComponent(s.id)}` : null;
  const text = t(`task.source.${s.kind}`);
  return href ? h('a', { href }, text) : text;
}

export function taskRow(x, user = null, units = null) {
  const who = user && units ? assigneeText(x, user, units) : '';
  return h('li', { 'data-task': x.id },
    h('a', { class: 'row task-row', href: `#/tasks/${encodeURIComponent(x.id)}`, 'data-testid': 'task-row', 'data-status': x.status },
      h('span', { class: 'row__head' }, h('span', { class: 'row__title' }, x.title || t('task.untitled')), taskStatusBadge(x.status)),
      who || x.source ? h('span', { class: 'row__meta' }, [who, x.source ? t(`task.source.${x.source.kind}`) : ''].filter(Boolean).join(' · ')) : null,
      x.due_on ? h('span', { class: 'row__meta' }, t('task.dueOn', { date: dueText(x.due_on, x.due_provisional) })) : null));
}

/** Reload on a corrective action's event (and after a gap in the stream). */
function taskStream(onChange, match = () => true) {
  const stream = new LiveStream({ types: ['corrective_action.updated'] });
  stream.on('corrective_action.updated', (ev) => {
    if (isDocumentEvent(ev) && match(ev.data || {})) onChange(ev);
  });
  stream.on('sync', ({ resumed }) => {
    if (!resumed) onChange(null);
  });
  stream.start();
  return stream;
}

export function tasksPage({ user }) {
  const units = unitNames(user);
  const lists = FILTERS.map((status) => {
    const ul = h('ul', { class: 'list', 'data-testid': `tasks-${status}` });
    const st = h('div', { class: 'list__status' }, loadingLine());
    return { status, ul, st, node: card(`task.filter.${status}`, ul, st) };
  });
  async function load() {
    await units.load();
    await Promise.all(lists.map(async (l) => {
      try {
        const page = await taskApi.list({ status: l.status, limit: 50 });
        const items = (page && page.items) || [];
        l.ul.replaceChildren(...items.map((x) => taskRow(x, user, units)));
        fill(l.st, items.length ? null : h('p', { class: 'muted' }, t('task.empty')));
      } catch (err) {
        l.st.replaceChildren(loadError(errorMessage(err), load));
      }
    }));
  }
  const stream = taskStream(() => load());
  load();
  const sup = (user.roles || []).includes('supervisor');
  const node = h('section', { class: 'page page--tasks' },
    backLink(sup ? '#/supervisor' : '#/officer', sup ? 'supervisor.title' : 'officer.title'),
    pageHeading('task.title'),
    h('p', { class: 'lead' }, t('task.intro')),
    ...lists.map((l) => l.node));
  return { node, cleanup: () => stream.stop() };
}

export function taskPage({ user, params }) {
  const units = unitNames(user);
  const title = h('h1', { class: 'page__title', tabindex: '-1', 'data-testid': 'task-title' }, t('task.detailTitle'));
  const top = h('p', { class: 'notice notice--ok', role: 'status', 'data-testid': 'task-flash' }, takeFlash());
  const body = h('div', { class: 'page__body' }, loadingLine());
  let x = null;
  let alive = true;

  async function run(call, doneKey) {
    try {
      await call();
      await reload();
      say(top, t(doneKey));
      return '';
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) await reload();
      return errorMessage(err);
    }
  }

  function completeCard() {
    const note = field({ id: 'task-note', label: t('task.note'), hint: t('task.noteHint'), multiline: true, rows: 4, maxlength: 4000, 'data-testid': 'task-note' });
    const files = attachmentPicker({ idPrefix: 'task' });
    const msg = h('div', { class: 'alert', role: 'alert', 'data-testid': 'task-error' });
    const btn = h('button', { type: 'button', class: 'btn btn--primary btn--xl btn--block', 'data-testid': 'task-complete' }, t('task.complete'));
    btn.addEventListener('click', async () => {
      const chosen = files.files();
      if (note.input.value.trim().length < 2) {
        note.input.setAttribute('aria-invalid', 'true');
        say(msg, t('task.needNote'));
        note.input.focus();
        return;
      }
      if (!chosen.length) {
        say(msg, t('task.needEvidence'));
        return;
      }
      btn.disabled = true;
      let ids;
      try {
        ids = await uploadAll(taskApi.attach, x.id, chosen);
      } catch (err) {
        say(msg, uploadError(err));
        btn.disabled = false;
        return;
      }
      const fail = await run(() => taskApi.complete(x.id, { note: note.input.value.trim(), evidence_ids: ids }), 'task.completed');
      if (fail) {
        say(msg, fail);
        btn.disabled = false;
      }
    });
    return card('task.completeTitle', h('p', { class: 'muted' }, t('task.completeIntro')), note.node,
      h('div', { class: 'field' }, h('p', { class: 'group__legend' }, t('doc.attach.title')), files.node), msg, btn);
  }

  function closeCard() {
    const comment = field({ id: 'task-close-comment', label: t('task.closeComment'), multiline: true, rows: 2, maxlength: 2000, optional: true });
    const msg = h('p', { class: 'alert', role: 'alert' });
    const btn = h('button', { type: 'button', class: 'btn btn--secondary btn--block', 'data-testid': 'task-close' }, t('task.close'));
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      const fail = await run(() => taskApi.close(x.id, { comment: comment.input.value.trim() }), 'task.closed');
      if (fail) {
        say(msg, fail);
        btn.disabled = false;
      }
    });
    return card('task.closeTitle', h('p', { class: 'muted' }, t(x.status === 'completed' ? 'task.closeIntro' : 'task.closeEarly')), comment.node, msg, btn);
  }

  function draw() {
    title.textContent = x.title || t('task.detailTitle');
    const allowed = new Set(Array.isArray(x.allowed) ? x.allowed : []);
    const evidence = (x.evidence_ids || []).map((e) => (typeof e === 'string' ? { id: e } : e));
    const src = sourceLink(x);
    fill(body,
      h('p', {}, taskStatusBadge(x.status)),
      card('task.content', h('dl', { class: 'facts facts--stack' },
        h('dt', {}, t('task.what')), h('dd', { class: 'doc-pre' }, x.description || t('common.noValue')),
        h('dt', {}, t('task.assignee')), h('dd', { 'data-testid': 'task-assignee' }, assigneeText(x, user, units)),
        h('dt', {}, t('task.due')), h('dd', {}, x.due_on ? dueText(x.due_on, x.due_provisional) : t('common.noValue')),
        src ? [h('dt', {}, t('task.source')), h('dd', {}, src)] : null,
        x.completed_at ? [h('dt', {}, t('task.completedAt')), h('dd', {}, formatDateTime(x.completed_at))] : null,
        x.completion_note ? [h('dt', {}, t('task.note')), h('dd', { class: 'doc-pre', 'data-testid': 'task-note-shown' }, x.completion_note)] : null,
        evidence.length ? [h('dt', {}, t('doc.attach.title')), h('dd', { 'data-testid': 'task-evidence' }, evidence.map((e, i) => [i ? '、' : '', h('a', { href: `#/evidence/${encodeURIComponent(e.id)}` }, t('doc.attach.photoN', { n: i + 1 }))]))] : null,
        x.closed_at ? [h('dt', {}, t('task.closedAt')), h('dd', {}, formatDate(x.closed_at))] : null)),
      allowed.has('complete') ? completeCard() : null,
      allowed.has('close') ? closeCard() : null);
  }

  async function reload() {
    try {
      const fresh = await taskApi.get(params.id);
      if (!alive) return;
      const changed = !x || JSON.stringify(fresh) !== JSON.stringify(x);
      x = fresh;
      if (changed) draw();
    } catch (err) {
      if (alive && !x) body.replaceChildren(err && err.status === 404 ? h('p', { class: 'alert', role: 'alert' }, t('task.notFound')) : loadError(errorMessage(err), reload));
    }
  }
  units.load().then(() => x && draw());
  // The assignee's completion reaches the opener's open page; a form being filled is not redrawn.
  const stream = taskStream(() => {
    if (!body.contains(document.activeElement)) reload();
  }, (data) => !data.id || data.id === params.id);
  reload();
  const node = h('section', { class: 'page page--task' }, backLink('#/tasks', 'task.title'), title, top, body);
  return {
    node,
    cleanup() {
      alive = false;
      stream.stop();
    },
  };
}

/** The officer's open 整改任务 on the home screen (`items`: those caps.openTasks found). */
export function tasksHomeCard(items) {
  const node = card('task.mine', h('ul', { class: 'list', 'data-testid': 'home-tasks' }, items.map((x) => taskRow(x))),
    h('a', { class: 'btn btn--secondary btn--block', href: '#/tasks' }, t('task.all')));
  node.dataset.testid = 'home-tasks-card';
  return node;
}
