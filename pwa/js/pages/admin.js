// Setting the district up in the app (admins): the unit tree, the item catalogue (权责清单) with its
// delegations to townships (赋权), and users with their roles, units and enforcement certificates.
// Every change goes through the API, which audits it; a refusal is shown in the server's words.

import { request } from '../api.js';
import { fill, h } from '../dom.js';
import { beijingToday, formatDate, formatDateTime, t } from '../i18n.js';
import { backLink, choices, facts, field, pagedList, say } from '../enforcement.js';
import { card, loadError, loadingLine } from '../widgets.js';
import { enc, problemText, qs, reportStyles } from '../reports.js';
import { pageHeading } from './common.js';
import '../i18n-admin.js';
import '../i18n-org.js'; // the item kinds and rules (el.*), shared with the 执法事项清单

const UNIT_KINDS = ['township', 'department', 'justice', 'court', 'petition', 'procuratorate', 'police', 'association'];
const ITEM_KINDS = ['penalty', 'coercion', 'inspection', 'other'];
const ROLES = ['officer', 'legal_reviewer', 'supervisor', 'command', 'admin', 'liaison', 'petition_office', 'court', 'procuratorate', 'public_security'];

function select(id, options, { value = '', empty = null, testid = null } = {}) {
  const el = h('select', { id, name: id, 'data-testid': testid || id },
    empty ? h('option', { value: '' }, empty) : null,
    ...options.map(([v, label]) => h('option', { value: v, selected: String(v) === String(value) }, label)));
  return el;
}

function labelled(id, label, input) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), input);
}

function message() {
  return h('p', { class: 'notice', role: 'status', 'aria-live': 'polite', 'data-testid': 'ad-message' });
}

/** Submit `body()` with `send`, then say `done` and call `after`; a refusal is said in its words. */
function submitter(form, msg, send, done, after) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    Promise.resolve().then(send)
      .then((result) => { say(msg, done(result)); if (after) after(result); })
      .catch((err) => say(msg, problemText(err)))
      .finally(() => { if (button) button.disabled = false; });
  });
}

async function allUnits() {
  const out = [];
  let cursor = null;
  do {
    const page = await request('GET', `/units${qs({ limit: 200, cursor })}`);
    out.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && out.length < 2000);
  return out;
}

function unitKind(kind) {
  return UNIT_KINDS.includes(kind) ? t(`ad.unitKind.${kind}`) : kind;
}

// ---- #/admin/units ---------------------------------------------------------------------------

/** Units in tree order (a parent before its children), each with its depth. */
function tree(units) {
  const byParent = new Map();
  for (const u of units) {
    const key = u.parent_id || '';
    if (!byParent.has(key)) byParent.set(key, []);
    byParent.get(key).push(u);
  }
  const ids = new Set(units.map((u) => u.id));
  const out = [];
  const walk = (key, depth) => {
    for (const u of (byParent.get(key) || []).sort((a, b) => a.name.localeCompare(b.name, 'zh'))) {
      out.push([u, depth]);
      walk(u.id, depth + 1);
    }
  };
  walk('', 0);
  for (const u of units) if (u.parent_id && !ids.has(u.parent_id)) out.push([u, 0]);
  return out;
}

const BLOCKERS = ['active_child_units', 'active_members', 'open_cases'];

/** Why a unit cannot be deactivated, from the refusal's list, in words. */
function blockerText(err) {
  const list = (err && err.extra && err.extra.blockers) || [];
  if (!list.length) return problemText(err);
  return t('ad.blocked', {
    list: list.map((b) => t(BLOCKERS.includes(b.kind) ? `ad.blocker.${b.kind}` : 'ad.blocker.other', { n: b.count, examples: b.examples.join('、') })).join('；'),
  });
}

function unitEditor(u, units, reload) {
  const id = `ad-ue-${u.id}`;
  const msg = message();
  const name = field({ id: `${id}-name`, label: t('ad.unitName'), value: u.name, maxlength: 100, required: true, 'data-testid': 'ad-ue-name' });
  const parent = select(`${id}-parent`, units.filter((x) => x.id !== u.id).map((x) => [x.id, x.name]), { value: u.parent_id || '', empty: t('ad.noParent'), testid: 'ad-ue-parent' });
  const pilot = h('input', { id: `${id}-pilot`, type: 'checkbox', class: 'choice__box', 'data-testid': 'ad-ue-pilot' });
  pilot.checked = Boolean(u.pilot);
  const from = h('input', { id: `${id}-from`, type: 'date', value: u.pilot_from || '', 'data-testid': 'ad-ue-from' });
  const to = h('input', { id: `${id}-to`, type: 'date', value: u.pilot_to || '', 'data-testid': 'ad-ue-to' });
  const form = h('form', { class: 'form ad-inline', 'data-testid': 'ad-ue-form' }, name.node, labelled(`${id}-parent`, t('ad.parent'), parent),
    h('label', { class: 'choice', for: `${id}-pilot` }, pilot, h('span', { class: 'choice__text' }, t('ad.pilot'))),
    labelled(`${id}-from`, t('ad.pilotFrom'), from), labelled(`${id}-to`, t('ad.pilotTo'), to),
    h('button', { type: 'submit', class: 'btn btn--primary' }, t('ad.save')), msg);
  submitter(form, msg, () => request('PATCH', `/units/${enc(u.id)}`, {
    body: { name: name.input.value.trim(), parent_id: parent.value || null, pilot: pilot.checked, pilot_from: from.value || null, pilot_to: to.value || null },
  }), () => t('ad.saved'), reload);
  const toggleMsg = message();
  const toggle = h('button', { type: 'button', class: `btn ${u.active === false ? 'btn--secondary' : 'btn--danger'}`, 'data-testid': 'ad-unit-toggle' },
    u.active === false ? t('ad.activate') : t('ad.deactivate'));
  toggle.addEventListener('click', () => {
    toggle.disabled = true;
    request('POST', `/units/${enc(u.id)}/${u.active === false ? 'activate' : 'deactivate'}`)
      .then(() => reload())
      .catch((err) => say(toggleMsg, blockerText(err)))
      .finally(() => { toggle.disabled = false; });
  });
  return h('details', { class: 'ad-details' }, h('summary', {}, t('ad.edit')), form, toggle, toggleMsg,
    h('a', { class: 'ad-link', href: `#/audit${qs({ object_id: u.id })}` }, t('ad.history')));
}

export function adminUnitsPage() {
  reportStyles();
  const list = h('div', {}, loadingLine());
  const msg = message();
  const name = field({ id: 'ad-unit-name', label: t('ad.unitName'), maxlength: 100, required: true, 'data-testid': 'ad-unit-name' });
  const kind = select('ad-unit-kind', UNIT_KINDS.map((k) => [k, unitKind(k)]), { value: 'township' });
  const parent = select('ad-unit-parent', [], { empty: t('ad.noParent') });
  const pilot = h('input', { id: 'ad-unit-pilot', type: 'checkbox', class: 'choice__box', 'data-testid': 'ad-unit-pilot' });
  const pilotFrom = h('input', { id: 'ad-unit-from', type: 'date', 'data-testid': 'ad-unit-from' });
  const pilotTo = h('input', { id: 'ad-unit-to', type: 'date', 'data-testid': 'ad-unit-to' });
  const form = h('form', { class: 'form', 'data-testid': 'ad-unit-form' },
    name.node, labelled('ad-unit-kind', t('ad.unitKind'), kind), labelled('ad-unit-parent', t('ad.parent'), parent),
    h('label', { class: 'choice', for: 'ad-unit-pilot' }, pilot, h('span', { class: 'choice__text' }, t('ad.pilot'))),
    labelled('ad-unit-from', t('ad.pilotFrom'), pilotFrom), labelled('ad-unit-to', t('ad.pilotTo'), pilotTo),
    h('button', { type: 'submit', class: 'btn btn--primary btn--block' }, t('ad.addUnit')), msg);
  const search = h('input', { id: 'ad-unit-search', type: 'search', placeholder: t('ad.unitSearch'), maxlength: 64, 'data-testid': 'ad-unit-search' });
  const kindFilter = select('ad-unit-kind-filter', UNIT_KINDS.map((k) => [k, unitKind(k)]), { empty: t('ad.anyKind') });
  let all = [];
  const row = (u, depth) => h('li', {
    class: `ad-row ad-depth-${Math.min(depth, 4)}`, 'data-testid': 'ad-unit', 'data-id': u.id, 'data-name': u.name,
  }, h('span', { class: 'row__title' }, u.name),
  h('span', { class: 'row__meta' }, [
    unitKind(u.kind),
    u.pilot ? t('ad.pilotUnit') : '',
    u.pilot && (u.pilot_from || u.pilot_to) ? t('ad.pilotSpan', { from: u.pilot_from || '…', to: u.pilot_to || '…' }) : '',
    u.active === false ? t('ad.inactive') : '',
  ].filter(Boolean).join(' · ')),
  h('a', { class: 'ad-link', href: `#/units/${enc(u.id)}/enforcement-list` }, t('el.link')),
  unitEditor(u, all, load));
  // Searched or filtered: the server's matches by name, flat; otherwise the whole tree.
  const show = () => {
    const q = search.value.trim();
    if (q || kindFilter.value) {
      fill(list, pagedList({
        fetchPage: (cursor) => request('GET', `/units${qs({ limit: 50, cursor, q, kind: kindFilter.value })}`),
        renderItem: (u) => row(u, 0), emptyKey: 'ad.noMatch', errorMessage: problemText, testid: 'ad-units',
      }).node);
    } else {
      fill(list, all.length
        ? h('ul', { class: 'list', 'data-testid': 'ad-units' }, ...tree(all).map(([u, depth]) => row(u, depth)))
        : h('p', { class: 'empty' }, t('ad.noUnits')));
    }
  };
  function load() {
    return allUnits().then((units) => {
      all = units;
      fill(parent, h('option', { value: '' }, t('ad.noParent')),
        ...[...units].sort((a, b) => a.name.localeCompare(b.name, 'zh')).map((u) => h('option', { value: u.id }, u.name)));
      show();
    }, (err) => fill(list, loadError(problemText(err), load)));
  }
  let pending = null;
  search.addEventListener('input', () => { clearTimeout(pending); pending = setTimeout(show, 300); });
  kindFilter.addEventListener('change', show);
  submitter(form, msg,
    () => request('POST', '/units', {
      body: {
        name: name.input.value.trim(), kind: kind.value, parent_id: parent.value || null, pilot: pilot.checked,
        pilot_from: pilotFrom.value || null, pilot_to: pilotTo.value || null,
      },
    }),
    (u) => t('ad.unitAdded', { name: u.name }),
    () => { name.input.value = ''; pilot.checked = false; pilotFrom.value = ''; pilotTo.value = ''; load(); });
  load();
  return {
    node: h('section', { class: 'page page--admin-units' }, backLink('#/admin', 'ad.back'), pageHeading('ad.unitsTitle'),
      card('ad.addUnit', form),
      card('ad.unitTree', h('div', { class: 'ad-inline' }, search, labelled('ad-unit-kind-filter', t('ad.unitKind'), kindFilter)), list)),
  };
}

// ---- #/admin/items ---------------------------------------------------------------------------

function delegationForm(item, townships, after) {
  const id = `ad-dl-${item.id}`;
  const msg = message();
  const unit = select(`${id}-unit`, townships.map((u) => [u.id, u.name]), { testid: 'ad-dl-unit' });
  const from = h('input', { id: `${id}-from`, type: 'date', required: true, 'data-testid': 'ad-dl-from' });
  const to = h('input', { id: `${id}-to`, type: 'date', 'data-testid': 'ad-dl-to' });
  const form = h('form', { class: 'form ad-inline', 'data-testid': 'ad-dl-form' },
    labelled(`${id}-unit`, t('ad.township'), unit), labelled(`${id}-from`, t('ad.from'), from),
    labelled(`${id}-to`, t('ad.toOptional'), to),
    h('button', { type: 'submit', class: 'btn btn--secondary' }, t('ad.delegate')), msg);
  submitter(form, msg,
    () => request('POST', `/items/${enc(item.id)}/delegations`, { body: { unit_id: unit.value, effective_from: from.value, effective_to: to.value || null } }),
    () => t('ad.delegated', { unit: unit.selectedOptions[0] ? unit.selectedOptions[0].textContent : '' }),
    after);
  return form;
}

function itemRules(item) {
  const rules = [];
  if (item.major_case && item.major_case.fine_at_least != null) rules.push(t('el.majorFine', { amount: item.major_case.fine_at_least }));
  if (item.major_case && item.major_case.measures.length) rules.push(item.major_case.measures.join('、'));
  if (item.criminal_threshold) rules.push(t('el.criminal', { amount: item.criminal_threshold.amount_involved_at_least }));
  if (item.full_recording != null) rules.push(t(item.full_recording ? 'ad.recording.always' : 'ad.recording.never'));
  return rules;
}

function itemRow(item, units, townships) {
  const owner = units.find((u) => u.id === item.owner_unit_id);
  const details = h('details', { class: 'ad-details' }, h('summary', {}, t('ad.delegate')), delegationForm(item, townships));
  return h('li', { class: 'ad-row', 'data-testid': 'ad-item', 'data-code': item.code },
    h('a', { class: 'row__title', href: `#/admin/items${qs({ id: item.id })}`, 'data-testid': 'ad-item-link' }, `${item.code} ${item.name}`),
    h('span', { class: 'row__meta' }, [t(`el.kind.${item.kind}`), owner ? owner.name : '', ...itemRules(item)].filter(Boolean).join(' · ')),
    item.legal_basis ? h('p', { class: 'el-basis' }, item.legal_basis) : null,
    details,
    h('a', { class: 'ad-link', href: `#/audit${qs({ object_id: item.id })}` }, t('ad.history')));
}

function departments(units) {
  return units.filter((u) => u.kind === 'department').sort((a, b) => a.name.localeCompare(b.name, 'zh'));
}

function townshipsOf(units) {
  return units.filter((u) => u.kind === 'township').sort((a, b) => a.name.localeCompare(b.name, 'zh'));
}

/** The item's terms as form fields; `value()` is the body for POST or PATCH (without the code). */
function itemFields(prefix, units, item = null) {
  const major = (item && item.major_case) || {};
  const name = field({ id: `${prefix}-name`, label: t('ad.itemName'), maxlength: 200, required: true, value: item ? item.name : '', 'data-testid': `${prefix}-name` });
  const kind = select(`${prefix}-kind`, ITEM_KINDS.map((k) => [k, t(`el.kind.${k}`)]), { value: item ? item.kind : '' });
  const owner = select(`${prefix}-owner`, departments(units).map((u) => [u.id, u.name]), { value: item ? item.owner_unit_id : '', testid: `${prefix}-owner` });
  const basis = field({ id: `${prefix}-basis`, label: t('ad.basis'), multiline: true, maxlength: 4000, optional: true, value: item ? item.legal_basis : '', 'data-testid': `${prefix}-basis` });
  const fine = field({ id: `${prefix}-fine`, label: t('ad.majorFine'), type: 'number', min: 0, step: '0.01', optional: true, value: major.fine_at_least ?? '', 'data-testid': `${prefix}-fine` });
  const measures = field({ id: `${prefix}-measures`, label: t('ad.majorMeasures'), hint: t('ad.measuresHint'), maxlength: 500, optional: true, value: (major.measures || []).join('、'), 'data-testid': `${prefix}-measures` });
  const criminal = field({ id: `${prefix}-criminal`, label: t('ad.criminal'), type: 'number', min: 0, step: '0.01', optional: true, value: item && item.criminal_threshold ? item.criminal_threshold.amount_involved_at_least : '', 'data-testid': `${prefix}-criminal` });
  const recordingValue = !item || item.full_recording == null ? '' : String(item.full_recording);
  const recording = select(`${prefix}-recording`, [['', t('ad.recording.kind')], ['true', t('ad.recording.always')], ['false', t('ad.recording.never')]], { value: recordingValue });
  const nodes = [name.node, labelled(`${prefix}-kind`, t('ad.itemKind'), kind), labelled(`${prefix}-owner`, t('ad.owner'), owner),
    basis.node, fine.node, measures.node, criminal.node,
    labelled(`${prefix}-recording`, t('ad.recording'), recording), h('p', { class: 'field__hint' }, t('ad.recordingHint'))];
  const value = () => {
    const measureList = measures.input.value.split(/[、,，\s]+/).map((m) => m.trim()).filter(Boolean);
    return {
      name: name.input.value.trim(), kind: kind.value, owner_unit_id: owner.value, legal_basis: basis.input.value.trim(),
      major_case: fine.input.value || measureList.length ? { fine_at_least: fine.input.value ? Number(fine.input.value) : null, measures: measureList } : null,
      criminal_threshold: criminal.input.value ? { amount_involved_at_least: Number(criminal.input.value) } : null,
      full_recording: recording.value === '' ? null : recording.value === 'true',
    };
  };
  return { nodes, value, reset: () => { name.input.value = ''; } };
}

/** Where a delegation stands on `today`: not yet, in effect, or ended. */
function delegationState(d, today) {
  if (d.effective_from > today) return 'future';
  return d.effective_to && d.effective_to < today ? 'ended' : 'current';
}

function delegationRow(item, d, today, reload) {
  const state = delegationState(d, today);
  const span = t('ad.dlSpan', { from: formatDate(d.effective_from), to: d.effective_to ? formatDate(d.effective_to) : t('ad.dlOpen') });
  let end = null;
  if (state !== 'ended') {
    const id = `ad-dl-end-${d.id}`;
    const msg = message();
    const day = h('input', { id, type: 'date', required: true, min: d.effective_from, value: d.effective_from > today ? d.effective_from : today, 'data-testid': 'ad-dl-end-date' });
    if (d.effective_to) day.max = d.effective_to;
    end = h('form', { class: 'form ad-inline', 'data-testid': 'ad-dl-end-form' }, labelled(id, t('ad.dlEndOn'), day),
      h('button', { type: 'submit', class: 'btn btn--danger', 'data-testid': 'ad-dl-end' }, t('ad.dlEnd')), msg);
    submitter(end, msg, () => request('POST', `/items/${enc(item.id)}/delegations/${enc(d.id)}/end`, { body: { effective_to: day.value } }),
      (r) => t('ad.dlEnded', { unit: d.unit_name || '', to: formatDate(r.effective_to) }), () => setTimeout(reload, 800));
  }
  return h('li', { class: 'ad-row', 'data-testid': 'ad-dl', 'data-unit': d.unit_name || '', 'data-state': state },
    h('span', { class: 'row__title' }, d.unit_name || d.unit_id),
    h('span', { class: 'row__meta', 'data-testid': 'ad-dl-meta' }, `${span} · ${t(`ad.dlState.${state}`)}`),
    end);
}

/** One line of the item's history: when, who, what changed (unit ids and codes in words). */
function historyRow(e, units) {
  const data = e.data || {};
  const unitName = (id) => (units.find((u) => u.id === id) || {}).name || id;
  const show = (k, v) => {
    if (k === 'full_recording') return t(v == null ? 'ad.recording.kind' : v ? 'ad.recording.always' : 'ad.recording.never');
    if (v == null || v === '' || (Array.isArray(v) && !v.length)) return t('ad.none');
    if (k === 'kind') return ITEM_KINDS.includes(v) ? t(`el.kind.${v}`) : v;
    if (k === 'owner_unit_id') return unitName(v);
    return Array.isArray(v) ? v.join('、') : String(v);
  };
  let detail = '';
  if (e.action === 'item.updated' && data.changes) {
    detail = Object.entries(data.changes).map(([k, [from, to]]) => t('ad.change', { field: t(`ad.field.${k}`), from: show(k, from), to: show(k, to) })).join('；');
  } else if (e.action === 'item.delegated') {
    detail = `${unitName(data.unit_id)} ${t('ad.dlSpan', { from: data.effective_from, to: data.effective_to || t('ad.dlOpen') })}`;
  } else if (e.action === 'item.delegation_ended' && Array.isArray(data.effective_to)) {
    detail = `${unitName(data.unit_id)} ${t('ad.dlEndOnValue', { to: data.effective_to[1] })}`;
  }
  const known = ['item.created', 'item.updated', 'item.delegated', 'item.delegation_ended'];
  return h('li', { class: 'ad-row', 'data-testid': 'ad-hist', 'data-action': e.action },
    h('span', { class: 'row__title' }, known.includes(e.action) ? t(`ad.act.${e.action}`) : e.action),
    h('span', { class: 'row__meta' }, [formatDateTime(e.at), e.actor || ''].filter(Boolean).join(' · ')),
    detail ? h('p', { class: 'muted', 'data-testid': 'ad-hist-detail' }, detail) : null);
}

/** #/admin/items?id=<item>: the item's terms to change, its delegations to end, its history. */
function adminItemPage(itemId) {
  const body = h('div', { class: 'page__body' }, loadingLine());
  const load = () => Promise.all([
    request('GET', `/items/${enc(itemId)}`), allUnits(), request('GET', `/items/${enc(itemId)}/delegations`),
    request('GET', `/audit${qs({ object_id: itemId, limit: 50 })}`),
  ]).then(([item, units, delegations, history]) => {
    const today = beijingToday();
    const msg = message();
    const terms = itemFields('ad-ie', units, item);
    const form = h('form', { class: 'form', 'data-testid': 'ad-ie-form' },
      facts([[t('ad.itemCode'), item.code, 'ad-ie-code']]), h('p', { class: 'field__hint' }, t('ad.codeFixed')),
      ...terms.nodes, h('button', { type: 'submit', class: 'btn btn--primary btn--block' }, t('ad.save')), msg);
    submitter(form, msg, () => request('PATCH', `/items/${enc(item.id)}`, { body: terms.value() }), () => t('ad.saved'), () => setTimeout(load, 800));
    const dlList = delegations.length
      ? h('ul', { class: 'list', 'data-testid': 'ad-dls' }, ...delegations.map((d) => delegationRow(item, d, today, load)))
      : h('p', { class: 'empty' }, t('ad.noDelegations'));
    const hist = history.items.length
      ? h('ul', { class: 'list', 'data-testid': 'ad-item-history' }, ...history.items.map((e) => historyRow(e, units)))
      : h('p', { class: 'empty' }, t('ad.noHistory'));
    fill(body,
      h('h2', { class: 'page__subtitle', 'data-testid': 'ad-item-title' }, `${item.code} ${item.name}`),
      card('ad.editItem', form),
      card('ad.delegations', dlList, h('details', { class: 'ad-details' }, h('summary', {}, t('ad.delegate')), delegationForm(item, townshipsOf(units), () => setTimeout(load, 800)))),
      card('ad.history', hist, history.next_cursor ? h('a', { class: 'ad-link', href: `#/audit${qs({ object_id: item.id })}` }, t('ad.historyAll')) : null));
  }, (err) => fill(body, loadError(problemText(err), load)));
  load();
  return { node: h('section', { class: 'page page--admin-item' }, backLink('#/admin/items', 'ad.backItems'), pageHeading('ad.itemTitle'), body) };
}

export function adminItemsPage({ query } = {}) {
  reportStyles();
  if (query && query.get('id')) return adminItemPage(query.get('id'));
  const body = h('div', {}, loadingLine());
  const msg = message();
  const code = field({ id: 'ad-item-code', label: t('ad.itemCode'), maxlength: 40, required: true, 'data-testid': 'ad-item-code' });
  const fieldsBox = h('div', {});
  let terms = null;
  const form = h('form', { class: 'form', 'data-testid': 'ad-item-form' }, code.node, fieldsBox,
    h('button', { type: 'submit', class: 'btn btn--primary btn--block' }, t('ad.addItem')), msg);
  const search = h('input', { id: 'ad-item-search', type: 'search', placeholder: t('ad.search'), maxlength: 64, 'data-testid': 'ad-item-search' });
  const kindFilter = select('ad-item-kind-filter', ITEM_KINDS.map((k) => [k, t(`el.kind.${k}`)]), { empty: t('ad.anyKind') });
  const ownerFilter = select('ad-item-owner-filter', [], { empty: t('ad.anyOwner') });
  let units = [];
  let townships = [];
  const list = () => pagedList({
    fetchPage: (cursor) => request('GET', `/items${qs({ limit: 50, cursor, q: search.value.trim(), kind: kindFilter.value, owner_unit_id: ownerFilter.value })}`),
    renderItem: (item) => itemRow(item, units, townships),
    emptyKey: search.value.trim() || kindFilter.value || ownerFilter.value ? 'ad.noMatch' : 'ad.noItems',
    errorMessage: problemText,
    testid: 'ad-items',
  });
  const show = () => fill(body, list().node);
  let pending = null;
  search.addEventListener('input', () => { clearTimeout(pending); pending = setTimeout(show, 300); });
  kindFilter.addEventListener('change', show);
  ownerFilter.addEventListener('change', show);
  const load = () => allUnits().then((all) => {
    units = all;
    townships = townshipsOf(all);
    terms = itemFields('ad-item', all);
    fill(fieldsBox, ...terms.nodes);
    fill(ownerFilter, h('option', { value: '' }, t('ad.anyOwner')), ...departments(all).map((u) => h('option', { value: u.id }, u.name)));
    show();
  }, (err) => fill(body, loadError(problemText(err), load)));
  submitter(form, msg, () => {
    const payload = { code: code.input.value.trim(), ...terms.value() };
    if (payload.full_recording === null) delete payload.full_recording;
    return request('POST', '/items', { body: payload });
  }, (item) => t('ad.itemAdded', { code: item.code }), () => { code.input.value = ''; terms.reset(); show(); });
  load();
  return {
    node: h('section', { class: 'page page--admin-items' }, backLink('#/admin', 'ad.back'), pageHeading('ad.itemsTitle'),
      card('ad.addItem', form),
      card('ad.catalogue', h('div', { class: 'ad-inline' }, search, labelled('ad-item-kind-filter', t('ad.itemKind'), kindFilter),
        labelled('ad-item-owner-filter', t('ad.owner'), ownerFilter)), body)),
  };
}

// ---- #/admin/users ---------------------------------------------------------------------------

function roleChoices(name, value = []) {
  return choices({ name, legend: t('ad.roles'), type: 'checkbox', value, options: ROLES.map((r) => ({ value: r, label: t(`ad.role.${r}`) })) });
}

function unitChoices(name, units, value = []) {
  return choices({
    name, legend: t('ad.units'), type: 'checkbox', value, cls: 'choices--compact',
    options: units.map((u) => ({ value: u.id, label: u.name, detail: unitKind(u.kind) })),
  });
}

function userRow(u) {
  const cert = u.certificate;
  return h('li', { 'data-testid': 'ad-user', 'data-username': u.username },
    h('a', { class: 'row', href: `#/admin/users/${enc(u.id)}` },
      h('span', { class: 'row__title' }, `${u.display_name}（${u.username}）`),
      h('span', { class: 'row__meta' }, [
        (u.roles || []).map((r) => t(`ad.role.${r}`)).join('、'),
        (u.units || []).map((x) => x.name).join('、'),
        u.active === false ? t('ad.disabled') : '',
        cert ? t('ad.certShort', { status: t(`ad.cert.${cert.status}`) }) : '',
      ].filter(Boolean).join(' · '))));
}

export function adminUsersPage() {
  reportStyles();
  const msg = message();
  const username = field({ id: 'ad-user-username', label: t('ad.username'), hint: t('ad.usernameHint'), maxlength: 64, required: true, 'data-testid': 'ad-user-username' });
  const display = field({ id: 'ad-user-name', label: t('ad.displayName'), maxlength: 100, required: true, 'data-testid': 'ad-user-name' });
  const password = field({ id: 'ad-user-password', label: t('ad.password'), hint: t('ad.passwordHint'), type: 'password', minlength: 8, maxlength: 128, required: true, autocomplete: 'new-password', 'data-testid': 'ad-user-password' });
  const phone = field({ id: 'ad-user-phone', label: t('ad.phone'), maxlength: 32, optional: true });
  const roles = roleChoices('ad-user-roles', ['officer']);
  const unitsBox = h('div', {}, loadingLine());
  let unitPick = null;
  const form = h('form', { class: 'form', 'data-testid': 'ad-user-form' }, username.node, display.node, password.node, phone.node, roles.node, unitsBox,
    h('button', { type: 'submit', class: 'btn btn--primary btn--block' }, t('ad.addUser')), msg);
  const listBox = h('div', {});
  const search = h('input', { id: 'ad-user-search', type: 'search', placeholder: t('ad.userSearch'), maxlength: 64, 'data-testid': 'ad-user-search' });
  const role = select('ad-user-role', ROLES.map((r) => [r, t(`ad.role.${r}`)]), { empty: t('ad.anyRole') });
  const show = () => fill(listBox, pagedList({
    fetchPage: (cursor) => request('GET', `/users${qs({ limit: 50, cursor, q: search.value.trim(), role: role.value })}`),
    renderItem: userRow, emptyKey: 'ad.noUsers', errorMessage: problemText, testid: 'ad-users',
  }).node);
  let pending = null;
  search.addEventListener('input', () => { clearTimeout(pending); pending = setTimeout(show, 300); });
  role.addEventListener('change', show);
  allUnits().then((units) => {
    unitPick = unitChoices('ad-user-units', units.sort((a, b) => a.name.localeCompare(b.name, 'zh')));
    fill(unitsBox, unitPick.node);
  }, (err) => fill(unitsBox, loadError(problemText(err))));
  submitter(form, msg, () => request('POST', '/users', {
    body: {
      username: username.input.value.trim(), display_name: display.input.value.trim(), password: password.input.value,
      roles: roles.value(), unit_ids: unitPick ? unitPick.value() : [], phone: phone.input.value.trim() || null,
    },
  }), (u) => t('ad.userAdded', { name: u.display_name }), () => { username.input.value = ''; password.input.value = ''; show(); });
  show();
  return {
    node: h('section', { class: 'page page--admin-users' }, backLink('#/admin', 'ad.back'), pageHeading('ad.usersTitle'),
      card('ad.addUser', form), card('ad.userList', h('div', { class: 'ad-inline' }, search, labelled('ad-user-role', t('ad.roles'), role)), listBox)),
  };
}

// ---- #/admin/users/<id> ------------------------------------------------------------------------

function certificateCard(user, reload) {
  const cert = user.certificate;
  const msg = message();
  const number = field({ id: 'ad-cert-number', label: t('ad.certNumber'), maxlength: 40, required: true, value: cert ? cert.number : '', 'data-testid': 'ad-cert-number' });
  const issued = field({ id: 'ad-cert-issued', label: t('ad.issuedOn'), type: 'date', required: true, 'data-testid': 'ad-cert-issued' });
  const expires = field({ id: 'ad-cert-expires', label: t('ad.expiresOn'), type: 'date', required: true, 'data-testid': 'ad-cert-expires' });
  const area = field({ id: 'ad-cert-field', label: t('ad.certField'), maxlength: 60, optional: true });
  const form = h('form', { class: 'form', 'data-testid': 'ad-cert-form' }, number.node, issued.node, expires.node, area.node,
    h('button', { type: 'submit', class: 'btn btn--primary btn--block' }, cert ? t('ad.renew') : t('ad.issue')), msg);
  submitter(form, msg, () => request('PUT', `/users/${enc(user.id)}/certificate`, {
    body: { number: number.input.value.trim(), issued_on: issued.input.value, expires_on: expires.input.value, field: area.input.value.trim() },
  }), () => t('ad.certSaved'), reload);
  const reason = field({ id: 'ad-cert-reason', label: t('ad.revokeReason'), maxlength: 500, required: true, 'data-testid': 'ad-cert-reason' });
  const revokeMsg = message();
  const revoke = h('form', { class: 'form', 'data-testid': 'ad-revoke-form' }, reason.node,
    h('button', { type: 'submit', class: 'btn btn--danger btn--block' }, t('ad.revoke')), revokeMsg);
  submitter(revoke, revokeMsg, () => request('POST', `/users/${enc(user.id)}/certificate/revoke`, { body: { reason: reason.input.value.trim() } }),
    () => t('ad.revoked'), reload);
  const pauseReason = field({ id: 'ad-cert-pause-reason', label: t('ad.pauseReason'), maxlength: 500, required: true, 'data-testid': 'ad-cert-pause-reason' });
  const pauseMsg = message();
  const suspended = cert && cert.status === 'suspended';
  const pause = h('form', { class: 'form', 'data-testid': 'ad-pause-form' }, pauseReason.node,
    h('button', { type: 'submit', class: 'btn btn--secondary btn--block' }, suspended ? t('ad.reinstate') : t('ad.suspend')), pauseMsg);
  submitter(pause, pauseMsg, () => request('POST', `/users/${enc(user.id)}/certificate/${suspended ? 'reinstate' : 'suspend'}`, { body: { reason: pauseReason.input.value.trim() } }),
    () => (suspended ? t('ad.reinstated') : t('ad.suspended')), reload);
  return card('ad.certificate',
    cert ? facts([
      [t('ad.certNumber'), cert.number],
      [t('ad.certStatus'), t(`ad.cert.${cert.status}`), 'ad-cert-status'],
      [t('ad.expiresOn'), formatDate(cert.expires_on)],
    ]) : h('p', { class: 'muted', 'data-testid': 'ad-cert-none' }, t('ad.noCertificate')),
    form,
    cert && ['valid', 'suspended'].includes(cert.status)
      ? h('details', { class: 'ad-details' }, h('summary', {}, suspended ? t('ad.reinstate') : t('ad.suspend')), pause) : null,
    cert && cert.status !== 'revoked' ? h('details', { class: 'ad-details' }, h('summary', {}, t('ad.revoke')), revoke) : null);
}

export function adminUserPage({ params }) {
  reportStyles();
  const body = h('div', { class: 'page__body' }, loadingLine());
  const load = () => Promise.all([request('GET', `/users/${enc(params.id)}`), allUnits()]).then(([user, units]) => {
    const msg = message();
    const roles = roleChoices('ad-edit-roles', user.roles || []);
    const unitPick = unitChoices('ad-edit-units', units.sort((a, b) => a.name.localeCompare(b.name, 'zh')), (user.units || []).map((u) => u.id));
    const active = h('input', { id: 'ad-edit-active', type: 'checkbox', class: 'choice__box', 'data-testid': 'ad-edit-active' });
    active.checked = user.active !== false;
    const password = field({ id: 'ad-edit-password', label: t('ad.newPassword'), hint: t('ad.passwordHint'), type: 'password', minlength: 8, maxlength: 128, optional: true, autocomplete: 'new-password' });
    const form = h('form', { class: 'form', 'data-testid': 'ad-edit-form' }, roles.node, unitPick.node,
      h('label', { class: 'choice', for: 'ad-edit-active' }, active, h('span', { class: 'choice__text' }, t('ad.active'))),
      password.node, h('button', { type: 'submit', class: 'btn btn--primary btn--block' }, t('ad.save')), msg);
    submitter(form, msg, () => {
      const payload = { roles: roles.value(), unit_ids: unitPick.value(), active: active.checked };
      if (password.input.value) payload.password = password.input.value;
      return request('PATCH', `/users/${enc(user.id)}`, { body: payload });
    }, () => t('ad.saved'), () => { password.input.value = ''; });
    const accessMsg = message();
    const linkBox = h('div', { 'data-testid': 'ad-password-link' });
    const makeLink = h('button', { type: 'button', class: 'btn btn--secondary', 'data-testid': 'ad-make-link' }, t('ad.passwordLink'));
    makeLink.addEventListener('click', () => {
      makeLink.disabled = true;
      request('POST', `/users/${enc(user.id)}/password-reset`)
        .then((r) => fill(linkBox, h('p', {}, t('ad.passwordLinkMade')),
          h('input', { type: 'text', readonly: true, value: `${location.origin}${r.link}`, class: 'ad-link-field', 'data-testid': 'ad-link-value' })))
        .catch((err) => say(accessMsg, problemText(err)))
        .finally(() => { makeLink.disabled = false; });
    });
    const unlock = h('button', { type: 'button', class: 'btn btn--secondary', 'data-testid': 'ad-unlock' }, t('ad.unlock'));
    unlock.addEventListener('click', () => {
      request('POST', `/users/${enc(user.id)}/unlock`)
        .then((r) => say(accessMsg, r.was_locked ? t('ad.unlocked') : t('ad.notLocked')))
        .catch((err) => say(accessMsg, problemText(err)));
    });
    fill(body,
      h('h2', { class: 'page__subtitle', 'data-testid': 'ad-user-title' }, `${user.display_name}（${user.username}）`),
      h('a', { class: 'ad-link', href: `#/audit${qs({ object_id: user.id })}` }, t('ad.history')),
      card('ad.account', form),
      card('ad.access', makeLink, linkBox, unlock, accessMsg),
      (user.roles || []).includes('officer') ? certificateCard(user, load) : null);
  }, (err) => fill(body, loadError(problemText(err), load)));
  load();
  return { node: h('section', { class: 'page page--admin-user' }, backLink('#/admin/users', 'ad.backUsers'), pageHeading('ad.userTitle'), body) };
}
