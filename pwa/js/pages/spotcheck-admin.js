// Supervisor tools on #/spot-checks: invite outside supervisors (one-time link and QR code, list,
// 撤销) and edit the checklist that new spot-checks start from.

import { errorMessage, request } from '../api.js';
import { h, nextId } from '../dom.js';
import { beijingToday, formatDate, t } from '../i18n.js';
import { card } from '../widgets.js';
import { maskPhone, scApi, unitDirectory } from './spotcheck-common.js';

const DEFAULT_TERM_DAYS = 365;
const MAX_ITEMS = 20;
const INVITATION_STATUSES = ['pending', 'accepted', 'expired', 'revoked'];

/**
 * The server's QR code is SVG written for inlining (no namespace, no viewBox); as a picture of its
 * own it needs both, or it shows nothing and does not scale.
 */
function standaloneSvg(svg) {
  let s = String(svg || '').trim();
  const open = /^<svg\b[^>]*>/.exec(s);
  if (!open) return s;
  let tag = open[0];
  if (!/\sxmlns=/.test(tag)) tag = tag.replace(/^<svg/, '<svg xmlns="http://www.w3.org/2000/svg"');
  const w = /\swidth="(\d+(?:\.\d+)?)"/.exec(tag);
  const hgt = /\sheight="(\d+(?:\.\d+)?)"/.exec(tag);
  if (!/\sviewBox=/.test(tag) && w && hgt) tag = tag.replace(/^<svg/, `<svg viewBox="0 0 ${w[1]} ${hgt[1]}"`);
  s = tag + s.slice(open[0].length);
  return s;
}

/** An SVG document as a data: URL for <img>: shown as a picture, never run as markup in the page. */
export function svgDataUrl(svg) {
  const bytes = new TextEncoder().encode(standaloneSvg(svg));
  let bin = '';
  for (let i = 0; i < bytes.length; i += 1) bin += String.fromCharCode(bytes[i]);
  return `data:image/svg+xml;base64,${btoa(bin)}`;
}

function field(id, label, input, { hint, optional } = {}) {
  return h('div', { class: 'field' },
    h('label', { for: id }, label, optional ? h('span', { class: 'field__optional' }, ` ${t('common.optional')}`) : null),
    hint ? h('p', { id: `${id}-hint`, class: 'field__hint' }, hint) : null,
    input);
}

function invitationBadge(status) {
  const s = INVITATION_STATUSES.includes(status) ? status : 'pending';
  return h('span', { class: `sc-status sc-inv--${s}`, 'data-status': s }, t(`inv.status.${s}`));
}

// ---- invitations ------------------------------------------------------------------------------

export function invitationsCard() {
  const units = unitDirectory(null);
  const name = h('input', { id: 'sc-inv-name', name: 'sc-inv-name', type: 'text', autocomplete: 'off', maxlength: 100 });
  const phone = h('input', { id: 'sc-inv-phone', name: 'sc-inv-phone', type: 'tel', inputmode: 'tel', autocomplete: 'off', maxlength: 20 });
  const expires = h('input', { id: 'sc-inv-expires', name: 'sc-inv-expires', type: 'date', 'aria-describedby': 'sc-inv-expires-hint' });
  expires.value = beijingToday(new Date(Date.now() + DEFAULT_TERM_DAYS * 86400000));
  expires.min = beijingToday(new Date(Date.now() + 86400000));
  const unitBox = h('div', { class: 'choices' }, h('p', { class: 'muted', role: 'status' }, t('common.loading')));
  const unitLegendId = nextId('legend');
  const unitGroup = h('fieldset', { class: 'group', 'aria-labelledby': unitLegendId },
    h('legend', { id: unitLegendId, class: 'group__legend' }, t('inv.units')), unitBox);
  const error = h('p', { class: 'alert', role: 'alert', 'data-testid': 'inv-error' });
  const submit = h('button', { type: 'submit', class: 'btn btn--primary btn--xl btn--block' }, t('inv.create'));
  const form = h('form', { class: 'form', novalidate: true, 'data-testid': 'inv-form' },
    field('sc-inv-name', t('inv.name'), name),
    field('sc-inv-phone', t('inv.phone'), phone, { optional: true }),
    unitGroup,
    field('sc-inv-expires', t('inv.expires'), expires, { hint: t('inv.expiresHint') }),
    error, submit);
  const result = h('div', { class: 'sc-invite-result', 'data-testid': 'inv-result', hidden: true });
  const list = h('ul', { class: 'list', 'data-testid': 'inv-list' });
  const listStatus = h('div', { class: 'list__status' });
  let alive = true;
  let confirming = null;

  async function drawUnits() {
    try {
      await units.load();
    } catch (err) {
      if (alive) unitBox.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorMessage(err)));
      return;
    }
    if (!alive) return;
    const all = units.all().sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'));
    unitBox.replaceChildren(...all.map((u) => {
      const id = `sc-inv-unit-${u.id}`;
      return h('label', { class: 'choice', for: id },
        h('input', { id, type: 'checkbox', name: 'sc-inv-unit', value: u.id, class: 'choice__box' }),
        h('span', { class: 'choice__text' }, h('span', { class: 'choice__label' }, u.name)));
    }));
    refresh();
  }

  function showResult(res) {
    const inv = res.invitation;
    const linkId = nextId('inv-link');
    const link = h('input', { id: linkId, type: 'text', readonly: true, class: 'sc-invite-result__link', 'data-testid': 'inv-link' });
    link.value = res.link;
    link.addEventListener('focus', () => link.select());
    const copied = h('p', { class: 'notice notice--ok', role: 'status' });
    const copy = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, t('inv.copy'));
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(res.link);
        copied.textContent = t('inv.copied');
      } catch {
        link.focus();
        link.select();
        copied.textContent = t('inv.copyByHand');
      }
    });
    const done = h('button', { type: 'button', class: 'btn btn--primary btn--block' }, t('inv.done'));
    done.addEventListener('click', () => {
      result.hidden = true;
      result.replaceChildren();
      name.focus();
    });
    result.replaceChildren(
      h('h3', { class: 'sc-invite-result__title', tabindex: '-1' }, t('inv.handOver', { name: inv.name })),
      h('p', {}, t('inv.handOverText', { date: formatDate(inv.expires_at) })),
      h('img', { class: 'sc-qr', src: svgDataUrl(res.qr_svg), alt: t('inv.qrAlt', { name: inv.name }), 'data-testid': 'inv-qr' }),
      h('div', { class: 'field' }, h('label', { for: linkId }, t('inv.link')), link),
      copy, copied, done);
    result.hidden = false;
    result.querySelector('h3').focus();
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    for (const el of [name, phone, expires]) el.removeAttribute('aria-invalid');
    const chosen = [...unitBox.querySelectorAll('input[name="sc-inv-unit"]:checked')].map((i) => i.value);
    const phoneText = phone.value.trim();
    const fail = (key, el) => {
      error.textContent = t(key);
      if (el) {
        el.setAttribute('aria-invalid', 'true');
        el.focus();
      }
    };
    if (!name.value.trim()) return fail('inv.needName', name);
    if (phoneText && !/^[0-9+\- ]{5,20}$/.test(phoneText)) return fail('inv.badPhone', phone);
    if (!chosen.length) return fail('inv.needUnits', unitBox.querySelector('input'));
    if (!/^\d{4}-\d{2}-\d{2}$/.test(expires.value) || expires.value <= beijingToday()) return fail('inv.badExpiry', expires);
    submit.disabled = true;
    submit.textContent = t('common.submitting');
    try {
      const res = await request('POST', '/invitations', {
        body: {
          name: name.value.trim(),
          ...(phoneText ? { phone: phoneText } : {}),
          unit_ids: chosen,
          expires_at: `${expires.value}T23:59:59+08:00`,
        },
      });
      name.value = '';
      phone.value = '';
      for (const box of unitBox.querySelectorAll('input:checked')) box.checked = false;
      showResult(res);
      refresh();
    } catch (err) {
      error.textContent = errorMessage(err);
    } finally {
      submit.disabled = false;
      submit.textContent = t('inv.create');
    }
  });

  function row(inv) {
    const unitText = (inv.unit_ids || []).map((u) => units.name(u)).filter(Boolean).join('、');
    const canRevoke = inv.status === 'pending' || inv.status === 'accepted';
    const li = h('li', { class: 'row row--static sc-inv-row', 'data-testid': 'inv-row', 'data-invitation': inv.id },
      h('span', { class: 'row__head' }, h('span', { class: 'row__title' }, inv.name), invitationBadge(inv.status)),
      h('span', { class: 'row__meta' }, [maskPhone(inv.phone), unitText].filter(Boolean).join(' · ')),
      h('span', { class: 'row__meta' }, t('inv.until', { date: formatDate(inv.expires_at) })));
    if (!canRevoke) return li;
    const msg = h('p', { class: 'alert', role: 'alert' });
    if (confirming === inv.id) {
      const yes = h('button', { type: 'button', class: 'btn btn--danger btn--block' }, t('inv.revokeYes'));
      const no = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, t('common.cancel'));
      yes.addEventListener('click', async () => {
        yes.disabled = true;
        no.disabled = true;
        try {
          await request('DELETE', `/invitations/${encodeURIComponent(inv.id)}`);
          confirming = null;
          refresh();
        } catch (err) {
          msg.textContent = errorMessage(err);
          yes.disabled = false;
          no.disabled = false;
        }
      });
      no.addEventListener('click', () => {
        confirming = null;
        refresh();
      });
      li.append(h('div', { class: 'sc-confirm' },
        h('p', { class: 'sc-confirm__text' }, t(inv.status === 'accepted' ? 'inv.revokeAccepted' : 'inv.revokePending', { name: inv.name })),
        yes, no, msg));
    } else {
      const revoke = h('button', { type: 'button', class: 'btn btn--secondary btn--block', 'data-testid': 'inv-revoke' }, t('inv.revoke'));
      revoke.addEventListener('click', () => {
        confirming = inv.id;
        refresh();
      });
      li.append(revoke);
    }
    return li;
  }

  async function refresh() {
    try {
      const rows = await request('GET', '/invitations');
      if (!alive) return;
      list.replaceChildren(...(rows || []).slice(0, 100).map(row));
      listStatus.replaceChildren(...(rows && rows.length ? [] : [h('p', { class: 'muted' }, t('inv.none'))]));
      if (confirming) {
        const btn = list.querySelector(`[data-invitation="${CSS.escape(confirming)}"] .sc-confirm button`);
        if (btn) btn.focus();
      }
    } catch (err) {
      if (alive) listStatus.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorMessage(err)));
    }
  }

  drawUnits();
  const node = card('inv.title',
    h('p', { class: 'muted' }, t('inv.intro')),
    form, result,
    h('h3', { class: 'sc-subtitle' }, t('inv.list')),
    list, listStatus);
  node.dataset.testid = 'invitations';
  return {
    node,
    stop() {
      alive = false;
    },
  };
}

// ---- checklist template ----------------------------------------------------------------------------

function newKey() {
  const rand = crypto.getRandomValues(new Uint8Array(6));
  return `item_${[...rand].map((b) => (b % 36).toString(36)).join('')}`;
}

export function checklistCard() {
  const list = h('ol', { class: 'sc-checklist', 'data-testid': 'checklist-items' });
  const msg = h('p', { class: 'alert', role: 'alert', 'data-testid': 'checklist-error' });
  const ok = h('p', { class: 'notice notice--ok', role: 'status' });
  const add = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, t('cl.add'));
  const save = h('button', { type: 'button', class: 'btn btn--primary btn--block' }, t('cl.save'));
  let items = [];

  function draw(focusIndex = -1) {
    list.replaceChildren(...items.map((item, i) => {
      const id = `sc-cl-${item.key}`;
      const input = h('input', { id, type: 'text', maxlength: 60, 'data-key': item.key });
      input.value = item.label;
      input.addEventListener('input', () => {
        item.label = input.value;
        ok.textContent = '';
      });
      const remove = h('button', { type: 'button', class: 'btn btn--secondary', 'aria-label': t('cl.removeLabel', { n: i + 1 }) }, t('cl.remove'));
      remove.disabled = items.length <= 1;
      remove.addEventListener('click', () => {
        items.splice(i, 1);
        ok.textContent = '';
        draw(Math.min(i, items.length - 1));
      });
      return h('li', { class: 'sc-checklist__item' },
        h('div', { class: 'field' }, h('label', { for: id }, t('cl.item', { n: i + 1 })), input), remove);
    }));
    add.disabled = items.length >= MAX_ITEMS;
    if (focusIndex >= 0) {
      const inputs = list.querySelectorAll('input');
      if (inputs[focusIndex]) inputs[focusIndex].focus();
    }
  }

  add.addEventListener('click', () => {
    if (items.length >= MAX_ITEMS) return;
    items.push({ key: newKey(), label: '' });
    ok.textContent = '';
    draw(items.length - 1);
  });

  save.addEventListener('click', async () => {
    msg.textContent = '';
    ok.textContent = '';
    const empty = items.findIndex((i) => !i.label.trim());
    if (empty >= 0) {
      msg.textContent = t('cl.needLabel', { n: empty + 1 });
      list.querySelectorAll('input')[empty].focus();
      return;
    }
    save.disabled = true;
    try {
      items = (await scApi.saveChecklist(items.map((i) => ({ key: i.key, label: i.label.trim() })))).map((i) => ({ ...i }));
      draw();
      ok.textContent = t('cl.saved');
    } catch (err) {
      msg.textContent = errorMessage(err);
    } finally {
      save.disabled = false;
    }
  });

  (async () => {
    try {
      items = ((await scApi.checklist()) || []).map((i) => ({ key: i.key, label: i.label }));
      draw();
    } catch (err) {
      msg.textContent = errorMessage(err);
    }
  })();

  const node = card('cl.title', h('p', { class: 'muted' }, t('cl.intro')), list, add, msg, ok, save);
  node.dataset.testid = 'checklist';
  return { node };
}
