// Training and the annual assessment (年度考核).
// #/trainings: the supervisor's trainings of a year and the plan form; #/trainings/<id>: attendance
// on the phone (one tap per officer) and the score import with its preview; #/assessments/<year>:
// the annual run, previewed and then applied; #/officer/training "我的培训": the officer's own year.

import { errorMessage, request, uploadBlob } from '../api.js';
import { fill, h, nextId } from '../dom.js';
import { beijingToday, formatDate, t } from '../i18n.js';
import '../i18n-training.js';
import { backLink, field, say } from '../enforcement.js';
import { loadError, loadingLine } from '../widgets.js';
import { qrScanner } from '../qr-scan.js';
import { pageHeading } from './common.js';

const FORMATS = ['法律知识培训', '以案释法', '专用法律知识轮训', '跟班学习', '下派指导', '党风廉政', '组织纪律'];
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const num = (x) => (Number.isInteger(x) ? String(x) : String(Math.round(x * 10) / 10));
const thisYear = () => Number(beijingToday().slice(0, 4));

function meta(x) {
  return t('tr.meta', { date: formatDate(x.held_on), hours: num(x.hours), format: x.format });
}

function trainingRow(x) {
  return h('li', {},
    h('a', { class: 'row', href: `#/trainings/${encodeURIComponent(x.id)}`, 'data-testid': 'training-row', 'data-id': x.id },
      h('span', { class: 'row__head' }, h('span', { class: 'row__title' }, x.title),
        x.compulsory ? h('span', { class: 'status' }, t('tr.compulsory')) : null),
      h('span', { class: 'row__meta' }, meta(x)),
      h('span', { class: 'row__meta', 'data-testid': 'training-counts' }, t('tr.counts', x.counts))));
}

function planForm(units, onSaved) {
  const id = nextId('tr');
  const title = field({ id: `${id}-title`, label: t('tr.form.title'), required: true, maxlength: 200 });
  const date = field({ id: `${id}-date`, label: t('tr.form.date'), type: 'date', value: beijingToday(), required: true });
  const hours = field({ id: `${id}-hours`, label: t('tr.form.hours'), type: 'number', min: '0.5', step: '0.5', value: '4', required: true });
  const trainer = field({ id: `${id}-trainer`, label: t('tr.form.trainer'), optional: true, maxlength: 100 });
  const pass = field({ id: `${id}-pass`, label: t('tr.form.passMark'), type: 'number', min: '0', max: '100', optional: true });
  const format = h('select', { id: `${id}-format` }, FORMATS.map((f) => h('option', { value: f }, f)));
  const organiser = h('select', { id: `${id}-org` }, units.map((u) => h('option', { value: u.id }, u.name)));
  const justice = units.find((u) => u.kind === 'justice');
  if (justice) organiser.value = justice.id;
  const exam = h('input', { type: 'checkbox', id: `${id}-exam` });
  const targets = h('fieldset', { class: 'group' }, h('legend', { class: 'group__legend' }, t('tr.form.units')),
    units.filter((u) => u.kind === 'township').map((u) => h('label', { class: 'choice' },
      h('input', { type: 'checkbox', value: u.id, 'data-testid': 'training-unit' }), h('span', { class: 'choice__label' }, u.name))));
  const msg = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: 'btn btn--primary btn--block' }, t('tr.form.save'));
  const form = h('form', { class: 'card', 'data-testid': 'training-form' },
    h('h2', { class: 'card__title' }, t('tr.new')),
    title.node,
    h('div', { class: 'field' }, h('label', { for: format.id }, t('tr.form.format')), format),
    h('div', { class: 'field' }, h('label', { for: organiser.id }, t('tr.form.organiser')), organiser),
    date.node, hours.node, trainer.node, targets,
    h('label', { class: 'choice' }, exam, h('span', { class: 'choice__label' }, t('tr.form.exam'))),
    pass.node, msg, save);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    save.disabled = true;
    const body = {
      title: title.input.value.trim(),
      format: format.value,
      organiser_unit_id: organiser.value,
      held_on: date.input.value,
      hours: Number(hours.input.value),
      trainer: trainer.input.value.trim(),
      unit_ids: [...targets.querySelectorAll('input:checked')].map((i) => i.value),
      has_exam: exam.checked,
    };
    if (exam.checked && pass.input.value !== '') body.pass_mark = Number(pass.input.value);
    try {
      const made = await request('POST', '/trainings', { body });
      say(msg, t('tr.form.saved'));
      onSaved(made);
    } catch (err) {
      say(msg, errorMessage(err));
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

export function trainingsPage({ params }) {
  const year = Number((params && params.year) || thisYear());
  const list = h('ul', { class: 'list', 'data-testid': 'trainings' }, loadingLine());
  const formSlot = h('div');
  const load = () => request('GET', `/trainings?year=${year}`).then(
    (items) => fill(list, items.length ? items.map(trainingRow) : h('li', { class: 'muted' }, t('tr.none'))),
    (err) => fill(list, loadError(errorMessage(err), load)));
  load();
  const add = h('button', { type: 'button', class: 'btn btn--secondary btn--block', 'data-testid': 'training-new' }, t('tr.new'));
  add.addEventListener('click', async () => {
    add.hidden = true;
    const page = await request('GET', '/units?limit=200').catch(() => ({ items: [] }));
    formSlot.replaceChildren(planForm((page && page.items) || [], (made) => {
      formSlot.replaceChildren();
      add.hidden = false;
      location.hash = `#/trainings/${encodeURIComponent(made.id)}`;
    }));
  });
  return {
    node: h('section', { class: 'page page--training' },
      backLink('#/supervisor', 'supervisor.title'),
      pageHeading('tr.listTitle'),
      h('nav', { class: 'lead', 'aria-label': t('tr.year') },
        h('a', { href: `#/trainings/year/${year - 1}`, 'data-testid': 'year-prev' }, `‹ ${year - 1}`), ' ',
        h('strong', { 'data-testid': 'year' }, `${t('tr.year')} ${year}`), ' ',
        h('a', { href: `#/trainings/year/${year + 1}`, 'data-testid': 'year-next' }, `${year + 1} ›`)),
      h('a', { class: 'btn btn--primary btn--block', href: `#/assessments/${year}`, 'data-testid': 'assessment-link' }, t('tr.runLink', { year })),
      add, formSlot, list),
  };
}

// ---- one training: attendance and scores ---------------------------------------------------------

function statusText(line) {
  if (line.status === 'present') return t('tr.status.present');
  if (line.status === 'excused') return t('tr.status.excused', { reason: line.reason });
  if (line.status === 'absent') return t('tr.status.absent');
  return t('tr.status.none');
}

function rosterLine(trainingId, line, redraw) {
  const state = h('span', { class: 'row__meta', 'data-testid': 'attendance-state' }, statusText(line),
    line.score != null ? ` · ${t('tr.score', { score: num(line.score) })}` : '');
  const msg = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' });
  const reasonSlot = h('div');
  const send = async (status, reason = '') => {
    try {
      const roster = await request('POST', `/trainings/${encodeURIComponent(trainingId)}/attendance`, {
        body: { entries: [{ officer_id: line.officer_id, status, reason }] },
      });
      redraw(roster);
    } catch (err) {
      say(msg, errorMessage(err));
    }
  };
  const tap = (status, key) => {
    const b = h('button', { type: 'button', class: `btn btn--${line.status === status ? 'primary' : 'secondary'} attend__btn`, 'data-testid': `attend-${status}`, 'aria-pressed': String(line.status === status) }, t(key));
    b.addEventListener('click', () => {
      if (status !== 'excused') {
        send(status);
        return;
      }
      const reason = field({ id: nextId('reason'), label: t('tr.reasonLabel'), maxlength: 200 });
      const ok = h('button', { type: 'button', class: 'btn btn--primary', 'data-testid': 'attend-reason-save' }, t('tr.reasonSave'));
      ok.addEventListener('click', () => send('excused', reason.input.value.trim()));
      reasonSlot.replaceChildren(reason.node, ok);
      reason.input.focus();
    });
    return b;
  };
  return h('li', { class: 'attend', 'data-testid': 'attendance-line', 'data-officer': line.officer_id, 'data-status': line.status || '' },
    h('span', { class: 'row__title' }, line.name),
    h('span', { class: 'row__meta' }, (line.units || []).join('、')),
    state,
    h('div', { class: 'attend__buttons' }, tap('present', 'tr.present'), tap('excused', 'tr.excused'), tap('absent', 'tr.absent')),
    reasonSlot, msg);
}

function scoreImport(training, onWritten) {
  const id = nextId('scores');
  const file = h('input', { type: 'file', id, accept: '.csv,.xlsx,text/csv,' + XLSX, 'data-testid': 'scores-file' });
  const out = h('div', { 'data-testid': 'scores-preview', role: 'status', 'aria-live': 'polite' });
  const write = h('button', { type: 'button', class: 'btn btn--primary btn--block', hidden: true, 'data-testid': 'scores-write' });
  let blob = null;
  const send = async (dryRun) => {
    const type = /\.xlsx$/i.test(blob.name) ? XLSX : 'text/csv';
    return uploadBlob(`/trainings/${encodeURIComponent(training.id)}/scores?dry_run=${dryRun}`, blob, { 'Content-Type': type });
  };
  const problems = (rows) => h('ul', { class: 'list' }, rows.filter((r) => r.problem).map((r) =>
    h('li', { class: 'alert alert--static', 'data-testid': 'scores-problem', 'data-problem': r.problem },
      t(`tr.problem.${r.problem}`, { row: r.row, key: r.key, score: r.score == null ? '' : num(r.score) }))));
  file.addEventListener('change', async () => {
    blob = file.files && file.files[0];
    write.hidden = true;
    if (!blob) return;
    fill(out, loadingLine());
    try {
      const preview = await send(true);
      if (preview.problems) {
        fill(out, h('p', {}, t('tr.scoresBad', { n: preview.problems })), problems(preview.rows));
      } else {
        fill(out, h('p', {}, t('tr.scoresOk', { n: preview.rows.length })));
        write.textContent = t('tr.scoresWrite', { n: preview.rows.length });
        write.hidden = false;
      }
    } catch (err) {
      fill(out, h('p', { class: 'alert alert--static' }, errorMessage(err)));
    }
  });
  write.addEventListener('click', async () => {
    write.disabled = true;
    try {
      const done = await send(false);
      fill(out, h('p', {}, t('tr.scoresWritten', { n: done.written })));
      write.hidden = true;
      onWritten();
    } catch (err) {
      const rows = (err.extra && err.extra.rows) || [];
      fill(out, h('p', { class: 'alert alert--static' }, errorMessage(err)), problems(rows));
    } finally {
      write.disabled = false;
    }
  });
  return h('section', { class: 'card', 'data-testid': 'scores' },
    h('h2', { class: 'card__title' }, t('tr.scores')),
    h('p', { class: 'field__hint' }, t('tr.scoresHint')),
    h('div', { class: 'field' }, h('label', { for: id }, t('tr.scoresFile')), file),
    out, write);
}

/** The token of a card's check code: the scanned link (…/c/<token>) or the token itself. */
export function cardToken(text) {
  const s = String(text || '').trim();
  const m = /\/c\/([A-Za-z0-9_-]+)\/?$/.exec(s);
  if (m) return m[1];
  return /^[A-Za-z0-9_-]{20,200}$/.test(s) ? s : null;
}

/**
 * Sign-in at the door by the card: the phone's camera reads the card's QR (扫码签到), or a handheld
 * scanner types its link (or one is pasted); either marks the officer present.
 */
function cardSignIn(trainingId, redraw) {
  const input = field({ id: nextId('card'), label: t('tr.cardLabel'), hint: t('tr.cardHint'), autocomplete: 'off', 'data-testid': 'card-input' });
  const msg = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite', 'data-testid': 'card-message' });
  const scanButton = h('button', { type: 'button', class: 'btn btn--primary btn--xl btn--block', 'data-testid': 'card-scan' }, t('tr.cardScan'));
  const form = h('form', { class: 'card', 'data-testid': 'card-signin' }, h('h3', {}, t('tr.cardTitle')), scanButton,
    input.node, h('button', { type: 'submit', class: 'btn btn--secondary btn--block' }, t('tr.cardSubmit')), msg);

  async function signIn(text) {
    const token = cardToken(text);
    if (!token) {
      say(msg, t('err.training.not_on_list'));
      return false;
    }
    try {
      const roster = await request('POST', `/trainings/${encodeURIComponent(trainingId)}/attendance`, {
        body: { entries: [{ card_token: token, status: 'present' }] },
      });
      redraw(roster);
      say(msg, t('tr.cardDone'));
      return true;
    } catch (err) {
      say(msg, errorMessage(err));
      return false;
    }
  }

  const scanner = qrScanner({ onText: (text) => signIn(text) });
  scanButton.after(scanner.node);
  scanButton.addEventListener('click', () => {
    say(msg, '');
    scanner.start();
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (await signIn(input.input.value)) input.input.value = '';
    input.input.focus();
  });
  return { node: form, stop: scanner.stop };
}

export function trainingPage({ params }) {
  const head = h('div', {}, loadingLine());
  const list = h('ul', { class: 'list attend-list', 'data-testid': 'attendance' });
  const scores = h('div');
  const id = params.id;
  const draw = (roster) => fill(list, roster.map((line) => rosterLine(id, line, draw)));
  const byCard = cardSignIn(id, draw);
  const load = async () => {
    try {
      const [x, roster] = await Promise.all([
        request('GET', `/trainings/${encodeURIComponent(id)}`),
        request('GET', `/trainings/${encodeURIComponent(id)}/attendance`),
      ]);
      fill(head,
        h('h2', { class: 'page__subtitle', 'data-testid': 'training-title' }, x.title),
        h('p', { class: 'muted' }, meta(x)),
        x.has_exam ? h('p', { class: 'muted' }, t('tr.exam', { mark: num(x.pass_mark) })) : null,
        h('h3', {}, t('tr.attendance')),
        h('p', { class: 'field__hint' }, t('tr.attendanceHint')));
      draw(roster);
      scores.replaceChildren(x.has_exam ? scoreImport(x, load) : '');
    } catch (err) {
      fill(head, loadError(errorMessage(err), load));
    }
  };
  load();
  return {
    node: h('section', { class: 'page page--training' },
      backLink('#/trainings', 'tr.listTitle'), pageHeading('tr.title'), head, byCard.node, list, scores),
    cleanup: () => byCard.stop(), // the camera goes off when the page is left
  };
}

// ---- the annual run ------------------------------------------------------------------------------

function person(x, extra) {
  return h('li', { class: 'card', 'data-testid': 'run-person', 'data-officer': x.officer_id },
    h('p', { class: 'row__title' }, x.name, x.certificate_number ? ` · ${x.certificate_number}` : ''),
    h('ul', {}, x.reasons.map((r) => h('li', {}, r))),
    extra || null);
}

export function assessmentPage({ params }) {
  const year = Number(params.year);
  const body = h('div', { 'data-testid': 'run' }, loadingLine());
  const msg = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite', 'data-testid': 'run-message' });
  const show = (plan) => {
    const apply = h('button', { type: 'button', class: 'btn btn--danger btn--block', 'data-testid': 'run-apply' }, t('tr.runApply', { n: plan.revoke.length }));
    apply.addEventListener('click', async () => {
      if (!window.confirm(t('tr.runConfirm', { n: plan.revoke.length }))) return;
      apply.disabled = true;
      try {
        const done = await request('POST', `/assessments/${year}/run`, { body: { digest: plan.digest } });
        say(msg, done.replayed ? t('tr.runReplayed') : t('tr.runDone', { n: done.revoked.length }));
        load();
      } catch (err) {
        if (err.code === 'assessment.changed') {
          say(msg, t('tr.runChanged'));
          load();
        } else {
          say(msg, errorMessage(err));
          apply.disabled = false;
        }
      }
    });
    fill(body,
      h('h2', {}, t('tr.runRevoke', { n: plan.revoke.length })),
      plan.revoke.length
        ? h('ul', { class: 'list', 'data-testid': 'run-revoke' }, plan.revoke.map((x) => person(x,
          x.open_spot_checks ? h('p', { class: 'muted' }, t('tr.runOpenChecks', { n: x.open_spot_checks })) : null)))
        : h('p', { class: 'muted', 'data-testid': 'run-none' }, t('tr.runNone')),
      plan.revoke.length ? apply : null,
      h('h2', {}, t('tr.runExempt', { n: plan.exempt.length })),
      h('ul', { class: 'list', 'data-testid': 'run-exempt' }, plan.exempt.map((x) => person(x))),
      h('h2', {}, t('tr.runAlready', { n: plan.already_revoked.length })),
      h('ul', { class: 'list', 'data-testid': 'run-already' }, plan.already_revoked.map((x) => person(x))));
  };
  const recall = recallList();
  const load = () => {
    recall.load();
    return request('GET', `/assessments/${year}/preview`).then(show,
      (err) => fill(body, loadError(errorMessage(err), load)));
  };
  load();
  return {
    node: h('section', { class: 'page page--training' },
      backLink('#/trainings', 'tr.listTitle'), pageHeading('tr.runTitle'),
      h('p', { class: 'lead' }, `${year}`), h('p', {}, t('tr.runIntro')), msg, body, recall.node),
  };
}

/**
 * 注销未收回: revoked cards not yet handed back, each with who received it (and when, default today)
 * to record the 收回; a recorded card leaves the list.
 */
function recallList() {
  const list = h('ul', { class: 'list', 'data-testid': 'unrecalled' });
  const msg = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite', 'data-testid': 'recall-message' });
  const row = (x) => {
    const id = nextId('rc');
    const by = field({ id: `${id}-by`, label: t('tr.recallBy'), maxlength: 100 });
    const on = field({ id: `${id}-on`, label: t('tr.recallOn'), type: 'date', value: beijingToday() });
    const save = h('button', { type: 'button', class: 'btn btn--primary btn--block' }, t('tr.recallSave'));
    const error = h('p', { class: 'alert', role: 'alert' });
    const item = h('li', { class: 'card', 'data-testid': 'unrecalled-card', 'data-officer': x.user_id },
      h('p', { class: 'row__title' }, `${x.display_name} · ${x.number}`),
      h('p', { class: 'muted' }, t('tr.recallRevoked', { date: x.revoked_on ? formatDate(x.revoked_on) : '—', reason: x.reason })),
      by.node, on.node, error, save);
    save.addEventListener('click', async () => {
      const received = by.input.value.trim();
      if (!received) {
        say(error, t('tr.recallNeedBy'));
        by.input.focus();
        return;
      }
      save.disabled = true;
      try {
        await request('POST', `/users/${encodeURIComponent(x.user_id)}/certificate/recall`, {
          body: { received_by: received, recalled_on: on.input.value || beijingToday() },
        });
        item.remove();
        say(msg, t('tr.recallDone', { name: x.display_name }));
        if (!list.children.length) list.replaceWith(empty());
      } catch (err) {
        say(error, errorMessage(err));
        save.disabled = false;
      }
    });
    return item;
  };
  const empty = () => h('p', { class: 'muted', 'data-testid': 'unrecalled-none' }, t('tr.recallNone'));
  const slot = h('div', {}, loadingLine());
  const load = () => request('GET', '/certificates/unrecalled').then((cards) => {
    list.replaceChildren(...cards.map(row));
    fill(slot, cards.length ? list : empty());
  }, (err) => fill(slot, loadError(errorMessage(err), load)));
  return { node: h('section', { class: 'card', 'aria-labelledby': 'recall-title' },
    h('h2', { id: 'recall-title' }, t('tr.recallTitle')), h('p', { class: 'muted' }, t('tr.recallIntro')), msg, slot), load };
}

// ---- the officer's own year ----------------------------------------------------------------------

export function myTrainingPage() {
  const year = thisYear();
  const body = h('div', { 'data-testid': 'my-training' }, loadingLine());
  const load = () => request('GET', `/trainings/mine?year=${year}`).then((mine) => {
    fill(body,
      h('p', { class: 'lead', 'data-testid': 'my-hours' }, t('tr.mineHours', { year, hours: num(mine.hours_attended), excused: num(mine.hours_excused), min: num(mine.min_hours) })),
      mine.absences ? h('p', { class: 'alert alert--static' }, t('tr.mineAbsences', { n: mine.absences })) : null,
      h('ul', { class: 'list' }, mine.trainings.map((x) => h('li', { class: 'card', 'data-testid': 'my-training-line' },
        h('p', { class: 'row__title' }, x.title, x.compulsory ? ` · ${t('tr.compulsory')}` : ''),
        h('p', { class: 'muted' }, meta(x)),
        h('p', {}, statusText(x), x.score != null ? ` · ${t('tr.score', { score: num(x.score) })}` : '',
          x.passed === true ? ` · ${t('tr.minePassed')}` : x.passed === false ? ` · ${t('tr.mineFailed')}` : '')))),
      h('h2', {}, t('tr.mineDue')),
      mine.due.length
        ? h('ul', { 'data-testid': 'my-due' }, mine.due.map((d) => h('li', {}, d)))
        : h('p', { class: 'muted', 'data-testid': 'my-due' }, t('tr.mineNothingDue')));
  }, (err) => fill(body, loadError(errorMessage(err), load)));
  load();
  return {
    node: h('section', { class: 'page page--training' }, backLink('#/officer', 'officer.title'), pageHeading('tr.mineTitle'), body),
  };
}
