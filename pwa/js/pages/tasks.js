// #/tasks 整改任务 and #/tasks/<id>: corrective actions opened by a failed spot-check, a document's 要求
// or a liaison report. The assignee (an officer or a unit) completes one with a photo or file; the
// person who opened it closes it. The officer's home shows their open tasks (tasksHomeCard).

import { ApiError, errorMessage } from '../api.js';
import { fill, h } from '../dom.js';
import { formatDate, formatDateTime, t } from '../i18n.js';
import { backLink, field, say, takeFlash } from '../enforcement.js';
import { card, loadError, loadingLine } from '../widgets.js';
import { attachmentPicker, taskApi, taskStatusBadge, uploadAll, uploadError } from '../documents.js';
import { pageHeading } from './common.js';

const FILTERS = ['open', 'completed', 'closed'];

function sourceText(x) {
  const s = x.source || {};
  const kind = s.kind || x.source_kind;
  if (!kind) return '';
  const key = `task.source.${kind}`;
  const text = t(key);
  return text === key ? '' : text;
}

export function taskRow(x) {
  return h('li', { 'data-task': x.id },
    h('a', { class: 'row task-row', href: `#/tasks/${encodeURIComponent(x.id)}`, 'data-testid': 'task-row', 'data-status': x.status },
      h('span', { class: 'row__head' }, h('span', { class: 'row__title' }, x.title || t('task.untitled')), taskStatusBadge(x.status)),
      h('span', { class: 'row__meta' }, [x.assignee_name, sourceText(x)].filter(Boolean).join(' · ')),
      x.due_on ? h('span', { class: 'row__meta' }, t('task.dueOn', { date: formatDate(x.due_on) })) : null));
}

export function tasksPage({ user }) {
  const lists = FILTERS.map((status) => {
    const ul = h('ul', { class: 'list', 'data-testid': `tasks-${status}` });
    const st = h('div', { class: 'list__status' }, loadingLine());
    return { status, ul, st, node: card(`task.filter.${status}`, ul, st) };
  });
  async function load() {
    await Promise.all(lists.map(async (l) => {
      try {
        const page = await taskApi.list({ status: l.status, limit: 50 });
        const items = (page && page.items) || [];
        l.ul.replaceChildren(...items.map(taskRow));
        l.st.replaceChildren(items.length ? '' : h('p', { class: 'muted' }, t('task.empty')));
      } catch (err) {
        l.st.replaceChildren(loadError(errorMessage(err), load));
      }
    }));
  }
  load();
  const home = (user.roles || []).includes('supervisor') ? '#/supervisor' : '#/officer';
  const node = h('section', { class: 'page page--tasks' },
    backLink(home, (user.roles || []).includes('supervisor') ? 'supervisor.title' : 'officer.title'),
    pageHeading('task.title'),
    h('p', { class: 'lead' }, t('task.intro')),
    ...lists.map((l) => l.node));
  return { node };
}

function taskAllowed(x, user) {
  if (Array.isArray(x.allowed)) return new Set(x.allowed);
  const out = new Set();
  const units = new Set((user.units || []).map((u) => u && u.id));
  const mine = x.assignee_user_id === user.id || (x.assignee_unit_id && units.has(x.assignee_unit_id));
  if (mine && x.status === 'open') out.add('complete');
  if (x.opened_by === user.id && x.status !== 'closed') out.add('close');
  return out;
}

export function taskPage({ user, params }) {
  const title = h('h1', { class: 'page__title', tabindex: '-1' }, t('task.detailTitle'));
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
    const note = field({ id: 'task-note', label: t('task.note'), multiline: true, rows: 4, maxlength: 3000, 'data-testid': 'task-note' });
    const files = attachmentPicker({ idPrefix: 'task' });
    const msg = h('div', { class: 'alert', role: 'alert', 'data-testid': 'task-error' });
    const btn = h('button', { type: 'button', class: 'btn btn--primary btn--xl btn--block', 'data-testid': 'task-complete' }, t('task.complete'));
    btn.addEventListener('click', async () => {
      const chosen = files.files();
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
    const msg = h('p', { class: 'alert', role: 'alert' });
    const btn = h('button', { type: 'button', class: 'btn btn--secondary btn--block', 'data-testid': 'task-close' }, t('task.close'));
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      const fail = await run(() => taskApi.close(x.id), 'task.closed');
      if (fail) {
        say(msg, fail);
        btn.disabled = false;
      }
    });
    return card('task.closeTitle', h('p', { class: 'muted' }, t(x.status === 'completed' ? 'task.closeIntro' : 'task.closeEarly')), msg, btn);
  }

  function draw() {
    title.textContent = x.title || t('task.detailTitle');
    const allowed = taskAllowed(x, user);
    const evidence = (x.evidence || x.evidence_ids || []).map((e) => (typeof e === 'string' ? { id: e } : e));
    fill(body,
      h('p', {}, taskStatusBadge(x.status)),
      card('task.content', h('dl', { class: 'facts facts--stack' },
        h('dt', {}, t('task.what')), h('dd', { class: 'doc-pre' }, x.description || x.requirement || t('common.noValue')),
        h('dt', {}, t('task.assignee')), h('dd', {}, x.assignee_name || t('common.noValue')),
        h('dt', {}, t('task.due')), h('dd', {}, x.due_on ? formatDate(x.due_on) : t('common.noValue')),
        sourceText(x) ? [h('dt', {}, t('task.source')), h('dd', {}, sourceText(x))] : null,
        x.completed_at ? [h('dt', {}, t('task.completedAt')), h('dd', {}, formatDateTime(x.completed_at))] : null,
        x.note ? [h('dt', {}, t('task.note')), h('dd', { class: 'doc-pre' }, x.note)] : null,
        evidence.length ? [h('dt', {}, t('doc.attach.title')), h('dd', {}, evidence.map((e, i) => [i ? '、' : '', h('a', { href: `#/evidence/${encodeURIComponent(e.id)}` }, t('doc.attach.photoN', { n: i + 1 }))]))] : null)),
      allowed.has('complete') ? completeCard() : null,
      allowed.has('close') ? closeCard() : null);
  }

  async function reload() {
    try {
      const fresh = await taskApi.get(params.id);
      if (!alive) return;
      x = fresh;
      draw();
    } catch (err) {
      if (alive && !x) body.replaceChildren(loadError(errorMessage(err), reload));
    }
  }
  reload();
  const node = h('section', { class: 'page page--task' }, backLink('#/tasks', 'task.title'), title, top, body);
  return { node, cleanup: () => (alive = false) };
}

/** The officer's open 整改任务 on the home screen (`items`: those caps.openTasks found). */
export function tasksHomeCard(items) {
  const node = card('task.mine', h('ul', { class: 'list', 'data-testid': 'home-tasks' }, items.map(taskRow)),
    h('a', { class: 'btn btn--secondary btn--block', href: '#/tasks' }, t('task.all')));
  node.dataset.testid = 'home-tasks-card';
  return node;
}
