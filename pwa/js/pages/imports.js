// #/imports (admins): the 权责清单, the 指导目录 and user lists from the district's spreadsheets.
// 预览 sends the file with dry_run=true and lists every row with its action and reasons; 导入 is
// offered only when no row is refused, asks to confirm, then sends the same file for real.

import { errorMessage, uploadBlob } from '../api.js';
import { fill, h, nextId } from '../dom.js';
import { t } from '../i18n.js';
import '../i18n-imports.js';
import { loadingLine } from '../widgets.js';
import { pageHeading } from './common.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const KINDS = ['items', 'delegations', 'users'];
const ACTIONS = ['create', 'change', 'unchanged', 'refuse'];
// The Chinese header of each field, to name it beside a reason or a change.
const LABELS = {
  code: '事项编码', name: '事项名称', kind: '类别', legal_basis: '实施依据', owner_unit: '主管部门',
  major_fine_at_least: '重大案件罚款标准', major_measures: '重大案件措施', criminal_amount_at_least: '刑事移送标准',
  unit: '乡镇', effective_from: '生效日期', effective_to: '失效日期',
  username: '用户名', display_name: '姓名', roles: '角色', units: '单位', phone: '手机',
};

const label = (f) => LABELS[f] || f;
const shown = (v) => (v == null || v === '' || (Array.isArray(v) && !v.length) ? t('im.empty') : Array.isArray(v) ? v.join('、') : String(v));

function rowLine(r) {
  const changes = Object.entries(r.changes || {}).map(([f, [old, now]]) =>
    h('p', { class: 'row__meta' }, t('im.change', { field: label(f), old: shown(old), new: shown(now) })));
  const errors = (r.errors || []).map((e) =>
    h('p', { class: 'row__warn', 'data-testid': 'import-error', 'data-field': e.field }, `${label(e.field)}：${e.message}`));
  return h('li', { class: 'row row--static', 'data-testid': 'import-row', 'data-action': r.action, 'data-row': r.row },
    h('p', { class: 'row__title' },
      h('span', { class: 'status', 'data-testid': 'import-action' }, t(`im.action.${ACTIONS.includes(r.action) ? r.action : 'refuse'}`)),
      ` ${t('im.row', { row: r.row })} · ${r.key}`),
    ...changes, ...errors);
}

function summary(result) {
  const c = result.counts;
  return h('p', { class: 'lead', 'data-testid': 'import-summary' }, t('im.summary', { n: result.rows.length, ...c }));
}

export function importsPage() {
  const kindId = nextId('im-kind');
  const fileId = nextId('im-file');
  const kind = h('select', { id: kindId, 'data-testid': 'import-kind' },
    ...KINDS.map((k) => h('option', { value: k }, t(`im.kind.${k}`))));
  const hint = h('p', { class: 'field__hint', 'data-testid': 'import-headers' }, t('im.headers.items'));
  const file = h('input', { type: 'file', id: fileId, accept: '.csv,.xlsx,text/csv,' + XLSX, 'data-testid': 'import-file' });
  const preview = h('button', { type: 'button', class: 'btn btn--secondary btn--block', 'data-testid': 'import-preview' }, t('im.preview'));
  const write = h('button', { type: 'button', class: 'btn btn--primary btn--block', disabled: true, 'data-testid': 'import-apply' }, t('im.import'));
  const out = h('div', { 'data-testid': 'import-result', role: 'status', 'aria-live': 'polite' });
  let planned = null;

  const reset = () => {
    planned = null;
    write.disabled = true;
    fill(out);
  };
  kind.addEventListener('change', () => {
    hint.textContent = t(`im.headers.${kind.value}`);
    reset();
  });
  file.addEventListener('change', reset);

  const send = (dryRun) => {
    const blob = file.files && file.files[0];
    const type = /\.xlsx$/i.test(blob.name) ? XLSX : 'text/csv';
    return uploadBlob(`/imports/${kind.value}?dry_run=${dryRun}`, blob, { 'Content-Type': type });
  };
  const show = (result, ...head) => fill(out, ...head, summary(result), h('ul', { class: 'list' }, result.rows.map(rowLine)));

  preview.addEventListener('click', async () => {
    reset();
    if (!(file.files && file.files[0])) {
      fill(out, h('p', { class: 'alert alert--static' }, t('im.noFile')));
      return;
    }
    fill(out, loadingLine());
    preview.disabled = true;
    try {
      const result = await send(true);
      const refused = result.counts.refuse;
      show(result, refused ? h('p', { class: 'alert alert--static', 'data-testid': 'import-refused' }, t('im.refused', { n: refused })) : '');
      planned = result;
      write.disabled = Boolean(refused) || !(result.counts.create + result.counts.change);
    } catch (err) {
      fill(out, h('p', { class: 'alert alert--static' }, errorMessage(err)));
    } finally {
      preview.disabled = false;
    }
  });

  write.addEventListener('click', async () => {
    if (!planned || !window.confirm(t('im.confirm', planned.counts))) return;
    write.disabled = true;
    try {
      const result = await send(false);
      const written = result.counts.create + result.counts.change;
      show(result, h('p', { class: 'alert alert--static', 'data-testid': 'import-done' },
        written ? t('im.done', result.counts) : t('im.nothing')));
      planned = null;
    } catch (err) {
      const rows = (err.extra && err.extra.rows) || [];
      fill(out, h('p', { class: 'alert alert--static' }, errorMessage(err)), h('ul', { class: 'list' }, rows.map(rowLine)));
    }
  });

  return {
    node: h('section', { class: 'page' },
      pageHeading('im.title'),
      h('p', { class: 'lead' }, t('im.intro')),
      h('div', { class: 'field' }, h('label', { for: kindId }, t('im.kind')), kind),
      h('div', { class: 'field' }, h('label', { for: fileId }, t('im.file')), file, hint),
      preview, write, out),
  };
}
