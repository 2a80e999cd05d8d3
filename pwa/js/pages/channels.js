// The supervision channels' screens: the liaison's phone (#/liaison: report form and my reports),
// one channel item (#/channels/<id>: what the viewer may see of it, and its next step), the
// supervisor's inbox (#/channels), the petition office's and court's registrations (#/registrar) and
// the procuratorate's and public security's transfers (#/organ). The server decides who sees what:
// these screens show what it sends, and the steps its `allowed` lists.

import { errorMessage, request, uploadBlob } from '../api.js';
import { fill, h } from '../dom.js';
import { formatDate, formatDateTime, t } from '../i18n.js';
import '../i18n-channels.js';
import { backLink, field, newId, say, setFlash, takeFlash } from '../enforcement.js';
import { card, loadError, loadingLine, statusBadge } from '../widgets.js';
import { attachmentPicker, uploadAll, uploadError } from '../documents.js';
import { accountCard, pageHeading } from './common.js';

const CATEGORIES = ['乱执法', '不作为', '态度作风', '执法扰企', '建议', '其他'];
const OUTCOMES = ['维持', '驳回', '确认违法', '撤销', '变更', '责令履行'];

const enc = encodeURIComponent;
function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v != null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const channelApi = {
  report: (body) => request('POST', '/channels/reports', { body }),
  register: (kind, body) => request('POST', `/channels/${kind === 'petition' ? 'petitions' : 'lawsuits'}`, { body }),
  list: (params) => request('GET', `/channels/items${query(params)}`),
  get: (id) => request('GET', `/channels/items/${enc(id)}`),
  step: (id, step, body) => request('POST', `/channels/items/${enc(id)}/${step}`, { body: body || {} }),
  attach: (id, blob, headers) => uploadBlob(`/channels/items/${enc(id)}/evidence`, blob, headers),
  transfers: (params) => request('GET', `/channels/transfers${query(params)}`),
  answer: (id, step, body) => request('POST', `/channels/transfers/${enc(id)}/${step}`, { body }),
};

function today() {
  return new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
}

function itemStatus(x) {
  return statusBadge(x.status, { cls: 'status', keys: 'ch.status', testid: 'ch-status' });
}

function itemRow(x) {
  const meta = [t(`ch.kind.${x.kind}`), x.category, x.unit_name, formatDate(x.created_at)].filter(Boolean).join(' · ');
  return h('li', { 'data-item': x.id },
    h('a', { class: 'row', href: `#/channels/${enc(x.id)}`, 'data-testid': 'ch-row', 'data-status': x.status },
      h('span', { class: 'row__head' }, h('span', { class: 'row__title' }, x.title), itemStatus(x)),
      h('span', { class: 'row__meta' }, meta),
      x.reply ? h('span', { class: 'row__meta', 'data-testid': 'ch-row-reply' }, `${t('ch.reply')}：${x.reply}`) : null,
      x.reversed ? h('span', { class: 'row__meta alert--static' }, t('ch.reversed')) : null));
}

/** A list card that loads `fetch()` (a page of items) and can be reloaded. */
function itemList(titleKey, fetch, testid) {
  const ul = h('ul', { class: 'list', 'data-testid': testid });
  const st = h('div', { class: 'list__status' }, loadingLine());
  async function load() {
    try {
      const page = await fetch();
      const items = (page && page.items) || [];
      ul.replaceChildren(...items.map(itemRow));
      fill(st, items.length ? null : h('p', { class: 'muted' }, t('ch.empty')));
    } catch (err) {
      st.replaceChildren(loadError(errorMessage(err), load));
    }
  }
  load();
  return { node: card(titleKey, ul, st), reload: load };
}

/** Unit choices for a select: every unit (the organisation tree is readable by all). */
async function unitOptions(select, { optional }) {
  try {
    const page = await request('GET', '/units?limit=200');
    const units = ((page && page.items) || []).filter((u) => ['township', 'department'].includes(u.kind));
    select.replaceChildren(
      ...(optional ? [h('option', { value: '' }, t('ch.unitUnknown'))] : []),
      ...units.map((u) => h('option', { value: u.id }, u.name)));
  } catch {
    // the report goes without a unit; the bureau assigns one
  }
}

function selectField(id, labelKey, options) {
  const select = h('select', { id, name: id }, ...options.map((o) => h('option', { value: o }, o)));
  return { node: h('div', { class: 'field' }, h('label', { for: id }, t(labelKey)), select), input: select };
}

// ---- the liaison's phone ---------------------------------------------------------------------

export function liaisonHomePage({ user, onLogout }) {
  const flash = h('p', { class: 'notice notice--ok', role: 'status', 'data-testid': 'ch-flash' }, takeFlash());
  const title = field({ id: 'ch-title', label: t('ch.title'), maxlength: 200, 'data-testid': 'ch-title' });
  const category = selectField('ch-category', 'ch.category', CATEGORIES);
  category.input.dataset.testid = 'ch-category';
  const description = field({ id: 'ch-description', label: t('ch.description'), hint: t('ch.descriptionHint'), multiline: true, rows: 4, maxlength: 4000, 'data-testid': 'ch-description' });
  const when = field({ id: 'ch-when', label: t('ch.when'), type: 'datetime-local', optional: true });
  const address = field({ id: 'ch-address', label: t('ch.address'), maxlength: 300, optional: true, 'data-testid': 'ch-address' });
  const unit = h('select', { id: 'ch-unit', name: 'ch-unit', 'data-testid': 'ch-unit' }, h('option', { value: '' }, t('ch.unitUnknown')));
  unitOptions(unit, { optional: true });
  const officer = field({ id: 'ch-officer', label: t('ch.officer'), maxlength: 200, optional: true });
  const anonymous = h('input', { id: 'ch-anonymous', type: 'checkbox', class: 'choice__box', 'data-testid': 'ch-anonymous' });
  anonymous.checked = true;
  const files = attachmentPicker({ idPrefix: 'ch' });
  const located = h('p', { class: 'field__hint', role: 'status' });
  let location = null;
  const locate = h('button', { type: 'button', class: 'btn btn--secondary btn--block', 'data-testid': 'ch-locate' }, t('ch.locate'));
  locate.addEventListener('click', () => {
    if (!navigator.geolocation) {
      say(located, t('ch.locateFailed'));
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        location = { lat: pos.coords.latitude, lon: pos.coords.longitude };
        say(located, t('ch.located', { m: Math.round(pos.coords.accuracy || 0) }));
      },
      () => say(located, t('ch.locateFailed')),
      { enableHighAccuracy: true, timeout: 15000 });
  });
  const msg = h('div', { class: 'alert', role: 'alert', 'data-testid': 'ch-error' });
  const submit = h('button', { type: 'button', class: 'btn btn--primary btn--xl btn--block', 'data-testid': 'ch-submit' }, t('ch.submit'));
  const mine = itemList('ch.mine', () => channelApi.list({ kind: 'report', limit: 50 }), 'ch-mine');

  submit.addEventListener('click', async () => {
    const text = title.input.value.trim();
    if (text.length < 2) {
      title.input.setAttribute('aria-invalid', 'true');
      say(msg, t('ch.needTitle'));
      title.input.focus();
      return;
    }
    if (!location && !address.input.value.trim()) {
      say(msg, t('ch.needWhere'));
      address.input.focus();
      return;
    }
    const body = {
      id: newId(),
      title: text,
      category: category.input.value,
      description: description.input.value.trim(),
      address: address.input.value.trim(),
      officer_text: officer.input.value.trim(),
      anonymous: anonymous.checked,
    };
    if (location) body.location = location;
    if (unit.value) body.unit_id = unit.value;
    if (when.input.value) body.occurred_at = new Date(when.input.value).toISOString();
    submit.disabled = true;
    submit.textContent = t('ch.sending');
    try {
      const created = await channelApi.report(body);
      const chosen = files.files();
      if (chosen.length) await uploadAll(channelApi.attach, created.id, chosen);
      for (const f of [title, description, address, officer, when]) f.input.value = '';
      files.clear();
      location = null;
      located.textContent = '';
      say(msg, '');
      say(flash, t('ch.sent'));
      mine.reload();
    } catch (err) {
      say(msg, err && err.fileName !== undefined ? uploadError(err) : errorMessage(err));
    } finally {
      submit.disabled = false;
      submit.textContent = t('ch.submit');
    }
  });

  const form = card('ch.new', title.node, category.node, description.node, when.node,
    h('fieldset', { class: 'group' }, h('legend', { class: 'group__legend' }, t('ch.where')), locate, located, address.node),
    h('div', { class: 'field' }, h('label', { for: 'ch-unit' }, t('ch.unit')), unit),
    officer.node,
    h('label', { class: 'choice', for: 'ch-anonymous' }, anonymous, h('span', { class: 'choice__text' }, h('span', { class: 'choice__label' }, t('ch.anonymous')))),
    h('div', { class: 'field' }, h('p', { class: 'group__legend' }, t('ch.photos')), files.node),
    msg, submit);
  const node = h('section', { class: 'page page--liaison' },
    pageHeading('liaison.title'),
    h('p', { class: 'lead' }, t('ch.intro')),
    flash, form, mine.node, accountCard(user, onLogout));
  return { node };
}

// ---- one item ----------------------------------------------------------------------------------

function backFor(user) {
  const roles = new Set(user.roles || []);
  if (roles.has('liaison')) return ['#/liaison', 'liaison.title'];
  if (roles.has('petition_office') || roles.has('court')) return ['#/registrar', 'registrar.title'];
  return ['#/channels', 'ch.inbox'];
}

export function channelItemPage({ user, params }) {
  const title = h('h1', { class: 'page__title', tabindex: '-1', 'data-testid': 'ch-item-title' }, t('ch.detail'));
  const top = h('p', { class: 'notice notice--ok', role: 'status', 'data-testid': 'ch-item-flash' }, takeFlash());
  const body = h('div', { class: 'page__body' }, loadingLine());
  let x = null;

  async function run(step, data, button, msg) {
    button.disabled = true;
    try {
      x = await channelApi.step(x.id, step, data);
      draw();
      say(top, t('ch.done'));
    } catch (err) {
      say(msg, errorMessage(err));
      button.disabled = false;
    }
  }

  function triageCard() {
    const allowed = new Set(x.allowed || []);
    const reply = field({ id: 'ch-reply', label: t('ch.replyToReporter'), multiline: true, rows: 2, maxlength: 2000, optional: true, 'data-testid': 'ch-reply' });
    const msg = h('p', { class: 'alert', role: 'alert', 'data-testid': 'ch-triage-error' });
    const parts = [];
    if (allowed.has('forward')) {
      const q = field({ id: 'ch-question', label: t('ch.forwardQuestion'), multiline: true, rows: 2, maxlength: 4000, 'data-testid': 'ch-question' });
      // The reporter may not have known the unit: the bureau names it here.
      const unit = x.unit_id ? null : h('select', { id: 'ch-forward-unit', name: 'ch-forward-unit', 'data-testid': 'ch-forward-unit' });
      if (unit) unitOptions(unit, { optional: false });
      const btn = h('button', { type: 'button', class: 'btn btn--secondary btn--block', 'data-testid': 'ch-forward' }, t('ch.forward'));
      btn.addEventListener('click', () => run('forward', unit ? { question: q.input.value.trim(), unit_id: unit.value } : { question: q.input.value.trim() }, btn, msg));
      parts.push(q.node, unit ? h('div', { class: 'field' }, h('label', { for: 'ch-forward-unit' }, t('ch.unit')), unit) : null, btn);
    }
    if (allowed.has('document')) {
      const req = field({ id: 'ch-requirement', label: t('ch.requirement'), multiline: true, rows: 2, maxlength: 4000, optional: true, 'data-testid': 'ch-requirement' });
      const btn = h('button', { type: 'button', class: 'btn btn--primary btn--block', 'data-testid': 'ch-document' }, t('ch.document'));
      btn.addEventListener('click', () => run('document', { type: 'opinion', requirement: req.input.value.trim(), reply: reply.input.value.trim() }, btn, msg));
      parts.push(req.node, btn);
    }
    if (allowed.has('corrective')) {
      const btn = h('button', { type: 'button', class: 'btn btn--secondary btn--block', 'data-testid': 'ch-corrective' }, t('ch.corrective'));
      btn.addEventListener('click', () => run('corrective', { due_days: 10, reply: reply.input.value.trim() }, btn, msg));
      parts.push(btn);
    }
    if (allowed.has('note')) {
      const btn = h('button', { type: 'button', class: 'btn btn--secondary btn--block', 'data-testid': 'ch-note' }, t('ch.note'));
      btn.addEventListener('click', () => run('note', { reply: reply.input.value.trim() }, btn, msg));
      parts.push(btn);
    }
    if (allowed.has('dismiss')) {
      const why = field({ id: 'ch-reason', label: t('ch.dismissReason'), maxlength: 2000, 'data-testid': 'ch-reason' });
      const btn = h('button', { type: 'button', class: 'btn btn--secondary btn--block', 'data-testid': 'ch-dismiss' }, t('ch.dismiss'));
      btn.addEventListener('click', () => run('dismiss', { reason: why.input.value.trim(), reply: reply.input.value.trim() }, btn, msg));
      parts.push(why.node, btn);
    }
    return parts.length ? card('ch.triage', reply.node, ...parts, msg) : null;
  }

  function explainCard() {
    const text = field({ id: 'ch-explain', label: t('ch.explainText'), multiline: true, rows: 4, maxlength: 4000, 'data-testid': 'ch-explain-text' });
    const msg = h('p', { class: 'alert', role: 'alert' });
    const btn = h('button', { type: 'button', class: 'btn btn--primary btn--block', 'data-testid': 'ch-explain' }, t('ch.explainSend'));
    btn.addEventListener('click', () => run('explain', { text: text.input.value.trim() }, btn, msg));
    return card('ch.explain', text.node, msg, btn);
  }

  function outcomeCard() {
    const kind = selectField('ch-outcome', 'ch.outcomeKind', OUTCOMES);
    const decided = field({ id: 'ch-decided', label: t('ch.decidedOn'), type: 'date', value: today() });
    const number = field({ id: 'ch-number', label: t('ch.decisionNumber'), maxlength: 60, 'data-testid': 'ch-number' });
    const msg = h('p', { class: 'alert', role: 'alert' });
    const btn = h('button', { type: 'button', class: 'btn btn--primary btn--block', 'data-testid': 'ch-outcome-send' }, t('ch.outcomeSend'));
    btn.addEventListener('click', () => run('outcomes', { outcome: kind.input.value, decided_on: decided.input.value, decision_number: number.input.value.trim() }, btn, msg));
    return card('ch.outcome', kind.node, decided.node, number.node, msg, btn);
  }

  function draw() {
    title.textContent = x.title;
    const allowed = new Set(x.allowed || []);
    const reporter = x.reporter_name || (x.anonymous ? t('ch.reporterHidden') : null);
    const ref = x.resolution_ref && x.resolution === 'document' ? h('a', { href: `#/documents/${enc(x.resolution_ref)}`, 'data-testid': 'ch-document-link' }, t('ch.openDocument'))
      : x.resolution_ref && x.resolution === 'corrective' ? h('a', { href: `#/tasks/${enc(x.resolution_ref)}` }, t('ch.openTask')) : null;
    const rows = [
      [t('ch.category'), x.category || t(`ch.kind.${x.kind}`)],
      [t('ch.description'), x.description],
      x.address ? [t('ch.address'), x.address] : null,
      x.unit_name ? [t('ch.unit'), x.unit_name] : null,
      x.reference ? [t('ch.reference'), x.reference] : null,
      reporter ? [t('ch.reporter'), reporter, 'ch-reporter'] : null,
      [t('ch.received'), formatDateTime(x.created_at)],
      x.question ? [t('ch.question'), x.question, 'ch-question-shown'] : null,
      x.explanation ? [t('ch.explanation'), x.explanation, 'ch-explanation'] : null,
      x.resolution ? [t('ch.status.closed'), [t(`ch.resolution.${x.resolution}`), ref ? ' · ' : '', ref]] : null,
      x.kind === 'report' || x.reply ? [t('ch.reply'), x.reply || t('ch.noReply'), 'ch-reply-shown'] : null,
      x.outcomes && x.outcomes.length ? [t('ch.outcomes'), x.outcomes.map((o) => h('div', { class: o.superseded ? 'muted' : '' }, `${o.outcome} · ${o.decision_number} · ${formatDate(o.decided_on)}`))] : null,
    ].filter(Boolean);
    fill(body,
      h('p', {}, itemStatus(x), ' ', h('span', { class: 'muted' }, t(`ch.kind.${x.kind}`))),
      x.reversed ? h('p', { class: 'alert alert--static', 'data-testid': 'ch-reversed' }, t('ch.reversed')) : null,
      card('ch.facts', h('dl', { class: 'facts facts--stack' }, rows.flatMap(([label, value, testid]) => [
        h('dt', {}, label), h('dd', { class: 'doc-pre', 'data-testid': testid || null }, value == null || value === '' ? t('common.noValue') : value)]))),
      allowed.has('explain') ? explainCard() : null,
      allowed.has('outcome') ? outcomeCard() : null,
      triageCard());
  }

  async function reload() {
    try {
      x = await channelApi.get(params.id);
      draw();
    } catch (err) {
      body.replaceChildren(err && err.status === 404 ? h('p', { class: 'alert', role: 'alert' }, t('ch.notFound')) : loadError(errorMessage(err), reload));
    }
  }
  reload();
  const [href, label] = backFor(user);
  return { node: h('section', { class: 'page page--channel' }, backLink(href, label), title, top, body) };
}

// ---- the supervisor's inbox (and the unit's list) ----------------------------------------------

export function channelInboxPage({ user }) {
  const bureau = (user.roles || []).some((r) => r === 'supervisor' || r === 'admin');
  const lists = bureau
    ? [itemList('ch.filter.open', () => channelApi.list({ status: 'open', limit: 100 }), 'ch-inbox-open'),
      itemList('ch.filter.closed', () => channelApi.list({ status: 'closed', limit: 50 }), 'ch-inbox-closed')]
    : [itemList('ch.unitList', () => channelApi.list({ limit: 100 }), 'ch-unit-list')];
  const node = h('section', { class: 'page page--channels' },
    backLink(bureau ? '#/supervisor' : '#/officer', bureau ? 'supervisor.title' : 'officer.title'),
    pageHeading(bureau ? 'ch.inbox' : 'ch.unitList'),
    bureau ? h('p', { class: 'lead' }, t('ch.inboxIntro')) : null,
    ...lists.map((l) => l.node));
  return { node };
}

// ---- petition office and court -----------------------------------------------------------------

export function registrarPage({ user, onLogout }) {
  const kind = (user.roles || []).includes('court') ? 'lawsuit' : 'petition';
  const flash = h('p', { class: 'notice notice--ok', role: 'status', 'data-testid': 'ch-flash' }, takeFlash());
  const title = field({ id: 'rg-title', label: t('ch.title'), maxlength: 200, 'data-testid': 'rg-title' });
  const reference = field({ id: 'rg-reference', label: t('ch.reference'), maxlength: 60, 'data-testid': 'rg-reference' });
  const received = field({ id: 'rg-received', label: t('ch.receivedOn'), type: 'date', value: today() });
  const unit = h('select', { id: 'rg-unit', name: 'rg-unit', 'data-testid': 'rg-unit' });
  unitOptions(unit, { optional: false });
  const description = field({ id: 'rg-description', label: t('ch.description'), multiline: true, rows: 3, maxlength: 4000, optional: true });
  const msg = h('p', { class: 'alert', role: 'alert', 'data-testid': 'rg-error' });
  const btn = h('button', { type: 'button', class: 'btn btn--primary btn--block', 'data-testid': 'rg-submit' }, t(kind === 'lawsuit' ? 'ch.registerLawsuit' : 'ch.registerPetition'));
  const mine = itemList('ch.mineRegistered', () => channelApi.list({ kind, limit: 100 }), 'rg-mine');
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    try {
      const created = await channelApi.register(kind, {
        title: title.input.value.trim(),
        reference: reference.input.value.trim(),
        received_on: received.input.value,
        unit_id: unit.value,
        description: description.input.value.trim(),
      });
      setFlash(t('ch.registered'));
      location.hash = `#/channels/${enc(created.id)}`;
    } catch (err) {
      say(msg, errorMessage(err));
    } finally {
      btn.disabled = false;
    }
  });
  const node = h('section', { class: 'page page--registrar' },
    pageHeading('registrar.title'),
    h('p', { class: 'lead' }, t('ch.registrarIntro')),
    flash,
    card(kind === 'lawsuit' ? 'ch.registerLawsuit' : 'ch.registerPetition', title.node, reference.node, received.node,
      h('div', { class: 'field' }, h('label', { for: 'rg-unit' }, t('ch.unit')), unit), description.node, msg, btn),
    mine.node,
    accountCard(user, onLogout));
  return { node };
}

// ---- procuratorate and public security -------------------------------------------------------

export function organPage({ user, onLogout }) {
  const ul = h('ul', { class: 'list', 'data-testid': 'organ-transfers' });
  const st = h('div', { class: 'list__status' }, loadingLine());

  function answerForm(tr) {
    const number = field({ id: `rc-${tr.id}`, label: t('ch.receiptNumber'), maxlength: 60 });
    const reason = field({ id: `rr-${tr.id}`, label: t('ch.returnReason'), maxlength: 2000, optional: true });
    const msg = h('p', { class: 'alert', role: 'alert' });
    const accept = h('button', { type: 'button', class: 'btn btn--primary btn--block' }, t('ch.accept'));
    const back = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, t('ch.return'));
    accept.addEventListener('click', async () => {
      try {
        await channelApi.answer(tr.id, 'accept', { received_on: today(), number: number.input.value.trim() });
        load();
      } catch (err) {
        say(msg, errorMessage(err));
      }
    });
    back.addEventListener('click', async () => {
      try {
        await channelApi.answer(tr.id, 'return', { returned_on: today(), reason: reason.input.value.trim() });
        load();
      } catch (err) {
        say(msg, errorMessage(err));
      }
    });
    return h('div', { class: 'action' }, number.node, accept, reason.node, back, msg);
  }

  async function load() {
    try {
      const items = (await channelApi.transfers({})) || [];
      ul.replaceChildren(...items.map((tr) => h('li', { class: 'row', 'data-transfer': tr.id },
        h('span', { class: 'row__head' }, h('span', { class: 'row__title' }, tr.case_number || tr.case_id),
          statusBadge(tr.status, { keys: 'ch.transfer' })),
        h('span', { class: 'row__meta' }, [`${t('ch.transferFrom')} ${tr.unit_name || ''}`, `${t('ch.transferredOn')} ${formatDate(tr.transferred_on)}`,
          tr.status === 'pending' ? t('ch.dueOn', { date: formatDate(tr.due_on) }) : '', tr.overdue ? t('ch.overdue') : ''].filter(Boolean).join(' · ')),
        tr.receipt_number ? h('span', { class: 'row__meta' }, `${t('ch.receiptNumber')} ${tr.receipt_number}`) : null,
        tr.return_reason ? h('span', { class: 'row__meta' }, `${t('ch.returnReason')} ${tr.return_reason}`) : null,
        (tr.allowed || []).includes('accept') ? answerForm(tr) : null)));
      fill(st, items.length ? null : h('p', { class: 'muted' }, t('ch.noTransfers')));
    } catch (err) {
      st.replaceChildren(loadError(errorMessage(err), load));
    }
  }
  load();
  const node = h('section', { class: 'page page--organ' },
    pageHeading('organ.title'),
    h('p', { class: 'lead' }, t('ch.organIntro')),
    card('ch.organ', ul, st),
    accountCard(user, onLogout));
  return { node };
}
