// #/documents (the supervisor's 监督文书 with filters), #/documents/new (a draft, from scratch or from the
// record the supervisor was looking at: #/documents/new/<kind>/<id>) and #/documents/<id>, the document
// itself for both sides: 签发 by a second supervisor with signing rights, the PDF, the unit's answer,
// 验收 and closing. The unit responder's inbox is pages/inbox.js.

import { ApiError, errorMessage, request } from '../api.js';
import { fill, h, nextId, restoreValues } from '../dom.js';
import { formatDate, formatDateTime, t } from '../i18n.js';
import { LiveStream } from '../live.js';
import { backLink, choices, field, say, setFlash, takeFlash } from '../enforcement.js';
import { card, loadError, loadingLine } from '../widgets.js';
import {
  AWAITING,
  DOC_FILTERS,
  DOC_TYPES,
  attachmentPicker,
  deadlineWords,
  docAllowed,
  docApi,
  docStatusBadge,
  downloadPdf,
  dueFromToday,
  dueLine,
  dueText,
  isSupervisor,
  linkApi,
  taskApi,
  typeName,
  uploadAll,
  uploadError,
} from '../documents.js';
import { isDocumentEvent } from '../caps.js';
import { pageHeading } from './common.js';

const PAGE_SIZE = 30;
const MAX_DAYS = 365;

/** A refusal in words; a validation refusal names the field the server pointed at. */
export function refusal(err, labels = {}) {
  if (err instanceof ApiError && Array.isArray(err.extra.errors) && err.extra.errors.length) {
    const key = String(err.extra.errors[0].key || '').split(/[.[]/)[0];
    if (labels[key]) return t('doc.err.field', { field: labels[key] });
  }
  if (err instanceof ApiError && typeof err.extra.field === 'string' && labels[err.extra.field]) {
    return t('doc.err.field', { field: labels[err.extra.field] });
  }
  return errorMessage(err);
}

// ---- the list ---------------------------------------------------------------------------------

export function docRow(d, { href = `#/documents/${encodeURIComponent(d.id)}`, unread = false, due = true } = {}) {
  return h('li', { 'data-doc': d.id },
    h('a', { class: `row doc-row${unread ? ' doc-row--unread' : ''}`, href, 'data-testid': 'doc-row', 'data-status': d.status },
      h('span', { class: 'row__head' },
        h('span', { class: 'row__title' }, unread ? h('span', { class: 'doc-dot', 'aria-hidden': 'true' }) : null,
          d.title || typeName(d.type)),
        docStatusBadge(d.status)),
      h('span', { class: 'row__meta' }, typeName(d.type), ' · ', d.number || t('doc.noNumber')),
      h('span', { class: 'row__meta' }, d.unit_name || ''),
      due && d.due_on ? h('span', { class: 'row__meta' }, t('doc.dueOn'), ' ', dueText(d.due_on, d.due_provisional)) : null,
      unread ? h('span', { class: 'visually-hidden' }, t('doc.unread')) : null));
}

function filterTabs(current) {
  return h('nav', { class: 'doc-tabs', 'aria-label': t('doc.filters') },
    h('ul', { class: 'doc-tabs__list' },
      DOC_FILTERS.map((f) => h('li', {},
        h('a', {
          class: 'doc-tabs__link',
          href: f ? `#/documents/filter/${f}` : '#/documents',
          'aria-current': f === current ? 'page' : null,
          'data-testid': `doc-filter-${f || 'all'}`,
        }, t(`doc.filter.${f || 'all'}`))))));
}

export function documentsPage({ user, params }) {
  const status = DOC_FILTERS.includes(params.status) ? params.status : '';
  const list = docList({ status });
  const sup = isSupervisor(user);
  const node = h('section', { class: 'page page--documents' },
    sup ? backLink('#/supervisor', 'supervisor.title') : backLink('#/command', 'command.title'),
    pageHeading('doc.listTitle'),
    h('p', { class: 'notice notice--ok', role: 'status', 'data-testid': 'doc-flash' }, takeFlash()),
    sup ? h('a', { class: 'btn btn--primary btn--xl btn--block', href: '#/documents/new', 'data-testid': 'doc-new' }, t('doc.new')) : null,
    filterTabs(status),
    card('doc.filter.' + (status || 'all'), list.node));
  return { node, cleanup: list.stop };
}

/** A paged list of documents for one filter, reloaded when a document changes. */
function docList({ status }) {
  const ul = h('ul', { class: 'list', 'data-testid': 'doc-list' });
  const more = h('button', { type: 'button', class: 'btn btn--secondary btn--block', hidden: true }, t('common.loadMore'));
  const state = h('div', { class: 'list__status' });
  let cursor = null;
  let busy = false;
  async function load(first) {
    if (busy) return;
    busy = true;
    if (first) {
      cursor = null;
      state.replaceChildren(loadingLine());
    }
    try {
      const page = await docApi.list({ status, limit: PAGE_SIZE, cursor });
      const items = (page && page.items) || [];
      if (first) ul.replaceChildren();
      for (const d of items) ul.append(docRow(d));
      cursor = (page && page.next_cursor) || null;
      more.hidden = !cursor;
      state.replaceChildren();
      if (!ul.children.length) state.append(h('p', { class: 'muted', 'data-testid': 'doc-empty' }, t('doc.empty')));
    } catch (err) {
      state.replaceChildren(loadError(errorMessage(err), () => load(first)));
    } finally {
      busy = false;
    }
  }
  more.addEventListener('click', () => load(false));
  const stream = docStream(() => load(true));
  load(true);
  return { node: h('div', { class: 'paged' }, ul, state, more), stop: () => stream.stop() };
}

/** Reload on any document event (and after a gap in the stream). */
export function docStream(onChange, match = () => true) {
  const stream = new LiveStream({ types: null });
  stream.on('*', (ev) => {
    if (isDocumentEvent(ev) && match(ev.data || {})) onChange(ev);
  });
  stream.on('sync', ({ resumed }) => {
    if (!resumed) onChange(null);
  });
  stream.start();
  return stream;
}

// ---- a new draft --------------------------------------------------------------------------------

/** What the linked record says, as facts to start from, and its unit. */
async function fromLink(kind, id) {
  const rec = await linkApi[kind](id);
  const when = (v) => (v ? formatDateTime(v) : '');
  if (kind === 'spot_check') {
    const failed = Object.entries(rec.results || {}).filter(([, ok]) => ok === false).map(([k]) => {
      const item = (rec.checklist || []).find((i) => i.key === k);
      return item ? item.label : k;
    });
    const what = rec.status === 'overdue' ? t('doc.from.sc.overdue') : failed.length ? t('doc.from.sc.failedItems', { items: failed.join('、') }) : t(`sc.status.${rec.status}`);
    return {
      unit_id: rec.unit_id,
      title: t('doc.from.sc.title', { name: rec.officer_name || '' }),
      facts: t('doc.from.sc.facts', { time: when(rec.requested_at), name: rec.officer_name || '', what, comment: rec.comment ? `${rec.comment}` : '' }),
      label: t('doc.link.spot_check', { name: rec.officer_name || '', time: when(rec.requested_at) }),
      officer_id: rec.officer_id,
    };
  }
  if (kind === 'case') {
    return {
      unit_id: rec.unit_id,
      title: t('doc.from.case.title', { number: rec.number || '' }),
      facts: t('doc.from.case.facts', { number: rec.number || '', item: rec.item_name || '', summary: rec.summary || '' }),
      label: t('doc.link.case', { number: rec.number || '' }),
    };
  }
  if (kind === 'action') {
    return {
      unit_id: rec.unit_id,
      title: t('doc.from.action.title', { item: rec.item_name || '' }),
      facts: t('doc.from.action.facts', { time: when(rec.occurred_at), unit: rec.unit_name || '', item: rec.item_name || '', address: rec.address || '' }),
      label: t('doc.link.action', { item: rec.item_name || '', time: when(rec.occurred_at) }),
    };
  }
  return {
    unit_id: rec.unit_id,
    title: t('doc.from.alert.title'),
    facts: t('doc.from.alert.facts', { time: when(rec.created_at), text: rec.message || '' }),
    label: t('doc.link.alert', { time: when(rec.created_at) }),
  };
}

async function allUnits() {
  const out = [];
  let cursor = null;
  for (let i = 0; i < 10; i += 1) {
    const page = await request('GET', `/units?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...((page && page.items) || []));
    cursor = page && page.next_cursor;
    if (!cursor) break;
  }
  return out.sort((a, b) => String(a.name).localeCompare(String(b.name), 'zh-CN'));
}

const FIELD_LABELS = () => ({
  type: t('doc.type'),
  unit_id: t('doc.unit'),
  title: t('doc.titleField'),
  facts: t('doc.facts'),
  basis: t('doc.basis'),
  requirement: t('doc.requirement'),
  deadline: t('doc.deadline'),
  links: t('doc.links'),
});

/** Days (whole, 1…365) and 工作日 / 自然日, with the due date it gives when counted from today. */
export function deadlineInput({ idPrefix, days = 10, working = true, legendKey = 'doc.deadline' }) {
  const daysField = field({ id: `${idPrefix}-days`, label: t('doc.deadlineDays'), type: 'number', inputmode: 'numeric', min: 1, max: MAX_DAYS, step: 1, value: String(days), 'data-testid': 'deadline-days' });
  const kind = choices({
    name: `${idPrefix}-kind`,
    legend: t('doc.deadlineKind'),
    options: [
      { value: 'working', label: t('doc.working') },
      { value: 'calendar', label: t('doc.calendar') },
    ],
    value: working ? 'working' : 'calendar',
    cls: 'choices--chips',
  });
  const due = h('p', { class: 'doc-due-preview', role: 'status', 'aria-live': 'polite', 'data-testid': 'deadline-due' });
  let seq = 0;
  function value() {
    const n = Number(daysField.input.value);
    return { days: n, working: kind.value() !== 'calendar' };
  }
  function valid() {
    const { days: n } = value();
    return daysField.input.value.trim() !== '' && Number.isInteger(n) && n >= 1 && n <= MAX_DAYS;
  }
  async function preview() {
    const mine = ++seq;
    if (!valid()) {
      due.textContent = t('doc.deadlineBad', { max: MAX_DAYS });
      return;
    }
    const v = value();
    due.textContent = t('common.loading');
    try {
      const res = await dueFromToday(v.days, v.working);
      if (mine !== seq) return;
      fill(due, t('doc.duePreview'), ' ', h('strong', { 'data-testid': 'deadline-due-date' }, formatDate(res.date)),
        res.provisional ? h('span', { class: 'doc-provisional', 'data-testid': 'deadline-provisional' }, ` ${t('doc.provisional')}`) : null,
        res.provisional ? h('span', { class: 'field__hint' }, ` ${t('doc.provisionalHint')}`) : null);
    } catch (err) {
      if (mine === seq) due.textContent = t('doc.duePreviewFailed', { reason: errorMessage(err) });
    }
  }
  daysField.input.addEventListener('input', preview);
  for (const i of kind.inputs) i.addEventListener('change', preview);
  preview();
  const node = h('fieldset', { class: 'group group--box' },
    h('legend', { class: 'group__legend' }, t(legendKey)), daysField.node, kind.node, due);
  return { node, value, valid, focus: () => daysField.input.focus(), input: daysField.input };
}

export function newDocumentPage({ params, navigate, restore }) {
  const link = params.kind && params.id ? { kind: params.kind, id: params.id } : null;
  const body = h('div', { class: 'page__body' }, loadingLine());
  const node = h('section', { class: 'page page--doc-new' },
    backLink(link && link.kind === 'spot_check' ? `#/spot-checks/${encodeURIComponent(link.id)}` : '#/documents', link && link.kind === 'spot_check' ? 'sc.title' : 'doc.listTitle'),
    pageHeading('doc.newTitle'),
    body);
  let alive = true;

  async function start() {
    body.replaceChildren(loadingLine());
    let units;
    let pre = null;
    try {
      [units, pre] = await Promise.all([allUnits(), link && linkApi[link.kind] ? fromLink(link.kind, link.id) : null]);
    } catch (err) {
      if (alive) body.replaceChildren(loadError(errorMessage(err), start));
      return;
    }
    if (!alive) return;
    body.replaceChildren(form(units, pre));
    if (restore) restoreValues(body, restore);
  }

  function form(units, pre) {
    const error = h('div', { class: 'alert', role: 'alert', 'data-testid': 'doc-error' });
    const type = choices({
      name: 'doc-type',
      legend: t('doc.type'),
      options: DOC_TYPES.map((v) => ({ value: v, label: typeName(v), detail: t(`doc.typeHint.${v}`) })),
      value: pre && pre.officer_id ? 'correction_order' : 'proposal',
    });
    const unitId = 'doc-unit';
    const unit = h('select', { id: unitId, name: unitId, 'data-testid': 'doc-unit' },
      h('option', { value: '' }, t('doc.unitPick')),
      units.map((u) => h('option', { value: u.id }, u.name)));
    if (pre && pre.unit_id) unit.value = pre.unit_id;
    const title = field({ id: 'doc-title', label: t('doc.titleField'), value: (pre && pre.title) || '', maxlength: 200, 'data-testid': 'doc-title' });
    const facts = field({ id: 'doc-facts', label: t('doc.facts'), hint: t('doc.factsHint'), value: (pre && pre.facts) || '', multiline: true, rows: 5, maxlength: 5000, 'data-testid': 'doc-facts' });
    const basis = field({ id: 'doc-basis', label: t('doc.basis'), hint: t('doc.basisHint'), multiline: true, rows: 3, maxlength: 3000, 'data-testid': 'doc-basis' });
    const requirement = field({ id: 'doc-requirement', label: t('doc.requirement'), hint: t('doc.requirementHint'), multiline: true, rows: 4, maxlength: 3000, 'data-testid': 'doc-requirement' });
    const deadline = deadlineInput({ idPrefix: 'doc-deadline' });
    const links = link ? [link] : [];
    const linkBox = link
      ? h('div', { class: 'field' }, h('p', { class: 'group__legend' }, t('doc.links')),
        h('p', { class: 'doc-link', 'data-testid': 'doc-link' }, (pre && pre.label) || t(`doc.linkKind.${link.kind}`)))
      : null;
    const submit = h('button', { type: 'submit', class: 'btn btn--primary btn--xl btn--block', 'data-testid': 'doc-save' }, t('doc.saveDraft'));
    const f = h('form', { class: 'form', novalidate: true, 'data-testid': 'doc-form' },
      h('p', { class: 'muted' }, t('doc.newIntro')),
      type.node,
      h('div', { class: 'field' }, h('label', { for: unitId }, t('doc.unit')), unit),
      title.node, facts.node, basis.node, requirement.node, deadline.node, linkBox, error, submit);

    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      error.textContent = '';
      const missing = [];
      if (!type.value()) missing.push([t('doc.type'), type.inputs[0]]);
      if (!unit.value) missing.push([t('doc.unit'), unit]);
      for (const [fld, label] of [[title, t('doc.titleField')], [facts, t('doc.facts')], [requirement, t('doc.requirement')]]) {
        if (!fld.input.value.trim()) missing.push([label, fld.input]);
      }
      if (missing.length) {
        for (const [, el] of missing) el.setAttribute('aria-invalid', 'true');
        say(error, t('doc.missing', { fields: missing.map(([l]) => `“${l}”`).join('、') }));
        missing[0][1].focus();
        return;
      }
      if (!deadline.valid()) {
        say(error, t('doc.deadlineBad', { max: MAX_DAYS }));
        deadline.focus();
        return;
      }
      submit.disabled = true;
      submit.textContent = t('common.submitting');
      try {
        const doc = await docApi.create({
          type: type.value(),
          unit_id: unit.value,
          title: title.input.value.trim(),
          facts: facts.input.value.trim(),
          basis: basis.input.value.trim(),
          requirement: requirement.input.value.trim(),
          deadline: deadline.value(),
          links,
        });
        setFlash(t('doc.saved'));
        navigate(`documents/${doc.id}`);
      } catch (err) {
        say(error, refusal(err, FIELD_LABELS()));
        submit.disabled = false;
        submit.textContent = t('doc.saveDraft');
      }
    });
    return f;
  }

  start();
  return { node, cleanup: () => (alive = false) };
}

// ---- one document -------------------------------------------------------------------------------

function linkHref(l) {
  const id = encodeURIComponent(l.id);
  if (l.kind === 'spot_check') return `#/spot-checks/${id}`;
  if (l.kind === 'case') return `#/cases/${id}`;
  // An action has a page of its own only for officers; elsewhere its name is the link's text.
  if (l.kind === 'evidence') return `#/evidence/${id}`;
  return null;
}

function docFacts(d) {
  const rows = [
    [t('doc.number'), d.number || t('doc.noNumber'), 'doc-number'],
    [t('doc.type'), typeName(d.type, d.type_name)],
    [t('doc.unit'), d.unit_name || '', 'doc-unit-name'],
    [t('doc.facts'), h('span', { class: 'doc-pre' }, d.facts || '')],
    [t('doc.basis'), h('span', { class: 'doc-pre' }, d.basis || t('common.noValue'))],
    [t('doc.requirement'), h('span', { class: 'doc-pre' }, d.requirement || '')],
    [t('doc.deadline'), deadlineWords(d.deadline)],
    d.due_on ? [t('doc.dueOn'), dueText(d.due_on, d.due_provisional), 'doc-due-on'] : null,
    d.drafted_by_name ? [t('doc.drafter'), d.drafted_by_name] : null,
    d.issued_by_name ? [t('doc.issuer'), d.issued_by_name] : null,
    d.issued_on || d.issued_at ? [t('doc.issuedAt'), formatDate(d.issued_on || d.issued_at)] : null,
  ].filter(Boolean);
  const links = Array.isArray(d.links) ? d.links : [];
  if (links.length) {
    rows.push([t('doc.links'), h('span', {}, links.map((l, i) => {
      const href = linkHref(l);
      const label = l.label || t(`doc.linkKind.${l.kind}`);
      return [i ? '、' : '', href ? h('a', { href }, label) : label];
    }))]);
  }
  return h('dl', { class: 'facts facts--stack' },
    rows.flatMap(([label, value, testid]) => [h('dt', {}, label), h('dd', testid ? { 'data-testid': testid } : {}, value)]));
}

function evidenceLinks(items) {
  const list = (items || []).map((e) => (typeof e === 'string' ? { id: e } : e)).filter((e) => e && e.id);
  if (!list.length) return null;
  return h('ul', { class: 'doc-evidence', 'data-testid': 'doc-evidence' },
    list.map((e, i) => h('li', {}, h('a', { href: `#/evidence/${encodeURIComponent(e.id)}` },
      e.content_type === 'application/pdf' ? t('doc.attach.pdfN', { n: i + 1 }) : t('doc.attach.photoN', { n: i + 1 })))));
}

/** The steps as the server records them ({step, by, at, data}), or the older separate lists. */
function historySteps(d) {
  if (Array.isArray(d.steps)) return d.steps;
  const out = [];
  for (const r of d.responses || []) out.push({ step: 'responded', at: r.at || r.created_at, data: r });
  for (const a of d.acceptances || []) out.push({ step: a.passed ? 'accepted' : 'returned', at: a.at || a.created_at, data: a });
  for (const r of d.review_requests || []) out.push({ step: 'review_requested', at: r.at || r.created_at, data: r });
  return out;
}

function verdictLine(passed) {
  return h('span', { class: `sc-verdict sc-verdict--${passed ? 'pass' : 'fail'}` },
    h('span', { 'aria-hidden': 'true' }, passed ? '✓ ' : '✗ '), t(passed ? 'doc.accept.passed' : 'doc.accept.failed'));
}

/** What happened to the document, oldest first: issued, the unit's answers, 验收, review requests. */
function historyCard(d) {
  const items = historySteps(d)
    .slice()
    .sort((a, b) => Date.parse(a.at || 0) - Date.parse(b.at || 0))
    .map((st) => {
      const data = st.data && typeof st.data === 'object' ? st.data : {};
      const when = formatDateTime(st.at);
      if (st.step === 'responded' || st.step === 'response') {
        return h('li', { class: 'doc-event doc-event--response', 'data-testid': 'doc-response' },
          h('p', { class: 'doc-event__head' }, t('doc.responseAt', { time: when })),
          h('p', { class: 'doc-pre' }, data.text || ''),
          evidenceLinks(data.evidence || data.evidence_ids));
      }
      if (st.step === 'accepted' || st.step === 'returned' || st.step === 'acceptance') {
        const passed = typeof data.passed === 'boolean' ? data.passed : st.step === 'accepted';
        const due = data.due_on || data.new_due_on;
        return h('li', { class: `doc-event doc-event--${passed ? 'pass' : 'fail'}`, 'data-testid': 'doc-acceptance' },
          h('p', { class: 'doc-event__head' }, verdictLine(passed), ' ', t('doc.acceptedAt', { time: when })),
          data.comment ? h('p', { class: 'doc-pre' }, data.comment) : null,
          !passed && due ? h('p', {}, t('doc.newDue', { date: dueText(due, data.due_provisional) })) : null);
      }
      if (st.step === 'review_requested') {
        return h('li', { class: 'doc-event', 'data-testid': 'doc-review-request' },
          h('p', { class: 'doc-event__head' }, t('doc.reviewAskedAt', { time: when })),
          h('p', { class: 'doc-pre' }, data.reason || ''));
      }
      const key = `doc.step.${st.step}`;
      const label = t(key);
      if (label === key) return null;
      return h('li', { class: 'doc-event doc-event--plain', 'data-step': st.step },
        h('p', { class: 'doc-event__head' }, `${when} ${label}`),
        data.comment ? h('p', { class: 'doc-pre' }, data.comment) : null);
    })
    .filter(Boolean);
  if (!items.length) return null;
  return card('doc.history', h('ol', { class: 'doc-events' }, items));
}

function issueCard(d, run) {
  const btn = h('button', { type: 'button', class: 'btn btn--primary btn--xl btn--block', 'data-testid': 'doc-issue' }, t('doc.issue'));
  const msg = h('p', { class: 'alert', role: 'alert' });
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    btn.textContent = t('doc.issuing');
    const text = await run(() => docApi.issue(d.id), (res) => t('doc.issued', { number: res.number || '' }));
    if (text) {
      say(msg, text);
      btn.disabled = false;
      btn.textContent = t('doc.issue');
    }
  });
  return card('doc.issueTitle', h('p', {}, t('doc.issueIntro')), msg, btn);
}

function respondCard(d, run) {
  const text = field({ id: 'doc-answer', label: t('doc.answer'), hint: t('doc.answerHint'), multiline: true, rows: 6, maxlength: 5000, 'data-testid': 'doc-answer' });
  const files = attachmentPicker({ idPrefix: 'doc-answer' });
  const msg = h('div', { class: 'alert', role: 'alert', 'data-testid': 'doc-answer-error' });
  const progress = h('p', { class: 'muted', role: 'status' });
  const submit = h('button', { type: 'submit', class: 'btn btn--primary btn--xl btn--block', 'data-testid': 'doc-answer-submit' }, t('doc.answerSubmit'));
  const f = h('form', { class: 'form', novalidate: true, 'data-testid': 'doc-answer-form' },
    text.node, h('div', { class: 'field' }, h('p', { class: 'group__legend' }, t('doc.attach.title')), files.node), progress, msg, submit);
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.textContent = '';
    if (!text.input.value.trim()) {
      text.input.setAttribute('aria-invalid', 'true');
      say(msg, t('doc.answerMissing'));
      text.input.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = t('common.submitting');
    let ids;
    try {
      ids = await uploadAll(docApi.attach, d.id, files.files(), (i, n) => {
        progress.textContent = t('doc.attach.sending', { i, n });
      });
    } catch (err) {
      progress.textContent = '';
      say(msg, uploadError(err));
      submit.disabled = false;
      submit.textContent = t('doc.answerSubmit');
      return;
    }
    progress.textContent = '';
    const fail = await run(() => docApi.respond(d.id, { text: text.input.value.trim(), evidence_ids: ids }), () => t('doc.answered'));
    if (fail) {
      say(msg, fail);
      submit.disabled = false;
      submit.textContent = t('doc.answerSubmit');
    }
  });
  return card('doc.answerTitle', f);
}

function reviewRequestCard(d, run) {
  const id = nextId('rv');
  const reason = field({ id, label: t('doc.reviewReason'), multiline: true, rows: 3, maxlength: 2000, 'data-testid': 'doc-review-reason' });
  const msg = h('p', { class: 'alert', role: 'alert' });
  const btn = h('button', { type: 'button', class: 'btn btn--secondary btn--block', 'data-testid': 'doc-review-submit' }, t('doc.reviewSubmit'));
  btn.addEventListener('click', async () => {
    if (!reason.input.value.trim()) {
      say(msg, t('doc.reviewMissing'));
      reason.input.focus();
      return;
    }
    btn.disabled = true;
    const fail = await run(() => docApi.askReview(d.id, { reason: reason.input.value.trim() }), () => t('doc.reviewAsked'));
    if (fail) {
      say(msg, fail);
      btn.disabled = false;
    }
  });
  const details = h('details', { class: 'doc-more' },
    h('summary', { class: 'btn btn--secondary btn--block' }, t('doc.reviewTitle')),
    h('p', { class: 'muted' }, d.review_until ? t('doc.reviewUntil', { date: formatDate(d.review_until) }) : t('doc.reviewIntro')),
    reason.node, msg, btn);
  return h('section', { class: 'card' }, details);
}

/** The unit asked for a review: the document stands, or it is withdrawn. */
function decideReviewCard(d, run) {
  const comment = field({ id: 'doc-review-comment', label: t('doc.decideComment'), multiline: true, rows: 2, maxlength: 2000, optional: true });
  const msg = h('p', { class: 'alert', role: 'alert' });
  const uphold = h('button', { type: 'button', class: 'btn btn--secondary btn--xl btn--block', 'data-testid': 'doc-review-uphold' }, t('doc.decideUphold'));
  const withdraw = h('button', { type: 'button', class: 'btn btn--secondary btn--xl btn--block', 'data-testid': 'doc-review-withdraw' }, t('doc.decideWithdraw'));
  async function decide(upheld) {
    uphold.disabled = true;
    withdraw.disabled = true;
    const fail = await run(() => docApi.decideReview(d.id, { upheld, comment: comment.input.value.trim() }), () => t(upheld ? 'doc.decidedUphold' : 'doc.decidedWithdraw'));
    if (fail) {
      say(msg, fail);
      uphold.disabled = false;
      withdraw.disabled = false;
    }
  }
  uphold.addEventListener('click', () => decide(true));
  withdraw.addEventListener('click', () => decide(false));
  return card('doc.decideTitle', h('p', {}, t('doc.decideIntro')), comment.node, msg, uphold, withdraw);
}

function acceptCard(d, run) {
  const pass = choices({
    name: 'doc-verdict',
    legend: t('doc.acceptLegend'),
    options: [
      { value: 'pass', label: t('doc.accept.passed') },
      { value: 'fail', label: t('doc.accept.failed'), detail: t('doc.accept.failedHint') },
    ],
    value: '',
    cls: 'choices--big',
  });
  const comment = field({ id: 'doc-accept-comment', label: t('doc.acceptComment'), multiline: true, rows: 3, maxlength: 2000, optional: true, 'data-testid': 'doc-accept-comment' });
  const deadline = deadlineInput({ idPrefix: 'doc-redo', days: 5, legendKey: 'doc.newDeadline' });
  deadline.node.hidden = true;
  for (const i of pass.inputs) i.addEventListener('change', () => (deadline.node.hidden = pass.value() !== 'fail'));
  const msg = h('p', { class: 'alert', role: 'alert', 'data-testid': 'doc-accept-error' });
  const btn = h('button', { type: 'button', class: 'btn btn--primary btn--xl btn--block', 'data-testid': 'doc-accept-submit' }, t('doc.acceptSubmit'));
  btn.addEventListener('click', async () => {
    const v = pass.value();
    if (!v) {
      say(msg, t('doc.acceptPick'));
      pass.inputs[0].focus();
      return;
    }
    if (v === 'fail' && !comment.input.value.trim()) {
      say(msg, t('doc.acceptWhy'));
      comment.input.focus();
      return;
    }
    if (v === 'fail' && !deadline.valid()) {
      say(msg, t('doc.deadlineBad', { max: MAX_DAYS }));
      deadline.focus();
      return;
    }
    btn.disabled = true;
    const body = { passed: v === 'pass', comment: comment.input.value.trim() };
    if (v === 'fail') body.new_deadline = deadline.value();
    const fail = await run(() => docApi.accept(d.id, body), () => t(v === 'pass' ? 'doc.acceptedPass' : 'doc.acceptedFail'));
    if (fail) {
      say(msg, fail);
      btn.disabled = false;
    }
  });
  return card('doc.acceptTitle', pass.node, comment.node, deadline.node, msg, btn);
}

function closeCard(d, run) {
  const reason = field({ id: 'doc-close-reason', label: t('doc.closeReason'), multiline: true, rows: 2, maxlength: 2000, optional: true });
  const msg = h('p', { class: 'alert', role: 'alert' });
  const btn = h('button', { type: 'button', class: 'btn btn--secondary btn--block', 'data-testid': 'doc-close' }, t('doc.close'));
  btn.addEventListener('click', async () => {
    if (!confirm(t('doc.closeConfirm'))) return;
    btn.disabled = true;
    const fail = await run(() => docApi.close(d.id, { comment: reason.input.value.trim() }), () => t('doc.closed'));
    if (fail) {
      say(msg, fail);
      btn.disabled = false;
    }
  });
  return h('section', { class: 'card' },
    h('details', { class: 'doc-more' }, h('summary', { class: 'btn btn--secondary btn--block' }, t('doc.closeTitle')), reason.node, msg, btn));
}

function pdfButton(d) {
  const msg = h('p', { class: 'alert', role: 'alert' });
  const btn = h('button', { type: 'button', class: 'btn btn--secondary btn--block', 'data-testid': 'doc-pdf' }, t('doc.pdf'));
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    msg.textContent = '';
    try {
      await downloadPdf(d);
    } catch (err) {
      say(msg, t('doc.pdfFailed', { reason: errorMessage(err) }));
    } finally {
      btn.disabled = false;
    }
  });
  return h('div', { class: 'action' }, btn, msg);
}

/** 生成整改任务 from the document's 要求 (supervisors, once it is issued). */
function taskFromCard(d, navigate) {
  const msg = h('p', { class: 'alert', role: 'alert' });
  const btn = h('button', { type: 'button', class: 'btn btn--secondary btn--block', 'data-testid': 'doc-task' }, t('task.fromDocument'));
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    try {
      const task = await taskApi.create({ source: { kind: 'document', id: d.id } });
      setFlash(t('task.created'));
      navigate(`tasks/${task.id}`);
    } catch (err) {
      say(msg, errorMessage(err));
      btn.disabled = false;
    }
  });
  return h('div', { class: 'action' }, h('p', { class: 'muted' }, t('task.fromDocumentHint')), btn, msg);
}

export function documentPage({ user, params, navigate }) {
  const sup = isSupervisor(user);
  const roles = new Set(user.roles || []);
  const back = sup || roles.has('command') ? backLink('#/documents', 'doc.listTitle') : backLink('#/inbox', 'inbox.title');
  const title = h('h1', { class: 'page__title', tabindex: '-1', 'data-testid': 'doc-title-h' }, t('doc.title'));
  const status = h('p', { class: 'case__status' });
  const top = h('p', { class: 'notice notice--ok', role: 'status', 'data-testid': 'doc-flash' }, takeFlash());
  const body = h('div', { class: 'page__body' }, loadingLine());
  let d = null;
  let alive = true;

  /** Run a step; on success show the document as it is now with `done(result)`; else return the reason. */
  async function run(call, done) {
    try {
      const res = await call();
      await reload();
      window.scrollTo(0, 0);
      say(top, done(res || {}));
      return '';
    } catch (err) {
      const text = refusal(err, FIELD_LABELS());
      if (err instanceof ApiError && (err.status === 409 || err.status === 422)) {
        await reload();
        say(top, '');
      }
      return text;
    }
  }

  function draw() {
    document.title = `${d.title || typeName(d.type)} – ${t('app.name')}`;
    title.textContent = d.title || typeName(d.type);
    fill(status, docStatusBadge(d.status), d.number ? h('span', { class: 'doc-number', 'data-testid': 'doc-number-head' }, ` ${d.number}`) : null);
    const allowed = docAllowed(d, user);
    // Issuing needs 签发权 too; the button shows unless the account is known to lack it.
    if (user.signing === false) allowed.delete('issue');
    const drafter = sup && d.status === 'draft' && !allowed.has('issue');
    fill(body,
      AWAITING.includes(d.status) ? dueLine(d) : null,
      card('doc.content', docFacts(d)),
      d.number ? pdfButton(d) : null,
      historyCard(d),
      drafter ? h('p', { class: 'notice', 'data-testid': 'doc-needs-signer' }, t(d.drafted_by === user.id ? 'doc.needsOtherSigner' : 'doc.needsSigner')) : null,
      allowed.has('issue') ? issueCard(d, run) : null,
      allowed.has('respond') ? respondCard(d, run) : null,
      allowed.has('request_review') ? reviewRequestCard(d, run) : null,
      allowed.has('decide_review') ? decideReviewCard(d, run) : null,
      allowed.has('accept') ? acceptCard(d, run) : null,
      sup && d.number && d.status !== 'closed' ? taskFromCard(d, navigate) : null,
      allowed.has('close') ? closeCard(d, run) : null,
    );
  }

  async function reload() {
    try {
      const fresh = await docApi.get(params.id);
      if (!alive) return;
      const changed = !d || JSON.stringify(fresh) !== JSON.stringify(d);
      d = fresh;
      if (changed) draw();
    } catch (err) {
      if (!alive) return;
      if (!d) body.replaceChildren(err && err.status === 404 ? h('p', { class: 'alert', role: 'alert' }, t('doc.notFound')) : loadError(errorMessage(err), reload));
    }
  }
  // Someone else's step (the unit answers, a colleague signs) shows up without a reload; a form being
  // filled in is not redrawn under the hand.
  const stream = docStream(() => {
    if (!body.contains(document.activeElement) || document.activeElement === document.body) reload();
  }, (data) => !data.id || data.id === params.id || data.document_id === params.id);
  reload();
  const node = h('section', { class: 'page page--doc' }, back, title, status, top, body);
  return {
    node,
    cleanup() {
      alive = false;
      stream.stop();
    },
  };
}

