// #/cases (my unit's cases) and #/cases/<id>: progress, investigation, workflow steps, legal review.

import { fill, h, nextId, restoreValues } from '../dom.js';
import { t, formatDate, formatDateTime, beijingToday } from '../i18n.js';
import { ApiError, errorMessage } from '../api.js';
import {
  OPEN_STATUSES,
  OUTCOMES,
  STEPS,
  api,
  backLink,
  choices,
  clockRow,
  facts,
  field,
  money,
  pagedList,
  parseMoney,
  partyText,
  personName,
  say,
  splitMeasures,
  takeFlash,
} from '../enforcement.js';
import { card, loadError, loadingLine, reversedNote, statusBadge } from '../widgets.js';
import { draftFromButton } from '../caps.js';
import { canShare, shareCard } from '../share.js';
import { evidenceGrid } from './actions.js';

const PAGE_SIZE = 20;
/** Service methods are stored as the words on the form of service (送达回证), whatever the UI language. */
const SERVE_METHODS = { direct: '直接送达', left: '留置送达', mail: '邮寄送达', electronic: '电子送达', notice: '公告送达' };

function roles(user) {
  return new Set(Array.isArray(user.roles) ? user.roles : []);
}

function caseTitle(c) {
  return c && c.number ? `${t('case.title')} ${c.number}` : t('case.title');
}

export function caseRow(c, extra) {
  const fine = c.proposed_decision && c.proposed_decision.fine != null ? c.proposed_decision.fine : null;
  return h('li', {},
    h('a', { class: 'row', href: `#/cases/${encodeURIComponent(c.id)}`, 'data-testid': 'case-row', 'data-id': c.id },
      h('span', { class: 'row__head' }, h('span', { class: 'row__title' }, c.number || t('case.title')), statusBadge(c.status)),
      h('span', { class: 'row__meta' }, c.item_name || c.item_code),
      c.party && c.party.name ? h('span', { class: 'row__meta' }, `${t('case.party')}${t('common.colon')}${c.party.name}`) : null,
      fine != null ? h('span', { class: 'row__meta' }, `${t('case.proposedFine')}${t('common.colon')}${money(fine)}`) : null,
      h('span', { class: 'row__meta' }, `${c.unit_name || ''} · ${formatDateTime(c.updated_at || c.created_at)}`),
      reversedNote(c, { inline: true }),
      extra || null));
}

export function casesPage({ user }) {
  const list = pagedList({
    fetchPage: (cursor) => api.cases({ limit: PAGE_SIZE, cursor }),
    renderItem: (c) => caseRow(c),
    emptyKey: 'cases.empty',
    errorMessage,
    testid: 'cases',
  });
  const home = roles(user).has('officer') ? '#/officer' : roles(user).has('legal_reviewer') ? '#/reviewer' : '#/supervisor';
  const node = h('section', { class: 'page page--list' },
    backLink(home, home === '#/officer' ? 'officer.title' : home === '#/reviewer' ? 'reviewer.title' : 'supervisor.title'),
    h('h1', { class: 'page__title', tabindex: '-1' }, t('cases.title')),
    list.node);
  return { node };
}

// ---- progress -----------------------------------------------------------------------------

/** The stages this case goes through, each done / current / todo. */
export function stages(c) {
  const reviews = Array.isArray(c.reviews) ? c.reviews : [];
  const seq = ['filed', 'investigating'];
  if (c.major_case || reviews.length || c.status === 'review') seq.push('review');
  if (c.status === 'transferred') {
    if (c.decision) seq.push('decided');
    if (c.served_on) seq.push('served');
    seq.push('transferred');
  } else {
    seq.push('decided', 'served', 'closed');
  }
  const at = seq.indexOf(c.status);
  const final = c.status === 'closed' || c.status === 'transferred';
  return seq.map((s, i) => ({ stage: s, state: i < at || (final && i === at) ? 'done' : i === at ? 'current' : 'todo' }));
}

function stepper(c) {
  const id = nextId('sec');
  return h('section', { class: 'progress', 'aria-labelledby': id },
    h('h2', { id, class: 'visually-hidden' }, t('case.progress')),
    h('ol', { class: 'stepper', 'data-testid': 'stepper' },
      stages(c).map(({ stage, state }, i) => {
        const current = stage === c.status;
        return h('li', { class: `stepper__step is-${state}${current ? ' is-at' : ''}`, 'aria-current': current ? 'step' : null, 'data-stage': stage },
          h('span', { class: 'stepper__mark', 'aria-hidden': 'true' }, state === 'done' ? '✓' : String(i + 1)),
          h('span', { class: 'stepper__label' }, t(`stage.${stage}`)),
          h('span', { class: 'visually-hidden' }, `（${t(current && state === 'done' ? 'case.stageCurrent' : `case.stage${state[0].toUpperCase()}${state.slice(1)}`)}）`));
      })));
}

// ---- pieces of the case page ----------------------------------------------------------------

function caseFacts(c) {
  return card('case.info',
    facts([
      [t('case.number'), c.number, 'case-number'],
      [t('case.item'), `${c.item_code || ''} ${c.item_name || ''}`.trim()],
      [t('case.unit'), c.unit_name],
      [t('case.party'), partyText(c.party)],
      [t('case.summary'), c.summary],
      [t('case.filedAt'), formatDateTime(c.created_at)],
    ]));
}

/** Investigation findings and the proposed decision, read-only (what the legal reviewer checks). */
function proposalCard(c) {
  const p = c.proposed_decision || {};
  return card('case.proposal',
    facts([
      [t('case.investigation'), c.investigation],
      [t('case.amount'), c.amount_involved != null ? money(c.amount_involved) : '', 'case-amount'],
      [t('case.proposedFine'), p.fine != null ? money(p.fine) : '', 'case-fine'],
      [t('case.measures'), Array.isArray(p.measures) && p.measures.length ? p.measures.join('、') : ''],
    ]));
}

function flags(c) {
  const before = ['filed', 'investigating', 'review'].includes(c.status);
  const open = before || ['decided', 'served'].includes(c.status);
  return [
    c.major_case && before ? h('p', { class: 'flag flag--major', 'data-testid': 'flag-major' }, t('case.major')) : null,
    c.criminal_threshold_reached && open ? h('p', { class: 'flag flag--criminal', 'data-testid': 'flag-criminal' }, t('case.criminal')) : null,
    c.override && c.override.reason ? h('p', { class: 'flag' }, t('case.override', { reason: c.override.reason })) : null,
  ];
}

/** The latest review approved the case as it stands now (an approval covers exactly one version). */
export function approvedAsIs(c) {
  const reviews = Array.isArray(c.reviews) ? c.reviews : [];
  const last = reviews[reviews.length - 1];
  if (!last || outcomeOf(last) !== 'approved') return false;
  return last.case_version == null || last.case_version === c.version;
}

function outcomeOf(r) {
  if (OUTCOMES.includes(r.outcome)) return r.outcome;
  return r.approved ? 'approved' : 'rejected';
}

function reviewsCard(c) {
  const reviews = Array.isArray(c.reviews) ? c.reviews : [];
  if (!reviews.length && !c.major_case && c.status !== 'review') return null;
  return card('case.reviews',
    reviews.length
      ? h('ul', { class: 'reviews', 'data-testid': 'reviews' }, reviews.map((r) => {
        const outcome = outcomeOf(r);
        return h('li', { class: `review review--${outcome}` },
          h('p', { class: 'review__head' },
            h('span', { class: `outcome outcome--${outcome}` }, t(`review.outcome.${outcome}`)),
            ' ',
            h('span', { class: 'muted' }, t('review.by', { name: personName(r.reviewer) || '', time: formatDateTime(r.created_at) }))),
          h('p', { class: 'review__opinion' }, r.opinion || ''));
      }))
      : h('p', { class: 'muted' }, t('case.noReviews')));
}

function outcomeFacts(c) {
  const rows = [];
  const d = c.decision;
  if (d && typeof d === 'object') {
    if (d.document_number) rows.push([t('case.documentNumber'), d.document_number]);
    if (d.fine != null) rows.push([t('case.fine'), money(d.fine)]);
    if (Array.isArray(d.measures) && d.measures.length) rows.push([t('decision.measures'), d.measures.join('、')]);
  }
  if (c.served_on) rows.push([t('case.servedOn'), formatDate(c.served_on)]);
  if (c.closed_at) rows.push([t('case.closedAt'), formatDateTime(c.closed_at)]);
  const tr = c.transfer;
  if (tr) {
    rows.push([t('transfer.organ'), tr.organ], [t('transfer.date'), formatDate(tr.transferred_on)], [t('transfer.receipt'), tr.receipt_number]);
  }
  if (!rows.length) return null;
  return card(tr ? 'case.transfer' : 'case.decision', facts(rows));
}

/** The case's records, each opening its detail, with their evidence right there (what a reviewer weighs). */
function actionsCard(c, isOfficer, state) {
  const ids = Array.isArray(c.action_ids) ? c.action_ids : [];
  if (!ids.length) return null;
  const list = h('ul', { class: 'list', 'data-testid': 'case-actions' });
  const draw = (actions) => {
    list.replaceChildren(...actions.map((a, i) => {
      if (!a) {
        return h('li', {}, h('p', { class: 'row row--static muted' }, String(ids[i]).slice(0, 8)));
      }
      const inner = [
        h('span', { class: 'row__title' }, `${t(`kind.${a.kind}`)} · ${formatDateTime(a.occurred_at)}`),
        h('span', { class: 'row__meta' }, `${t('action.officers')}${t('common.colon')}${(a.officers || []).map(personName).join('、')}`),
        a.party && a.party.name ? h('span', { class: 'row__meta' }, `${t('action.party')}${t('common.colon')}${partyText(a.party)}`) : null,
        a.address ? h('span', { class: 'row__meta' }, a.address) : null,
        a.notes ? h('span', { class: 'row__meta' }, a.notes) : null,
      ];
      const href = `#/${isOfficer ? 'officer/' : ''}actions/${encodeURIComponent(a.id)}`;
      const evidence = Array.isArray(a.evidence) ? a.evidence : [];
      return h('li', { class: 'case-action' },
        h('a', { class: 'row', href, 'data-testid': 'case-action-link', 'data-id': a.id }, inner),
        evidence.length ? evidenceGrid(evidence, state.urls, () => state.alive) : null);
    }));
  };
  if (state.actions) draw(state.actions);
  else {
    list.append(h('li', {}, loadingLine()));
    Promise.all(ids.map((id) => api.action(id).catch(() => null))).then((actions) => {
      state.actions = actions;
      draw(actions);
    });
  }
  return card('case.actions', list);
}

// ---- investigation form -----------------------------------------------------------------------

function investigationForm(c, { onSaved, onConflict }, unsaved) {
  const p = c.proposed_decision || {};
  const src = unsaved || {
    investigation: c.investigation || '',
    amount: c.amount_involved != null ? String(c.amount_involved) : '',
    fine: p.fine != null ? String(p.fine) : '',
    measures: Array.isArray(p.measures) ? p.measures.join('、') : '',
  };
  const inv = field({ id: 'inv-text', label: t('case.investigation'), value: src.investigation, multiline: true, rows: 5, maxlength: 4000 });
  const amount = field({ id: 'inv-amount', label: t('case.amount'), hint: t('case.amountHint'), value: src.amount, inputmode: 'decimal', autocomplete: 'off' });
  const fine = field({ id: 'inv-fine', label: t('case.proposedFine'), hint: t('case.amountHint'), value: src.fine, inputmode: 'decimal', autocomplete: 'off' });
  const measures = field({ id: 'inv-measures', label: t('case.measures'), hint: t('case.measuresHint'), value: src.measures, multiline: true, rows: 2 });
  const msg = h('div', { class: 'alert', role: 'alert' });
  const ok = h('p', { class: 'notice notice--ok', role: 'status' });
  const save = h('button', { type: 'submit', class: 'btn btn--primary btn--block' }, t('case.save'));
  const form = h('form', { class: 'form', novalidate: true, 'data-testid': 'investigation' }, inv.node, amount.node, fine.node, measures.node, msg, ok, save);
  let busy = false;

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    say(msg, '');
    ok.textContent = '';
    const a = parseMoney(amount.input.value);
    const f = parseMoney(fine.input.value);
    for (const [v, el] of [[a, amount.input], [f, fine.input]]) {
      el.removeAttribute('aria-invalid');
      if (Number.isNaN(v)) {
        el.setAttribute('aria-invalid', 'true');
        say(msg, t('case.badAmount'));
        el.focus();
        return;
      }
    }
    const body = {
      version: c.version,
      investigation: inv.input.value.trim(),
      amount_involved: a,
      proposed_decision: { fine: f, measures: splitMeasures(measures.input.value) },
    };
    busy = true;
    save.disabled = true;
    save.textContent = t('common.saving');
    try {
      const updated = await api.updateCase(c.id, body);
      onSaved(updated);
    } catch (err) {
      if (err instanceof ApiError && (err.code === 'case.version_conflict' || err.status === 409)) {
        onConflict({ investigation: inv.input.value, amount: amount.input.value, fine: fine.input.value, measures: measures.input.value });
      } else {
        say(msg, errorMessage(err));
      }
    } finally {
      busy = false;
      save.disabled = false;
      save.textContent = t('case.save');
    }
  });
  return { node: card('case.investigationForm', form), ok, msg };
}

function unsavedCard(u) {
  return h('details', { class: 'card unsaved', open: true },
    h('summary', { class: 'card__title' }, t('case.yourDraft')),
    facts([
      [t('case.investigation'), u.investigation],
      [t('case.amount'), u.amount],
      [t('case.proposedFine'), u.fine],
      [t('case.measures'), u.measures],
    ]));
}

// ---- workflow steps -----------------------------------------------------------------------------

/** Fields each step asks for; returns { nodes, body() | null when invalid }. */
function stepFields(step, c, msg) {
  const today = beijingToday();
  const need = (f, label) => {
    if (f.input.value.trim()) return true;
    say(msg, t('form.needField', { field: label }));
    f.input.setAttribute('aria-invalid', 'true');
    f.input.focus();
    return false;
  };
  if (step === 'decision') {
    const p = c.proposed_decision || {};
    const num = field({ id: 'dec-number', label: t('case.documentNumber'), optional: true, maxlength: 60 });
    const fine = field({ id: 'dec-fine', label: t('case.fine'), hint: t('decision.fineHint'), value: p.fine != null ? String(p.fine) : '', inputmode: 'decimal' });
    const measures = field({ id: 'dec-measures', label: t('decision.measures'), hint: t('case.measuresHint'), optional: true, multiline: true, rows: 2,
      value: Array.isArray(p.measures) ? p.measures.join('、') : '' });
    return {
      nodes: [num.node, fine.node, measures.node],
      body() {
        const f = parseMoney(fine.input.value);
        if (Number.isNaN(f)) {
          say(msg, t('case.badAmount'));
          fine.input.focus();
          return null;
        }
        return {
          ...(num.input.value.trim() ? { document_number: num.input.value.trim() } : {}),
          ...(f != null ? { fine: f } : {}),
          measures: splitMeasures(measures.input.value),
        };
      },
    };
  }
  if (step === 'serve') {
    const date = field({ id: 'serve-date', label: t('serve.date'), type: 'date', value: today, max: today });
    const method = choices({
      name: 'serve-method',
      legend: t('serve.method'),
      options: Object.keys(SERVE_METHODS).map((m) => ({ value: m, label: t(`serve.method.${m}`) })),
      value: 'direct',
      cls: 'choices--chips',
    });
    return {
      nodes: [date.node, method.node],
      body: () => (need(date, t('serve.date')) ? { served_on: date.input.value, method: SERVE_METHODS[method.value()] } : null),
    };
  }
  if (step === 'transfer') {
    const organ = field({ id: 'tr-organ', label: t('transfer.organ'), hint: t('transfer.organHint'), maxlength: 100 });
    const date = field({ id: 'tr-date', label: t('transfer.date'), type: 'date', value: today, max: today });
    const receipt = field({ id: 'tr-receipt', label: t('transfer.receipt'), maxlength: 60, autocomplete: 'off' });
    return {
      nodes: [organ.node, date.node, receipt.node],
      body: () =>
        need(organ, t('transfer.organ')) && need(date, t('transfer.date')) && need(receipt, t('transfer.receipt'))
          ? { organ: organ.input.value.trim(), transferred_on: date.input.value, receipt_number: receipt.input.value.trim() }
          : null,
    };
  }
  if (step === 'submit-review') {
    const p = c.proposed_decision || {};
    const proposed = p.fine != null || (Array.isArray(p.measures) && p.measures.length);
    return { nodes: [], body: () => (proposed ? {} : (say(msg, t('step.submit-review.needProposal')), null)) };
  }
  return { nodes: [], body: () => ({}) };
}

function stepsCard(c, steps, run, feedback) {
  const panel = h('div', { class: 'panel', hidden: true, 'data-testid': 'step-panel' });
  const buttons = steps.map((step, i) => {
    const b = h('button', {
      type: 'button',
      class: `btn ${i === 0 && step !== 'transfer' ? 'btn--primary' : 'btn--secondary'} btn--block`,
      'aria-expanded': 'false',
      'data-step': step,
    }, t(`step.${step}`));
    b.addEventListener('click', () => open(step, b));
    return b;
  });

  function open(step, btn) {
    for (const b of buttons) b.setAttribute('aria-expanded', String(b === btn));
    const msg = h('div', { class: 'alert', role: 'alert' });
    const f = stepFields(step, c, msg);
    const confirm = h('button', { type: 'submit', class: 'btn btn--primary btn--block' }, t(`step.${step}.confirm`));
    const cancel = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, t('common.cancel'));
    const form = h('form', { class: 'form', novalidate: true },
      h('h3', { class: 'panel__title' }, t(`step.${step}`)),
      h('p', { class: 'muted' }, t(`step.${step}.hint`)),
      ...f.nodes, msg, confirm, cancel);
    cancel.addEventListener('click', () => {
      panel.hidden = true;
      btn.setAttribute('aria-expanded', 'false');
      btn.focus();
    });
    let busy = false;
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (busy) return;
      say(msg, '');
      const body = f.body();
      if (!body) return;
      busy = true;
      confirm.disabled = true;
      confirm.textContent = t('common.submitting');
      const failed = await run(step, body);
      busy = false;
      confirm.disabled = false;
      confirm.textContent = t(`step.${step}.confirm`);
      if (failed) say(msg, failed);
    });
    panel.replaceChildren(form);
    panel.hidden = false;
    btn.after(panel);
    const first = form.querySelector('input, textarea');
    (first || confirm).focus({ preventScroll: true });
    panel.scrollIntoView({ block: 'nearest' });
  }

  return card('case.steps', feedback,
    steps.length ? h('div', { class: 'steps' }, buttons) : h('p', { class: 'muted' }, t(c.status === 'filed' ? 'case.noStepsFiled' : 'case.noSteps')));
}

// ---- review (legal reviewer) ----------------------------------------------------------------------

function reviewForm(c, run) {
  const msg = h('div', { class: 'alert', role: 'alert' });
  const outcome = choices({
    name: 'review-outcome',
    legend: t('review.choice'),
    options: OUTCOMES.map((o) => ({ value: o, label: t(`review.outcome.${o}`) })),
    value: '',
    cls: 'choices--big',
  });
  const opinion = field({ id: 'review-opinion', label: t('review.opinion'), hint: t('review.opinionHint'), multiline: true, rows: 5, maxlength: 4000 });
  const submit = h('button', { type: 'submit', class: 'btn btn--primary btn--xl btn--block' }, t('review.submit'));
  const form = h('form', { class: 'form', novalidate: true, 'data-testid': 'review-form' }, outcome.node, opinion.node, msg, submit);
  let busy = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    say(msg, '');
    const o = outcome.value();
    if (!o) {
      say(msg, t('review.needChoice'));
      outcome.inputs[0].focus();
      return;
    }
    const text = opinion.input.value.trim();
    if (!text) {
      say(msg, t('review.needOpinion'));
      opinion.input.setAttribute('aria-invalid', 'true');
      opinion.input.focus();
      return;
    }
    busy = true;
    submit.disabled = true;
    submit.textContent = t('common.submitting');
    const failed = await run('review', { approved: o === 'approved', outcome: o, opinion: text });
    busy = false;
    submit.disabled = false;
    submit.textContent = t('review.submit');
    if (failed) say(msg, failed);
  });
  return card('review.title', form);
}

// ---- the case page --------------------------------------------------------------------------------

export function casePage({ user, params, restore }) {
  const r = roles(user);
  const isOfficer = r.has('officer');
  const title = h('h1', { class: 'page__title', tabindex: '-1', 'data-testid': 'case-title' }, t('case.title'));
  const status = h('p', { class: 'case__status' });
  const flash = takeFlash();
  const top = h('p', { class: 'notice notice--ok', role: 'status', 'data-testid': 'flash' }, flash);
  const body = h('div', { class: 'page__body' }, loadingLine());
  const state = { actions: null, urls: [], alive: true };
  let c = null;
  let alive = true;
  let restored = false;

  function draw({ feedback = null, conflict = null } = {}) {
    document.title = `${caseTitle(c)} – ${t('app.name')}`;
    title.textContent = caseTitle(c);
    status.replaceChildren(statusBadge(c.status));
    const allowed = new Set(Array.isArray(c.allowed_steps) ? c.allowed_steps : []);
    const steps = STEPS.filter((s) => allowed.has(s));
    const editable = Array.isArray(c.allowed_steps) ? allowed.has('update') : isOfficer && OPEN_STATUSES.includes(c.status);
    const stepMsg = h('div', { class: 'alert', role: 'alert', 'data-testid': 'step-error' });
    const stepOk = h('p', { class: 'notice notice--ok', role: 'status', 'data-testid': 'step-ok' });
    const resubmitSlot = h('div', { class: 'slot' });

    const inv = editable
      ? investigationForm(c, {
        onSaved(updated) {
          c = updated;
          draw();
          say(top, t('case.saved'));
        },
        onConflict(unsaved) {
          reload({ conflict: unsaved });
        },
      }, null)
      : null;

    fill(body,
      stepper(c),
      reversedNote(c),
      ...flags(c),
      conflict ? h('p', { class: 'alert', role: 'alert', 'data-testid': 'conflict' }, t('case.conflict')) : null,
      conflict ? unsavedCard(conflict) : null,
      caseFacts(c),
      Array.isArray(c.clocks) && c.clocks.length
        ? card('clock.title', h('ul', { class: 'list', 'data-testid': 'case-clocks' }, c.clocks.map((k) => clockRow(k))))
        : null,
      draftFromButton(user, 'case', c.id),
      editable ? null : proposalCard(c),
      actionsCard(c, isOfficer, state),
      canShare(user) ? shareCard({ case_id: c.id }) : null,
      reviewsCard(c),
      outcomeFacts(c),
      inv ? inv.node : null,
      allowed.has('review') && !approvedAsIs(c) ? reviewForm(c, run) : null,
      c.status === 'review' && approvedAsIs(c)
        ? h('p', { class: 'notice notice--ok', 'data-testid': 'review-approved' }, t('reviewer.approvedWaiting'))
        : null,
      steps.length || (isOfficer && !['closed', 'transferred'].includes(c.status))
        ? stepsCard(c, steps, run, [stepMsg, resubmitSlot, stepOk])
        : null,
    );
    if (feedback) {
      const el = feedback.ok ? stepOk : stepMsg;
      say(el, feedback.text);
      if (feedback.resubmit && c.status === 'review') resubmitSlot.replaceChildren(resubmitButton(feedback.resubmit));
    }
    if (restore && !restored) {
      restored = true;
      restoreValues(body, restore);
    }
  }

  /** Run a workflow step; returns a message when it failed (shown next to the form that asked). */
  async function run(step, data) {
    try {
      c = await api.step(c.id, step, { version: c.version, ...data });
      draw();
      window.scrollTo(0, 0);
      say(top, t(step === 'review' ? 'review.done' : `step.${step}.done`));
      return '';
    } catch (err) {
      const text = refusalText(err);
      if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 401) {
        // The case may have moved on: show it as it is now, with the reason next to the buttons.
        const changed = err.code === 'case.review_required' && err.extra && err.extra.reason === 'proposal_changed';
        await reload({ feedback: { ok: false, text, resubmit: changed ? err.extra.decision : null } });
        return '';
      }
      return text;
    }
  }

  /** A decision refused for want of review says which way on: resubmit, or wait for the reviewer. */
  function refusalText(err) {
    if (!(err instanceof ApiError) || err.code !== 'case.review_required' || !err.extra) return errorMessage(err);
    const { reason, approved, decision } = err.extra;
    if (reason === 'proposal_changed' && approved && decision) {
      return t('case.decisionDiffers', { approved: proposalText(approved), decision: proposalText(decision) });
    }
    if (reason === 'review_pending') return t('case.reviewPendingDecision');
    return errorMessage(err);
  }

  function proposalText(p) {
    const parts = [];
    if (p.fine != null) parts.push(t('case.fineOf', { fine: money(p.fine) }));
    if (Array.isArray(p.measures) && p.measures.length) parts.push(p.measures.join('、'));
    return parts.join('，') || t('common.noValue');
  }

  /** One tap: the decision the unit means to take goes back to legal review as the new proposal. */
  function resubmitButton(decision) {
    const btn = h('button', { type: 'button', class: 'btn btn--primary btn--block', 'data-testid': 'resubmit-review' },
      t('case.resubmitReview'));
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      const failed = await run('submit-review', {
        proposed_decision: { fine: decision.fine, measures: Array.isArray(decision.measures) ? decision.measures : [] },
      });
      if (failed) {
        btn.disabled = false;
        say(btn.previousElementSibling || top, failed);
      }
    });
    return btn;
  }

  async function reload(opts = {}) {
    try {
      const fresh = await api.getCase(params.id);
      if (!alive) return;
      c = fresh;
      draw(opts);
    } catch (err) {
      if (!alive) return;
      if (c) draw({ feedback: { ok: false, text: errorMessage(err) } });
      else body.replaceChildren(loadError(`${t('case.openFailed')}${errorMessage(err)}`, () => reload()));
    }
  }
  reload();

  const back = isOfficer ? backLink('#/cases', 'cases.title') : r.has('legal_reviewer') ? backLink('#/reviewer', 'reviewer.title') : backLink('#/cases', 'cases.title');
  const node = h('section', { class: 'page page--case' }, back, title, status, top, body);
  return {
    node,
    cleanup: () => {
      alive = false;
      state.alive = false;
      for (const url of state.urls.splice(0)) URL.revokeObjectURL(url);
    },
  };
}
