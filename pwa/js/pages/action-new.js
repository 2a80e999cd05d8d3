// #/officer/new "新建执法记录", in steps a thumb can do: 事项 (unit, item, type) → 人员 (partners) →
// 当事人 → 现场 (time, GPS, address, notes) → 取证 (photos, videos) → 提交 (a summary to check).
// Each step is checked when leaving it, the message standing at the field. Without a GPS fix the
// record can still be saved, marked 未定位, with the address required instead. The record is kept in
// the outbox on the phone as it is filled in, and sent from there: at once when there is a network,
// otherwise as soon as one returns.

import { fill, h, nextId, restoreValues } from '../dom.js';
import { t, formatDate, formatDateTime } from '../i18n.js';
import { ApiError, errorMessage } from '../api.js';
import { cached } from '../offline-cache.js';
import { getEntry, keepStorage, saveAction } from '../store.js';
import { requestFlush, sendNow } from '../sender.js';
import { mediaSection } from '../media.js';
import { reportFix, shiftPartners } from '../duty.js';
import { certificateState } from './officer.js';
import {
  KINDS,
  actionPayload,
  api,
  backLink,
  choices,
  field,
  newId,
  say,
  setFlash,
} from '../enforcement.js';
import { loadError, loadingLine } from '../widgets.js';

const RECENT_KEY = 'fw.recentItems';
const RECENT_MAX = 5;
const COARSE_M = 100;

// ---- recently used items ------------------------------------------------------------------

function recentItems() {
  try {
    const v = JSON.parse(localStorage.getItem(RECENT_KEY) || '[]');
    return Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

function rememberItem(id) {
  const next = [id, ...recentItems().filter((x) => x !== id)].slice(0, RECENT_MAX);
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify(next));
  } catch {
    /* storage full or blocked: the order is a convenience only */
  }
}

// ---- the draft ------------------------------------------------------------------------------

/**
 * One draft per form, kept in the outbox (state `draft`, or `attention` after a refusal) from its
 * first change. Its id is chosen once, so a double tap, a retry after a lost answer or the outbox
 * replays the same record. The draft being edited is remembered per officer, so closing the app
 * and opening the form again continues it.
 */
let draft = null;

const draftKey = (user) => `fw.draftId.${user.id}`;

function rememberDraft(user, id) {
  try {
    if (id) localStorage.setItem(draftKey(user), id);
    else localStorage.removeItem(draftKey(user));
  } catch {
    /* storage blocked: the draft is still in the outbox */
  }
}

const FIELDS = ['id', 'unitId', 'itemId', 'kind', 'partnerIds', 'partyName', 'partyType', 'partyId', 'address', 'notes', 'occurredAt', 'location', 'step'];

export const STEPS = ['item', 'people', 'party', 'scene', 'evidence', 'review'];

function plain(d) {
  return JSON.parse(JSON.stringify(Object.fromEntries(FIELDS.map((k) => [k, d[k]]))));
}

/** The draft this officer left unfinished (or had refused), else a new one. */
async function resumeDraft(user) {
  let id = null;
  try {
    id = localStorage.getItem(draftKey(user));
  } catch {
    id = null;
  }
  const entry = id ? await getEntry(id).catch(() => null) : null;
  if (entry && entry.type === 'action' && entry.userId === String(user.id) && ['draft', 'attention'].includes(entry.state)) {
    return { ...freshDraft(user), ...entry.draft, id: entry.id, state: entry.state, error: entry.error, saved: true };
  }
  return freshDraft(user);
}

function freshDraft(user) {
  const units = Array.isArray(user.units) ? user.units : [];
  return {
    id: newId(),
    unitId: units.length === 1 ? units[0].id : '',
    itemId: '',
    kind: '',
    partnerIds: shiftPartners(),
    partyName: '',
    partyType: 'person',
    partyId: '',
    address: '',
    notes: '',
    occurredAt: new Date().toISOString(),
    location: null,
    locError: '',
    step: 'item',
    state: 'draft',
    error: null,
    saved: false,
  };
}

// ---- location -----------------------------------------------------------------------------

function locationErrorKey(err) {
  if (!err) return 'action.locUnavailable';
  if (err.code === 1) return 'action.locDenied';
  if (err.code === 3) return 'action.locTimeout';
  return 'action.locUnavailable';
}

function locationBlock(d, onLocated = () => {}, onChange = () => {}) {
  const status = h('p', { class: 'loc__status', role: 'status', 'data-testid': 'location-status' });
  const coords = h('p', { class: 'muted loc__coords' });
  const retry = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, t('action.locRetry'));
  let watching = true;

  function draw() {
    status.className = 'loc__status';
    coords.textContent = '';
    if (d.location) {
      const m = Math.round(d.location.accuracy_m);
      status.textContent = t('action.located', { m });
      status.classList.add('loc__status--ok');
      coords.textContent = `${d.location.lat.toFixed(5)}, ${d.location.lon.toFixed(5)}`;
      if (m > COARSE_M) coords.textContent += ` · ${t('action.locCoarse')}`;
    } else if (d.locError) {
      status.textContent = t(d.locError);
      status.classList.add('loc__status--bad');
    } else {
      status.textContent = t('action.locating');
    }
    retry.hidden = !d.location && !d.locError;
    onChange();
  }

  function locate() {
    if (!('geolocation' in navigator)) {
      d.locError = 'action.locUnsupported';
      draw();
      return;
    }
    d.locError = '';
    if (!d.location) draw();
    retry.disabled = true;
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        if (!watching) return;
        retry.disabled = false;
        // A record already queued must be sent exactly as it was saved.
        if (d.state === 'waiting' && d.location) return draw();
        const { latitude, longitude, accuracy } = pos.coords;
        d.location = { lat: latitude, lon: longitude, accuracy_m: Math.round(accuracy * 10) / 10 };
        reportFix(pos); // the precise fix also updates the command map, at no extra GPS cost
        d.locError = '';
        draw();
        onLocated();
      },
      (err) => {
        if (!watching) return;
        retry.disabled = false;
        if (!d.location) d.locError = locationErrorKey(err);
        draw();
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 },
    );
  }

  retry.addEventListener('click', locate);
  draw();
  if (!d.location) locate();
  const node = h('div', { class: 'loc', 'data-testid': 'location' }, status, coords, retry);
  return { node, retry, draw, stop: () => (watching = false) };
}

// ---- the page -----------------------------------------------------------------------------

export function newActionPage(ctx) {
  const title = h('h1', { class: 'page__title', tabindex: '-1' }, t('action.newTitle'));
  const node = h('section', { class: 'page page--form' }, backLink('#/officer', 'officer.title'), title, loadingLine());
  let view = null;
  let gone = false;
  (async () => {
    if (!draft || !ctx.refresh) draft = await resumeDraft(ctx.user);
    if (gone) return;
    view = formView(ctx, draft);
    fill(node, backLink('#/officer', 'officer.title'), title, view.children);
  })();
  return {
    node,
    cleanup: () => {
      gone = true;
      if (view) view.cleanup();
    },
  };
}

function formView({ user, restore, navigate }, d) {
  const units = Array.isArray(user.units) ? user.units : [];
  const canAct = certificateState(user.certificate) === 'valid';

  const error = h('div', { class: 'alert', role: 'alert', 'data-testid': 'form-error' });
  const pendingNote = h('p', { class: 'notice', role: 'status', 'data-testid': 'draft-note' },
    d.state === 'attention' ? t('action.refusedBefore') : d.saved ? t('action.draftResumed') : '');
  const body = h('div', { class: 'form-body' });
  let onLocationChange = () => {}; // set once the address field exists
  const loc = locationBlock(d, () => {
    if (inline && loc.node.contains(inline.box)) clearInvalid();
  }, () => onLocationChange());

  const stepper = h('ol', { class: 'formsteps', 'aria-label': t('action.steps'), 'data-testid': 'form-steps' },
    STEPS.map((name, i) => h('li', { class: 'formsteps__item' },
      h('button', { type: 'button', class: 'formsteps__step', 'data-step': name },
        h('span', { class: 'formsteps__n', 'aria-hidden': 'true' }, String(i + 1)),
        h('span', { class: 'formsteps__label' }, t(`action.step.${name}`))))));
  const back = h('button', { type: 'button', class: 'btn btn--secondary btn--xl', 'data-testid': 'step-back' }, t('action.prev'));
  const submit = h('button', { type: 'submit', class: 'btn btn--primary btn--xl', 'data-testid': 'step-next' }, t('action.next'));
  const nav = h('div', { class: 'form-nav' }, back, submit);
  const form = h('form', { class: 'form form--steps', novalidate: true }, stepper, body, error, nav);

  let officers = []; // unit officers other than me, as returned
  let items = [];
  let busy = false;
  let alive = true;
  let dirty = d.saved;
  let saveTimer = null;

  function summary() {
    const item = items.find((i) => i.id === d.itemId);
    const unit = units.find((u) => u.id === d.unitId);
    const people = new Map(officers.map((o) => [String(o.id), o.display_name || o.username]));
    return {
      itemName: item ? item.name : '',
      itemCode: item ? item.code : '',
      unitName: unit ? unit.name : '',
      partners: d.partnerIds.map((id) => people.get(String(id)) || ''),
    };
  }

  /** Write the draft to the outbox (state unchanged, or `state`). */
  async function saveDraft(state = d.state) {
    clearTimeout(saveTimer);
    const payload = state === 'waiting' ? actionPayload(d, user.id) : null;
    await saveAction({ id: d.id, payload, draft: plain(d), summary: summary(), state });
    d.state = state;
    d.saved = true;
    if (state === 'draft' || state === 'attention') rememberDraft(user, d.id);
  }

  function saveSoon() {
    dirty = true;
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => {
      if (alive && d.state !== 'waiting') saveDraft().catch(() => {});
    }, 400);
  }

  const media = mediaSection({
    actionId: () => d.id,
    location: () => (d.location ? { ...d.location } : null),
    ensureSaved: async () => {
      dirty = true;
      if (d.state !== 'waiting') await saveDraft();
    },
  });

  // -- sections that do not depend on the server

  const kind = choices({
    name: 'kind',
    legend: t('action.kind'),
    options: KINDS.map((k) => ({ value: k, label: t(`kind.${k}`) })),
    value: d.kind,
    cls: 'choices--chips',
  });
  kind.node.addEventListener('change', () => {
    d.kind = kind.value();
  });

  const partyName = field({ id: 'party-name', label: t('action.partyName'), value: d.partyName, optional: true, autocomplete: 'off' });
  const partyType = choices({
    name: 'party-type',
    legend: t('action.partyType'),
    options: ['person', 'organisation'].map((p) => ({ value: p, label: t(`party.${p}`) })),
    value: d.partyType,
    cls: 'choices--chips',
  });
  const partyId = field({
    id: 'party-id',
    label: t('action.partyId'),
    hint: t('action.partyIdHint'),
    value: d.partyId,
    optional: true,
    autocomplete: 'off',
    autocapitalize: 'characters',
    spellcheck: 'false',
    maxlength: 40,
  });
  partyName.input.addEventListener('input', () => (d.partyName = partyName.input.value));
  partyType.node.addEventListener('change', () => (d.partyType = partyType.value()));
  partyId.input.addEventListener('input', () => (d.partyId = partyId.input.value));
  const partyId2 = nextId('sec');
  const party = h('fieldset', { class: 'group group--box', 'aria-labelledby': partyId2 },
    h('legend', { id: partyId2, class: 'group__legend' }, t('action.party')),
    partyName.node, partyType.node, partyId.node);

  const address = field({ id: 'address', label: t('action.address'), hint: t('action.addressHint'), value: d.address, optional: true, maxlength: 300 });
  address.input.addEventListener('input', () => (d.address = address.input.value));
  // Without a fix the address is what says where: it is then required, and the page says so.
  const unlocatedNote = h('p', { class: 'notice notice--warn', role: 'status', 'data-testid': 'unlocated-note' });
  const addressOptional = address.node.querySelector('.field__optional');
  function drawAddressRule() {
    const needed = !d.location && Boolean(d.locError);
    unlocatedNote.textContent = needed ? t('action.unlocatedNote') : '';
    unlocatedNote.hidden = !needed;
    if (addressOptional) addressOptional.hidden = !d.location;
    if (d.location) address.input.removeAttribute('aria-required');
    else address.input.setAttribute('aria-required', 'true');
  }
  onLocationChange = () => {
    drawAddressRule();
    if (d.step === 'review') drawReview();
  };
  const notes = field({ id: 'notes', label: t('action.notes'), value: d.notes, optional: true, multiline: true, maxlength: 4000 });
  notes.input.addEventListener('input', () => (d.notes = notes.input.value));

  const whenWhere = h('section', { class: 'card when' },
    h('h2', { class: 'card__title' }, t('action.location')),
    h('p', { class: 'when__time' }, `${t('action.time')}${t('common.colon')}`, h('strong', {}, formatDateTime(d.occurredAt))),
    loc.node);

  // -- sections that need the unit's items and officers

  const itemSlot = h('div', { class: 'slot' });
  const partnerSlot = h('div', { class: 'slot' });
  let itemGroup = null;
  let partnerGroup = null;

  function drawItems() {
    const search = h('input', {
      id: 'item-search',
      type: 'search',
      class: 'search',
      placeholder: t('action.itemSearch'),
      'aria-label': t('action.itemSearch'),
      autocomplete: 'off',
      enterkeyhint: 'search',
    });
    const none = h('p', { class: 'muted', hidden: true }, t('action.itemNone'));
    const recent = recentItems();
    const byRecent = (a, b) => {
      const ra = recent.indexOf(a.id);
      const rb = recent.indexOf(b.id);
      return (ra < 0 ? 99 : ra) - (rb < 0 ? 99 : rb) || String(a.code).localeCompare(String(b.code));
    };
    const recentList = items.filter((i) => recent.includes(i.id)).sort(byRecent);
    const others = items.filter((i) => !recent.includes(i.id));
    const option = (i) => ({
      value: i.id,
      label: i.name,
      detail: [i.code, i.authority === 'delegated' ? t('action.itemDelegated') : ''].filter(Boolean).join(' · '),
    });
    const groups = [];
    if (recentList.length) groups.push([t('action.itemRecent'), recentList]);
    if (others.length) groups.push([recentList.length ? t('action.itemAll') : '', others]);

    const inputs = [];
    const lists = groups.map(([title, list]) => {
      const c = choices({ name: 'item', legend: title || t('action.item'), options: list.map(option), value: d.itemId });
      inputs.push(...c.inputs);
      c.node.classList.add('group--sub');
      if (!title) c.node.querySelector('legend').classList.add('visually-hidden');
      return c.node;
    });
    const hintId = nextId('hint');
    itemGroup = h('fieldset', { class: 'group', 'data-testid': 'items', 'aria-describedby': hintId },
      h('legend', { class: 'group__legend' }, t('action.item')),
      items.length ? search : null,
      h('p', { id: hintId, class: 'visually-hidden' }, t('action.itemSearch')),
      items.length ? lists : h('p', { class: 'alert alert--static' }, t('action.itemEmpty')),
      none);
    itemGroup.addEventListener('change', (e) => {
      if (e.target.name === 'item') d.itemId = e.target.value;
    });
    search.addEventListener('input', () => {
      const q = search.value.trim().toLowerCase();
      let shown = 0;
      for (const input of inputs) {
        const label = input.closest('.choice');
        const hit = !q || label.textContent.toLowerCase().includes(q) || input.checked;
        label.hidden = !hit;
        if (hit) shown += 1;
      }
      for (const fs of itemGroup.querySelectorAll('.group--sub')) {
        fs.hidden = ![...fs.querySelectorAll('.choice')].some((l) => !l.hidden);
      }
      none.hidden = shown > 0;
    });
    itemSlot.replaceChildren(itemGroup);
  }

  function drawPartners() {
    const mine = String(user.id);
    const others = officers.filter((o) => String(o.id) !== mine && o.active !== false);
    const ok = others.filter((o) => certificateState(o.certificate) === 'valid');
    const blocked = others.filter((o) => certificateState(o.certificate) !== 'valid');
    d.partnerIds = d.partnerIds.filter((id) => ok.some((o) => o.id === id));
    const hintId = nextId('hint');
    const group = choices({
      name: 'partner',
      type: 'checkbox',
      legend: t('action.partners'),
      describedBy: hintId,
      options: ok.map((o) => ({
        value: o.id,
        label: o.display_name || o.username,
        detail: `${t('cert.title')}${t('common.colon')}${
          o.certificate && o.certificate.expires_on
            ? t('cert.validUntil', { date: formatDate(o.certificate.expires_on) })
            : t('cert.valid')
        }`,
      })),
      value: d.partnerIds,
    });
    partnerGroup = group.node;
    partnerGroup.dataset.testid = 'partners';
    partnerGroup.insertBefore(h('p', { id: hintId, class: 'field__hint' }, t(ok.length ? 'action.partnersHint' : 'action.partnersNone')),
      partnerGroup.querySelector('.choices'));
    if (blocked.length) {
      partnerGroup.append(h('p', { class: 'blocked', 'data-testid': 'partners-blocked' }, t('action.partnersBlocked'), ' ',
        blocked.map((o) => `${o.display_name || o.username}（${t(`cert.${certificateState(o.certificate)}`)}）`).join('、')));
    }
    partnerGroup.addEventListener('change', () => {
      d.partnerIds = group.value();
    });
    partnerSlot.replaceChildren(partnerGroup);
  }

  let unitGroup = null;
  if (units.length > 1) {
    const g = choices({
      name: 'unit',
      legend: t('action.unit'),
      options: units.map((u) => ({ value: u.id, label: u.name })),
      value: d.unitId,
    });
    unitGroup = g.node;
    unitGroup.addEventListener('change', () => {
      d.unitId = g.value();
      d.itemId = '';
      d.partnerIds = [];
      loadUnit();
    });
  }

  async function loadUnit() {
    if (!d.unitId) {
      itemSlot.replaceChildren();
      partnerSlot.replaceChildren();
      return;
    }
    const unitId = d.unitId;
    itemSlot.replaceChildren(loadingLine());
    partnerSlot.replaceChildren();
    try {
      const [its, offs] = await Promise.all([
        cached(`items:${unitId}`, () => api.items(unitId)),
        cached(`officers:${unitId}`, () => api.officers(unitId)),
      ]);
      if (!alive || unitId !== d.unitId) return;
      items = its.value;
      officers = offs.value;
      drawItems();
      drawPartners();
      const savedAt = its.offline ? its.savedAt : offs.offline ? offs.savedAt : null;
      offlineNote.textContent = savedAt ? t('action.catalogueOffline', { time: formatDateTime(savedAt) }) : '';
      if (restore) restoreValues(form, restore);
    } catch (err) {
      if (!alive) return;
      const offline = err instanceof ApiError && (err.status === 0 || err.code.startsWith('network.'));
      itemSlot.replaceChildren(loadError(offline ? t('action.catalogueMissing') : `${t('action.loadFailed')}${errorMessage(err)}`, loadUnit));
    }
  }

  const offlineNote = h('p', { class: 'notice', role: 'status', 'data-testid': 'catalogue-note' });
  const reviewBox = h('div', { class: 'summary-list', 'data-testid': 'review' });
  const contents = {
    item: [unitGroup, offlineNote, itemSlot, kind.node],
    people: [partnerSlot],
    party: [party],
    scene: [whenWhere, unlocatedNote, address.node, notes.node],
    evidence: [media.node],
    review: [reviewBox],
  };
  const panels = new Map(STEPS.map((name, i) => {
    const titleId = nextId('step');
    const heading = h('h2', { id: titleId, class: 'step__title', tabindex: '-1' },
      h('span', { class: 'step__count' }, t('action.stepOf', { n: i + 1, total: STEPS.length })), ' ',
      t(`action.step.${name}`));
    return [name, h('div', { class: 'step', 'data-step': name, role: 'group', 'aria-labelledby': titleId, hidden: true },
      heading, ...contents[name])];
  }));
  fill(body, ...panels.values());
  drawAddressRule();
  form.addEventListener('input', saveSoon);
  form.addEventListener('change', saveSoon);

  // -- the steps

  function mediaCount() {
    return media.node.querySelectorAll('[data-testid="media-item"]').length;
  }

  function drawReview() {
    const s = summary();
    const where = d.location
      ? t('action.coords', { lat: d.location.lat.toFixed(5), lon: d.location.lon.toFixed(5), m: Math.round(d.location.accuracy_m) })
      : t('action.unlocated');
    const rows = [
      ['item', t('action.item'), s.itemCode ? `${s.itemCode} ${s.itemName}` : ''],
      ['item', t('action.kind'), d.kind ? t(`kind.${d.kind}`) : ''],
      ['people', t('action.partners'), s.partners.filter(Boolean).join('、')],
      ['party', t('action.party'), d.partyName.trim() ? `${d.partyName.trim()}（${t(`party.${d.partyType}`)}）` : t('action.notGiven')],
      ['scene', t('action.time'), formatDateTime(d.occurredAt)],
      ['scene', t('action.location'), where],
      ['scene', t('action.address'), d.address.trim() || t('action.notGiven')],
      ['evidence', t('action.evidence'), t('action.evidenceCount', { n: mediaCount() })],
    ];
    reviewBox.replaceChildren(h('dl', { class: 'summary-list__list' }, rows.map(([step, label, value]) => h('div', { class: 'summary-list__row', 'data-testid': `review-${step}` },
      h('dt', {}, label),
      h('dd', {}, value || t('action.notGiven'), ' ',
        h('button', { type: 'button', class: 'btn btn--link', 'data-goto': step },
          t('action.edit'), h('span', { class: 'visually-hidden' }, label)))))));
  }

  function show(name, { focus = true } = {}) {
    d.step = STEPS.includes(name) ? name : 'item';
    const at = STEPS.indexOf(d.step);
    for (const [step, panel] of panels) panel.hidden = step !== d.step;
    stepper.querySelectorAll('.formsteps__step').forEach((b, i) => {
      if (i === at) b.setAttribute('aria-current', 'step');
      else b.removeAttribute('aria-current');
      b.classList.toggle('formsteps__step--done', i < at);
    });
    back.hidden = at === 0;
    submit.textContent = d.step === 'review' ? t('action.submit') : t('action.next');
    if (d.step === 'review') drawReview();
    if (focus) {
      const heading = panels.get(d.step).querySelector('.step__title');
      heading.focus({ preventScroll: true });
      form.scrollIntoView({ block: 'start' });
    }
  }

  /** Whether a step is complete; if not, its message stands at the field. */
  function check(step) {
    if (step === 'item') {
      if (!d.unitId) return invalid(t('action.needUnit'), unitGroup);
      if (!d.itemId) return invalid(t('action.needItem'), itemGroup || itemSlot);
      if (!d.kind) return invalid(t('action.needKind'), kind.node);
    } else if (step === 'people') {
      if (!d.partnerIds.length) return invalid(t('action.needPartner'), partnerGroup || partnerSlot);
    } else if (step === 'party') {
      if (d.partyId.trim() && !d.partyName.trim()) return invalid(t('action.needPartyName'), partyName.input);
      if (d.partyId.trim() && !/^[0-9A-Za-z]+$/.test(d.partyId.trim())) return invalid(t('action.badPartyId'), partyId.input);
    } else if (step === 'scene') {
      if (!d.location && !d.address.trim()) return invalid(t('action.needAddress'), address.input);
    }
    return true;
  }

  /** Go to a step; going forward checks every step on the way and stops at the first one not done. */
  function go(name) {
    clearInvalid();
    say(error, '');
    const from = STEPS.indexOf(d.step);
    const to = STEPS.indexOf(name);
    for (let i = from; i < to; i += 1) {
      if (!check(STEPS[i])) return false;
    }
    show(name);
    saveSoon();
    return true;
  }

  stepper.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-step]');
    if (b) go(b.dataset.step);
  });
  reviewBox.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-goto]');
    if (b) go(b.dataset.goto);
  });
  back.addEventListener('click', () => {
    const at = STEPS.indexOf(d.step);
    if (at > 0) go(STEPS[at - 1]);
  });

  // -- submission

  // A message about one field stands at that field (the screen goes there, not to the bottom) and
  // goes away as soon as the field is changed; the line above the button repeats it.
  let inline = null;

  function clearInvalid() {
    if (!inline) return;
    inline.off();
    inline.msg.remove();
    if (inline.control) inline.control.removeAttribute('aria-invalid');
    if (error.textContent === inline.text) error.textContent = '';
    inline = null;
  }

  function invalid(message, target) {
    clearInvalid();
    if (!target) {
      say(error, message);
      return false;
    }
    const box = target.matches('input, textarea') ? target.closest('.field') || target.parentNode : target;
    const control = target.matches('input, textarea, button') ? target : target.querySelector('input:not([type=search]), button');
    const msg = h('p', { class: 'field__error', role: 'alert', 'data-testid': 'field-error' }, message);
    if (control && control.matches('input, textarea') && target.matches('input, textarea')) control.after(msg);
    else box.append(msg);
    if (control && control.matches('input, textarea')) control.setAttribute('aria-invalid', 'true');
    // The field may be on another step (a refusal from the server, or a check at the end): go there.
    const panel = box.closest('[data-step]');
    if (panel && panel.dataset.step !== d.step) show(panel.dataset.step, { focus: false });
    const fixed = () => clearInvalid();
    box.addEventListener('input', fixed);
    box.addEventListener('change', fixed);
    inline = {
      msg,
      control,
      text: message,
      box,
      off: () => {
        box.removeEventListener('input', fixed);
        box.removeEventListener('change', fixed);
      },
    };
    error.textContent = message;
    if (control) control.focus({ preventScroll: true });
    box.scrollIntoView({ block: 'center' });
    return false;
  }

  function validate() {
    return STEPS.every((step) => check(step));
  }

  function names() {
    const people = new Map(officers.map((o) => [String(o.id), o.display_name || o.username]));
    const states = new Map(officers.map((o) => [String(o.id), certificateState(o.certificate)]));
    return { people, states, me: user.id };
  }

  function refusal(entryError) {
    const err = new ApiError({ status: entryError.status, code: entryError.code, extra: entryError.extra });
    if (err.code === 'idempotency.mismatch') invalid(t('action.mismatch'));
    else invalid(errorMessage(err, names()), refusalTarget(err));
  }

  /** Saved on the phone; it goes when there is a network. */
  function queued() {
    requestFlush(); // registers a Background Sync where the browser has one
    rememberDraft(user, null);
    rememberItem(d.itemId);
    if (draft === d) draft = null;
    setFlash(t('outbox.savedOffline'));
    navigate('officer/outbox');
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    if (d.step !== 'review') {
      go(STEPS[STEPS.indexOf(d.step) + 1]); // Enter or 下一步: the next step
      return;
    }
    clearInvalid();
    say(error, '');
    if (!canAct) return invalid(t('officer.newBlocked'));
    if (!validate()) return;
    busy = true;
    submit.disabled = true;
    submit.textContent = t('common.submitting');
    try {
      await saveDraft('waiting');
      keepStorage();
      if (!navigator.onLine) return queued();
      let entry;
      try {
        entry = await sendNow(d.id);
      } catch {
        return queued(); // no answer: the outbox sends it, with the same id, when it can
      }
      if (entry.state === 'sent') {
        rememberDraft(user, null);
        rememberItem(d.itemId);
        if (draft === d) draft = null;
        setFlash(t('action.saved'));
        navigate(`officer/actions/${d.id}`);
        return;
      }
      d.state = 'attention';
      rememberDraft(user, d.id);
      pendingNote.textContent = '';
      refusal(entry.error);
    } catch (err) {
      invalid(t('outbox.saveFailed', { reason: (err && err.message) || '' }));
    } finally {
      busy = false;
      submit.disabled = false;
      submit.textContent = d.step === 'review' ? t('action.submit') : t('action.next');
    }
  });

  function refusalTarget(err) {
    const who = err.extra && err.extra.officer_id ? String(err.extra.officer_id) : '';
    if (err.code === 'item.not_authorised' && itemGroup) {
      // Show every item again so another can be chosen.
      const search = itemGroup.querySelector('#item-search');
      if (search && search.value) {
        search.value = '';
        search.dispatchEvent(new Event('input'));
      }
      return itemGroup;
    }
    if (who && who !== String(user.id) && partnerGroup) {
      const box = partnerGroup.querySelector(`input[value="${CSS.escape(who)}"]`);
      return box ? box.closest('.choice') : partnerGroup;
    }
    if (err.code === 'action.two_officers_required') return partnerGroup;
    return null;
  }

  if (d.state === 'attention' && d.error) setTimeout(() => alive && say(error, d.error.message || t('err.unknown')), 0);
  show(d.state === 'attention' ? 'review' : d.step, { focus: false });
  loadUnit();
  return {
    children: [canAct ? null : h('p', { class: 'alert alert--static' }, t('officer.newBlocked')), pendingNote, form],
    cleanup: () => {
      alive = false;
      loc.stop();
      media.stop();
      // Leaving the page keeps what was typed (a record in progress is never thrown away).
      if (dirty && d.state !== 'waiting' && d.state !== 'sent') saveDraft().catch(() => {});
    },
  };
}
