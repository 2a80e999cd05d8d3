// #/retention 证据保存与销毁: for supervisors the evidence past its retention (reviewed, approved in a
// batch with its basis), the legal holds in force and the batches approved; for admins and
// supervisors the retention rules (only an admin changes them).

import { errorMessage, request } from '../api.js';
import { h, nextId } from '../dom.js';
import { formatDate, formatDateTime, t } from '../i18n.js';
import '../i18n-retention.js';
import { card, errorLine, loadError, loadingLine } from '../widgets.js';
import { formatSize } from './evidence.js';
import { pageHeading } from './common.js';

const SUBJECTS = ['case_closed', 'action', 'spot_check', 'supervision'];
const KINDS = ['*', 'photo', 'video', 'audio', 'document'];
function typeWord(type) {
  if (String(type).startsWith('image/')) return t('rt.kind.photo');
  if (type === 'application/pdf') return t('rt.kind.document');
  if (String(type).startsWith('video/')) return t('rt.kind.video');
  if (String(type).startsWith('audio/')) return t('rt.kind.audio');
  return type;
}

function section(titleKey, testid) {
  const body = h('div', { 'data-testid': testid }, loadingLine());
  return { node: card(titleKey, body), body };
}

export function retentionPage({ user }) {
  const roles = new Set(user.roles || []);
  const supervisor = roles.has('supervisor');
  const admin = roles.has('admin');
  const due = section('rt.dueTitle', 'retention-due');
  const holds = section('rt.holdsTitle', 'retention-holds');
  const batches = section('rt.batchesTitle', 'retention-batches');
  const rules = section('rt.rulesTitle', 'retention-rules');

  async function loadDue() {
    try {
      const found = await request('GET', '/retention/due?limit=500');
      drawDue(found);
    } catch (err) {
      due.body.replaceChildren(loadError(errorMessage(err), loadDue));
    }
  }

  function drawDue(found) {
    if (!found.items.length) {
      due.body.replaceChildren(h('p', { class: 'muted empty', 'data-testid': 'retention-due-none' }, t('rt.dueNone')));
      return;
    }
    const picked = new Set();
    const approve = h('button', { type: 'submit', class: 'btn btn--danger btn--block', 'data-testid': 'retention-approve' }, t('rt.approve', { n: 0 }));
    const count = () => { approve.textContent = t('rt.approve', { n: picked.size }); };
    const rows = found.items.map((item) => {
      const id = nextId('rt');
      const box = h('input', { type: 'checkbox', id, 'data-testid': 'retention-pick', value: item.evidence_id });
      box.addEventListener('change', () => {
        if (box.checked) picked.add(item.evidence_id); else picked.delete(item.evidence_id);
        count();
      });
      return h('li', { class: 'row', 'data-testid': 'retention-due-row', 'data-id': item.evidence_id },
        box,
        h('label', { for: id, class: 'row__main' }, t('rt.dueRow', {
          type: typeWord(item.content_type),
          size: formatSize(item.size),
          received: formatDate(item.received_at),
          until: formatDate(item.retain_until),
        })),
        h('a', { href: `#/evidence/${item.evidence_id}`, class: 'row__link' }, t('rt.open')));
    });
    const reasonId = nextId('rt');
    const reason = h('input', { id: reasonId, class: 'input', maxlength: '2000', 'data-testid': 'retention-batch-reason' });
    const status = h('div', { role: 'status' });
    const form = h('form', { class: 'form' },
      h('label', { for: reasonId }, t('rt.reason')), reason, approve, status);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!picked.size) return status.replaceChildren(errorLine(t('rt.needPick')));
      if (!reason.value.trim()) return status.replaceChildren(errorLine(t('rt.needReason')));
      if (!window.confirm(t('rt.confirm', { n: picked.size }))) return undefined;
      approve.disabled = true;
      try {
        const batch = await request('POST', '/retention/disposals', { body: { evidence_ids: [...picked], reason: reason.value.trim() } });
        await Promise.all([loadDue(), loadBatches()]);
        due.body.prepend(h('p', { class: 'notice', role: 'status', 'data-testid': 'retention-batch-done' },
          t('rt.batchDone', { removed: batch.removed, refused: batch.refused })));
      } catch (err) {
        approve.disabled = false;
        const notDue = err && err.extra && Array.isArray(err.extra.not_due) ? err.extra.not_due.length : 0;
        status.replaceChildren(errorLine(notDue ? t('rt.notDue', { n: notDue }) : errorMessage(err)));
      }
      return undefined;
    });
    due.body.replaceChildren(
      h('p', { class: 'muted' }, t('rt.dueCount', { n: found.total })),
      h('ul', { class: 'list' }, ...rows),
      form);
  }

  async function loadHolds() {
    try {
      const list = await request('GET', '/legal-holds');
      holds.body.replaceChildren(list.length
        ? h('ul', { class: 'list' }, ...list.map((x) => h('li', { class: 'row', 'data-testid': 'retention-hold-row' },
          h('span', { class: 'row__main' }, t('rt.holdRow', { type: t(`rt.type.${x.object_type}`), date: formatDate(x.placed_at), reason: x.reason })),
          x.object_type === 'evidence' ? h('a', { href: `#/evidence/${x.object_id}`, class: 'row__link' }, t('rt.open')) : null)))
        : h('p', { class: 'muted empty' }, t('rt.holdsNone')));
    } catch (err) {
      holds.body.replaceChildren(loadError(errorMessage(err), loadHolds));
    }
  }

  async function loadBatches() {
    try {
      const list = await request('GET', '/retention/disposals');
      batches.body.replaceChildren(list.length
        ? h('ul', { class: 'list' }, ...list.map((b) => h('li', { class: 'row', 'data-testid': 'retention-batch-row' },
          t('rt.batchRow', { date: formatDateTime(b.approved_at), removed: b.removed, refused: b.refused, reason: b.reason }))))
        : h('p', { class: 'muted empty' }, t('rt.batchesNone')));
    } catch (err) {
      batches.body.replaceChildren(loadError(errorMessage(err), loadBatches));
    }
  }

  async function loadRules() {
    try {
      drawRules((await request('GET', '/retention/rules')).rules);
    } catch (err) {
      rules.body.replaceChildren(loadError(errorMessage(err), loadRules));
    }
  }

  function drawRules(table) {
    const inputs = [];
    const head = h('tr', {}, h('th', { scope: 'col' }, ''), ...KINDS.map((k) => h('th', { scope: 'col' }, t(`rt.kind.${k}`))));
    const body = SUBJECTS.map((subject) => h('tr', {},
      h('th', { scope: 'row' }, t(`rt.rule.${subject}`)),
      ...KINDS.map((kind) => {
        const value = (table[subject] || {})[kind];
        const input = h('input', {
          type: 'number', min: '1', max: '100', step: '1', class: 'input input--narrow',
          value: value == null ? '' : String(value),
          placeholder: kind === '*' ? '' : String((table[subject] || {})['*'] || ''),
          'aria-label': `${t(`rt.rule.${subject}`)} · ${t(`rt.kind.${kind}`)}`,
          'data-testid': `rule-${subject}-${kind === '*' ? 'all' : kind}`,
          disabled: admin ? null : true,
        });
        inputs.push({ subject, kind, input, before: value });
        return h('td', {}, input);
      })));
    const status = h('div', { role: 'status' });
    const parts = [h('p', { class: 'muted' }, t('rt.rulesHint')),
      h('div', { class: 'table-wrap' }, h('table', { class: 'table' }, h('thead', {}, head), h('tbody', {}, ...body)))];
    if (admin) {
      const save = h('button', { type: 'submit', class: 'btn btn--primary', 'data-testid': 'rules-save' }, t('rt.saveRules'));
      const form = h('form', { class: 'form' }, ...parts, save, status);
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const changes = inputs
          .filter((x) => x.input.value !== '' && Number(x.input.value) !== x.before)
          .map((x) => ({ subject: x.subject, kind: x.kind, years: Number(x.input.value) }));
        if (!changes.length) return;
        try {
          drawRules((await request('PUT', '/retention/rules', { body: { rules: changes } })).rules);
          rules.body.append(h('p', { class: 'notice', role: 'status', 'data-testid': 'rules-saved' }, t('rt.rulesSaved')));
        } catch (err) {
          status.replaceChildren(errorLine(errorMessage(err)));
        }
      });
      rules.body.replaceChildren(form);
    } else {
      rules.body.replaceChildren(...parts);
    }
  }

  const node = h('section', { class: 'page page--retention' },
    pageHeading('rt.pageTitle'),
    supervisor ? h('p', { class: 'muted' }, t('rt.pageHint')) : null,
    supervisor ? due.node : null,
    supervisor ? holds.node : null,
    supervisor ? batches.node : null,
    rules.node);
  if (supervisor) {
    loadDue();
    loadHolds();
    loadBatches();
  }
  loadRules();
  return { node };
}
