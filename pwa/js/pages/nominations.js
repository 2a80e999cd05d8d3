// The bureau's invited-supervisor screens. #/nominations: the queue of applications and units'
// nominations; 选聘 with the units and the appointment period makes the invitation and shows its
// one-time link (and QR) to send; 不予选聘 with a reason. #/invited-supervisors: the roster with
// category, units, period, status and each person's spot-check record.

import { errorMessage, request } from '../api.js';
import { h, nextId } from '../dom.js';
import { beijingToday, formatDate, formatDateTime, t } from '../i18n.js';
import '../i18n-roster.js';
import { backLink, field, pagedList, say } from '../enforcement.js';
import { pageHeading } from './common.js';
import { CATEGORIES } from './nominate.js';
import { svgDataUrl } from './spotcheck-admin.js';
import { maskPhone, unitDirectory } from './spotcheck-common.js';

const NOMINATION_STATUSES = ['received', 'selected', 'declined'];
const ROSTER_STATUSES = ['invited', 'active', 'expired', 'revoked'];
const DEFAULT_TERM_DAYS = 365;
const enc = encodeURIComponent;

function filterSelect(id, label, values, textKey, allKey, onChange) {
  const select = h('select', { id, name: id, 'data-testid': id },
    h('option', { value: '' }, t(allKey)),
    values.map((v) => h('option', { value: v }, t(`${textKey}.${v}`))));
  select.addEventListener('change', onChange);
  return { node: h('div', { class: 'field' }, h('label', { for: id }, label), select), select };
}

function query(params) {
  const q = Object.entries(params).filter(([, v]) => v).map(([k, v]) => `${k}=${enc(v)}`).join('&');
  return q ? `?${q}` : '';
}

function unitList(ids, units) {
  return ids.map((id) => units.name(id) || '—').join('、');
}

// ---- #/nominations ------------------------------------------------------------------------------

export function nominationsPage({ user }) {
  const units = unitDirectory(user);
  const status = filterSelect('nq-status', t('nq.filter'), NOMINATION_STATUSES, 'nq.status', 'nq.all', () => list.reload());
  status.select.value = 'received';
  const result = h('div', { class: 'sc-invite-result', 'data-testid': 'nq-result', hidden: true });
  const list = pagedList({
    testid: 'nq-list',
    emptyKey: 'nq.none',
    errorMessage,
    async fetchPage(cursor) {
      await units.load().catch(() => {});
      return request('GET', `/nominations${query({ status: status.select.value, cursor, limit: 50 })}`);
    },
    renderItem: row,
  });

  function row(n) {
    const slot = h('div', { class: 'slot' });
    const actions = h('div', { class: 'ro-actions' });
    if (n.status === 'received') {
      const select = h('button', { type: 'button', class: 'btn btn--primary', 'data-testid': 'nq-select' }, t('nq.select'));
      const decline = h('button', { type: 'button', class: 'btn btn--secondary', 'data-testid': 'nq-decline' }, t('nq.decline'));
      select.addEventListener('click', () => slot.replaceChildren(selectForm(n)));
      decline.addEventListener('click', () => slot.replaceChildren(declineForm(n)));
      actions.append(select, decline);
    }
    return h('li', { class: 'list__item', 'data-testid': 'nq-row', 'data-id': n.id, 'data-status': n.status },
      h('p', { class: 'list__title' }, `${n.name}（${t(`ro.category.${n.category}`)}）`),
      h('p', {}, h('span', { class: `sc-status ro-status--${n.status}`, 'data-testid': 'nq-state' }, t(`nq.status.${n.status}`))),
      h('p', { class: 'muted' }, `${n.organisation} · ${maskPhone(n.phone)}`),
      h('p', { class: 'muted' }, n.nominated_by_unit ? t('nq.byUnit', { unit: units.name(n.nominated_by_unit) || '—' }) : t('nq.byPerson')),
      h('p', { class: 'muted' }, t('nq.received', { at: formatDateTime(n.received_at) })),
      h('p', {}, n.statement),
      n.unit_ids.length ? h('p', { class: 'muted' }, t('nq.wishes', { units: unitList(n.unit_ids, units) })) : null,
      n.decline_reason ? h('p', { class: 'muted' }, t('nq.declineReason', { reason: n.decline_reason })) : null,
      actions,
      slot);
  }

  function selectForm(n) {
    const boxName = nextId('nq-unit');
    const wished = new Set(n.unit_ids);
    const boxes = h('div', { class: 'choices' }, units.all()
      .sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'))
      .map((u) => {
        const id = `${boxName}-${u.id}`;
        const box = h('input', { id, type: 'checkbox', name: boxName, value: u.id, class: 'choice__box' });
        box.checked = wished.has(u.id);
        return h('label', { class: 'choice', for: id }, box,
          h('span', { class: 'choice__text' }, h('span', { class: 'choice__label' }, u.name)));
      }));
    const from = field({ id: nextId('nq-from'), label: t('nq.from'), type: 'date', 'data-testid': 'nq-from' });
    const to = field({ id: nextId('nq-to'), label: t('nq.to'), type: 'date', 'data-testid': 'nq-to' });
    from.input.value = beijingToday();
    to.input.value = beijingToday(new Date(Date.now() + DEFAULT_TERM_DAYS * 86400000));
    const error = h('p', { class: 'alert', role: 'alert' });
    const send = h('button', { type: 'submit', class: 'btn btn--primary btn--block', 'data-testid': 'nq-select-send' }, t('nq.confirmSelect'));
    const form = h('form', { class: 'form', novalidate: true, 'data-testid': 'nq-select-form' },
      h('fieldset', { class: 'group' }, h('legend', { class: 'group__legend' }, t('nq.units')), boxes),
      from.node, to.node, error, send);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const chosen = [...boxes.querySelectorAll('input:checked')].map((i) => i.value);
      const day = /^\d{4}-\d{2}-\d{2}$/;
      if (!chosen.length) return say(error, t('nq.needUnits'));
      if (!day.test(from.input.value) || !day.test(to.input.value) || to.input.value <= from.input.value || to.input.value <= beijingToday()) {
        return say(error, t('nq.badPeriod'));
      }
      send.disabled = true;
      try {
        const res = await request('POST', `/nominations/${enc(n.id)}/select`, {
          body: {
            unit_ids: chosen,
            appointed_from: `${from.input.value}T00:00:00+08:00`,
            appointed_to: `${to.input.value}T23:59:59+08:00`,
          },
        });
        showLink(res.invitation);
        list.reload();
      } catch (err) {
        say(error, errorMessage(err));
        send.disabled = false;
      }
    });
    return form;
  }

  function declineForm(n) {
    const reason = field({ id: nextId('nq-reason'), label: t('nq.reason'), maxlength: 500, 'data-testid': 'nq-reason' });
    const error = h('p', { class: 'alert', role: 'alert' });
    const send = h('button', { type: 'submit', class: 'btn btn--danger btn--block', 'data-testid': 'nq-decline-send' }, t('nq.confirmDecline'));
    const form = h('form', { class: 'form', novalidate: true }, reason.node, error, send);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const text = reason.input.value.trim();
      if (!text) return say(error, t('nq.needReason'));
      send.disabled = true;
      try {
        await request('POST', `/nominations/${enc(n.id)}/decline`, { body: { reason: text } });
        list.reload();
      } catch (err) {
        say(error, errorMessage(err));
        send.disabled = false;
      }
    });
    queueMicrotask(() => reason.input.focus());
    return form;
  }

  /** The one-time link, shown once: nothing in the queue or the roster carries it again. */
  function showLink(res) {
    const inv = res.invitation;
    const linkId = nextId('nq-link');
    const link = h('input', { id: linkId, type: 'text', readonly: true, class: 'sc-invite-result__link', 'data-testid': 'nq-link' });
    link.value = res.link;
    link.addEventListener('focus', () => link.select());
    const title = h('h2', { class: 'sc-invite-result__title', tabindex: '-1' }, t('nq.linkTitle', { name: inv.name }));
    result.replaceChildren(
      title,
      h('p', {}, t('nq.linkText', { date: formatDate(inv.expires_at) })),
      h('img', { class: 'sc-qr', src: svgDataUrl(res.qr_svg), alt: t('nq.qrAlt', { name: inv.name }) }),
      h('div', { class: 'field' }, h('label', { for: linkId }, t('nq.inviteLink')), link));
    result.hidden = false;
    title.focus();
  }

  const node = h('section', { class: 'page page--nominations' },
    backLink('#/supervisor', 'supervisor.title'),
    pageHeading('nq.title'),
    h('p', { class: 'muted' }, h('a', { href: '#/nominate' }, t('nm.link'))),
    result,
    h('div', { class: 'ro-filters' }, status.node),
    list.node);
  return { node };
}

// ---- #/invited-supervisors ----------------------------------------------------------------------

export function invitedSupervisorsPage({ user }) {
  const units = unitDirectory(user);
  const status = filterSelect('ro-status', t('ro.status'), ROSTER_STATUSES, 'ro.status', 'ro.all', () => list.reload());
  const category = filterSelect('ro-category', t('ro.category'), CATEGORIES, 'ro.category', 'ro.all', () => list.reload());
  const list = pagedList({
    testid: 'ro-list',
    emptyKey: 'ro.none',
    errorMessage,
    async fetchPage(cursor) {
      await units.load().catch(() => {});
      const params = { status: status.select.value, category: category.select.value, cursor, limit: 50 };
      return request('GET', `/invited-supervisors${query(params)}`);
    },
    renderItem: (r) => h('li', { class: 'list__item', 'data-testid': 'ro-row', 'data-id': r.invitation_id, 'data-status': r.status },
      h('p', { class: 'list__title' }, `${r.name}（${t(`ro.category.${r.category}`)}）`),
      h('p', {}, h('span', { class: `sc-status ro-status--${r.status}`, 'data-testid': 'ro-state' }, t(`ro.status.${r.status}`))),
      h('p', { class: 'muted', 'data-testid': 'ro-units' }, t('ro.units', { units: unitList(r.unit_ids, units) })),
      h('p', { class: 'muted', 'data-testid': 'ro-period' }, t('ro.period', { from: formatDate(r.appointed_from), to: formatDate(r.appointed_to) })),
      h('p', { 'data-testid': 'ro-checks' }, t('ro.checks', r.spot_checks))),
  });
  const node = h('section', { class: 'page page--roster' },
    backLink('#/supervisor', 'supervisor.title'),
    pageHeading('ro.title'),
    h('div', { class: 'ro-filters' }, status.node, category.node),
    list.node);
  return { node };
}
