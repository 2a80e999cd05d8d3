// #/nominate: the public application to be an invited supervisor (个人报名), open without signing in.
// A signed-in officer or supervisor uses the same form to nominate someone for their unit (单位推荐).
// Either may name the units the nominee would supervise, from the public list of active units.
// Nothing typed is shown back: a confirmation only.

import { errorMessage, request } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import '../i18n-roster.js';
import { choices, field, say } from '../enforcement.js';

export const CATEGORIES = ['deputy', 'cppcc', 'retired', 'other'];
const PHONE = /^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$/;
const NOMINATORS = ['officer', 'supervisor'];

function unitChecks(name, units) {
  return h('div', { class: 'choices' }, units.map((u) => {
    const id = `${name}-${u.id}`;
    return h('label', { class: 'choice', for: id },
      h('input', { id, type: 'checkbox', name, value: u.id, class: 'choice__box' }),
      h('span', { class: 'choice__text' }, h('span', { class: 'choice__label' }, u.name)));
  }));
}

export function nominatePage({ user } = {}) {
  const roles = (user && user.roles) || [];
  const ownUnits = ((user && user.units) || []).filter((u) => u && u.id);
  const asUnit = roles.some((r) => NOMINATORS.includes(r)) && ownUnits.length > 0;

  const name = field({ id: 'nm-name', label: t('nm.name'), maxlength: 100, autocomplete: 'name' });
  const phone = field({ id: 'nm-phone', label: t('nm.phone'), hint: t('nm.phoneHint'), type: 'tel', inputmode: 'tel', maxlength: 20, autocomplete: 'tel' });
  const category = choices({
    name: 'nm-category',
    legend: t('nm.category'),
    options: CATEGORIES.map((c) => ({ value: c, label: t(`ro.category.${c}`) })),
    value: '',
  });
  const organisation = field({ id: 'nm-organisation', label: t('nm.organisation'), maxlength: 100 });
  const statement = field({ id: 'nm-statement', label: t('nm.statement'), hint: t('nm.statementHint'), multiline: true, maxlength: 1000 });
  const byUnit = asUnit
    ? choices({
      name: 'nm-by-unit',
      legend: t('nm.byUnit'),
      options: ownUnits.map((u) => ({ value: u.id, label: u.name })),
      value: ownUnits[0].id,
      describedBy: null,
    })
    : null;
  // Units to supervise, from the public list of active units (id and name; no sign-in needed).
  const unitBox = h('div', { 'data-testid': 'nm-units' });
  const unitGroup = h('fieldset', { class: 'group' },
    h('legend', { class: 'group__legend' }, t('nm.units'), h('span', { class: 'field__optional' }, ` ${t('common.optional')}`)),
    h('p', { class: 'field__hint' }, t('nm.unitsHint')),
    unitBox);
  request('GET', '/public/units', { auth: false })
    .then((units) => unitBox.replaceChildren(unitChecks('nm-unit', units.sort((a, b) => a.name.localeCompare(b.name, 'zh-CN')))))
    .catch((err) => unitBox.replaceChildren(h('p', { class: 'alert', role: 'alert' }, errorMessage(err))));

  const error = h('p', { class: 'alert', role: 'alert', 'data-testid': 'nm-error' });
  const submit = h('button', { type: 'submit', class: 'btn btn--primary btn--xl btn--block', 'data-testid': 'nm-submit' }, t('nm.submit'));
  const form = h('form', { class: 'form', novalidate: true, 'data-testid': 'nm-form' },
    byUnit ? byUnit.node : null,
    name.node, phone.node, category.node, organisation.node, statement.node,
    unitGroup, error, submit);
  const heading = h('h1', { class: 'page__title', tabindex: '-1' }, t('nm.title'));
  const body = h('div', { class: 'page__body' }, h('p', { class: 'lead' }, t('nm.intro')), form);

  function fail(key, input) {
    say(error, t(key));
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  }

  function confirmation() {
    const again = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, t('nm.again'));
    again.addEventListener('click', () => {
      form.reset();
      body.replaceChildren(h('p', { class: 'lead' }, t('nm.intro')), form);
      name.input.focus();
    });
    const title = h('h2', { class: 'notice__title', tabindex: '-1' }, t('nm.done'));
    body.replaceChildren(h('div', { class: 'notice notice--ok', role: 'status', 'data-testid': 'nm-done' },
      title, h('p', {}, t(asUnit ? 'nm.doneUnit' : 'nm.doneText'))), again);
    title.focus();
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    const values = {
      name: name.input.value.trim(),
      phone: phone.input.value.replace(/\s+/g, ''),
      category: category.value(),
      organisation: organisation.input.value.trim(),
      statement: statement.input.value.trim(),
    };
    if (!values.name) return fail('nm.needName', name.input);
    if (!PHONE.test(values.phone)) return fail('nm.badPhone', phone.input);
    if (!CATEGORIES.includes(values.category)) return fail('nm.needCategory', category.inputs[0]);
    if (!values.organisation) return fail('nm.needOrganisation', organisation.input);
    if (!values.statement) return fail('nm.needStatement', statement.input);
    const payload = { ...values, unit_ids: [...unitBox.querySelectorAll('input[name="nm-unit"]:checked')].map((i) => i.value) };
    if (asUnit) payload.nominated_by_unit = byUnit.value();
    submit.disabled = true;
    submit.textContent = t('common.submitting');
    try {
      await request('POST', '/nominations', { body: payload, auth: asUnit });
      confirmation();
    } catch (err) {
      say(error, errorMessage(err));
    } finally {
      submit.disabled = false;
      submit.textContent = t('nm.submit');
    }
  });

  const node = h('section', { class: 'page page--nominate', 'data-testid': 'nominate' }, heading, body);
  return { node };
}
