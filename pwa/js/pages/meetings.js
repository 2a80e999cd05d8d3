// 领导小组 and 联席会议 for the bureau (the server shows a unit's people their own).
// #/leading-groups: the groups and a form to set one up; #/leading-groups/<id>: its members with
// their 公职律师 / 法律职业资格 flags, the counts, and the member list to change (version-checked).
// #/meetings: the meetings and a form to record one; #/meetings/<id>: its issues and resolutions,
// each with its corrective action's status, linking to #/tasks/<id>.

import { request } from '../api.js';
import { fill, h, nextId } from '../dom.js';
import { beijingToday, formatDate, t } from '../i18n.js';
import { backLink, choices, field, pagedList, say } from '../enforcement.js';
import { card, loadError, loadingLine } from '../widgets.js';
import { enc, problemText } from '../reports.js';
import { pageHeading } from './common.js';
import '../i18n-meetings.js';

const ROLES = ['组长', '副组长', '成员', '办公室主任'];
const KINDS = ['联席会议', '领导小组会议'];
const YES = new Set(['是', 'y', 'yes', '1', 'true', '√']);
const groupHref = (id) => `#/leading-groups/${enc(id)}`;
const meetingHref = (id) => `#/meetings/${enc(id)}`;
/** The page's stylesheet, added once (the status colours). */
function meetingStyles() {
  if (!document.querySelector('link[data-meetings]')) {
    document.head.append(h('link', { rel: 'stylesheet', href: '/css/meetings.css', 'data-meetings': '' }));
  }
}
const lines = (text) => text.split('\n').map((s) => s.trim()).filter(Boolean);

async function loadUnits() {
  const page = await request('GET', '/units?limit=200');
  return (page && page.items) || [];
}

function unitSelect(id, testid) {
  const select = h('select', { id, required: true, 'data-testid': testid });
  loadUnits().then((units) => fill(select, units.map((u) => h('option', { value: u.id }, u.name)))).catch(() => {});
  return select;
}

// ---- leading groups --------------------------------------------------------------------------

/** "姓名，职务，组长，是，否" per line → the API's members; null and a message for a bad line. */
function parseMembers(text) {
  const members = [];
  const rows = lines(text);
  for (let i = 0; i < rows.length; i += 1) {
    const [name, post = '', role = '成员', lawyer = '', qualified = ''] = rows[i].split(/[，,]/).map((s) => s.trim());
    if (!name || !ROLES.includes(role)) return { error: t('mt.badLine', { n: i + 1 }) };
    members.push({ name, post, role, public_lawyer: YES.has(lawyer.toLowerCase()), legal_qualification: YES.has(qualified.toLowerCase()) });
  }
  return { members };
}

const memberLine = (m) => [m.name, m.post, m.role, m.public_lawyer ? '是' : '否', m.legal_qualification ? '是' : '否'].join('，');
const flag = (on) => t(on ? 'mt.yes' : 'mt.no');

function membersTable(members) {
  if (!members.length) return h('p', { class: 'muted' }, t('mt.membersEmpty'));
  const cols = ['name', 'post', 'role', 'lawyer', 'qualified'];
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table', 'data-testid': 'members' },
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, t(`mt.col.${c}`))))),
    h('tbody', {}, members.map((m) => h('tr', { 'data-testid': 'member' },
      h('td', {}, m.name), h('td', {}, m.post), h('td', {}, m.role),
      h('td', {}, flag(m.public_lawyer)), h('td', {}, flag(m.legal_qualification)))))));
}

const countsLine = (c) => t('mt.counts', { members: c.members, lawyers: c.public_lawyers, qualified: c.legal_qualification, either: c.either });

function groupForm() {
  const id = nextId('lg');
  const unit = unitSelect(`${id}-unit`, 'group-unit');
  const name = field({ id: `${id}-name`, label: t('mt.name'), value: t('mt.defaultName'), required: true, maxlength: 200 });
  const on = field({ id: `${id}-on`, label: t('mt.setUpOn'), type: 'date', value: beijingToday(), max: beijingToday(), required: true });
  const members = field({ id: `${id}-members`, label: t('mt.members'), hint: t('mt.membersHint'), multiline: true, optional: true, 'data-testid': 'group-members' });
  const msg = h('p', { class: 'alert', role: 'alert' });
  const send = h('button', { type: 'submit', class: 'btn btn--primary btn--block', 'data-testid': 'group-send' }, t('mt.create'));
  const form = h('form', { class: 'card', 'data-testid': 'group-form' },
    h('h2', { class: 'card__title' }, t('mt.newGroup')),
    h('div', { class: 'field' }, h('label', { for: unit.id }, t('mt.unit')), unit),
    name.node, on.node, members.node, msg, send);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const parsed = parseMembers(members.input.value);
    if (parsed.error) return say(msg, parsed.error);
    send.disabled = true;
    try {
      const group = await request('POST', '/leading-groups', {
        body: { unit_id: unit.value, name: name.input.value.trim(), set_up_on: on.input.value, members: parsed.members },
      });
      location.hash = groupHref(group.id);
    } catch (err) {
      say(msg, problemText(err));
      send.disabled = false;
    }
    return undefined;
  });
  return form;
}

const keeps = (user) => user && (user.roles || []).some((r) => r === 'supervisor' || r === 'admin');

export function leadingGroupsPage({ user } = {}) {
  meetingStyles();
  const list = pagedList({
    fetchPage: (cursor) => request('GET', `/leading-groups${cursor ? `?cursor=${enc(cursor)}` : ''}`),
    renderItem: (g) => h('li', {}, h('a', { class: 'row', href: groupHref(g.id), 'data-testid': 'group-row' },
      h('span', { class: 'row__title' }, `${g.unit_name} · ${g.name}`),
      h('span', { class: 'row__meta' }, countsLine(g.counts)))),
    emptyKey: 'mt.groupsEmpty',
    errorMessage: problemText,
    testid: 'groups',
  });
  return {
    node: h('section', { class: 'page page--groups' },
      backLink('#/supervisor', 'supervisor.title'), pageHeading('mt.groupsTitle'),
      h('p', { class: 'muted' }, t('mt.groupsIntro')),
      keeps(user) ? groupForm() : null, card('mt.groupsTitle', list.node)),
  };
}

function memberEditor(group, onSaved) {
  const id = nextId('lgm');
  const members = field({ id: `${id}-members`, label: t('mt.members'), hint: t('mt.membersHint'), multiline: true, value: group.members.map(memberLine).join('\n'), 'data-testid': 'members-edit' });
  const msg = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: 'btn btn--primary btn--block', 'data-testid': 'members-save' }, t('mt.save'));
  const form = h('form', { 'data-testid': 'members-form' }, members.node, msg, save);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const parsed = parseMembers(members.input.value);
    if (parsed.error) return say(msg, parsed.error);
    save.disabled = true;
    try {
      // Members chosen from the user list keep their user id when their line is unchanged.
      const before = new Map(group.members.map((m) => [memberLine(m), m.user_id]));
      const body = parsed.members.map((m) => {
        const userId = before.get(memberLine(m));
        return userId ? { ...m, user_id: userId } : m;
      });
      onSaved(await request('PATCH', `/leading-groups/${enc(group.id)}`, { body: { version: group.version, members: body } }));
    } catch (err) {
      say(msg, problemText(err));
      save.disabled = false;
    }
    return undefined;
  });
  return h('details', {}, h('summary', { class: 'btn btn--secondary btn--block' }, t('mt.editMembers')), form);
}

export function leadingGroupPage({ params, user } = {}) {
  meetingStyles();
  const body = h('div', {}, loadingLine());
  const show = (g) => fill(body,
    h('h2', { class: 'card__title', 'data-testid': 'group-name' }, `${g.unit_name} · ${g.name}`),
    h('p', { class: 'row__meta' }, `${t('mt.setUpOn')}：${formatDate(g.set_up_on)}`),
    h('p', { 'data-testid': 'group-counts' }, countsLine(g.counts)),
    membersTable(g.members),
    keeps(user) ? memberEditor(g, show) : null);
  const load = () => request('GET', `/leading-groups/${enc(params.id)}`).then(show, (err) => fill(body, loadError(problemText(err), load)));
  load();
  return {
    node: h('section', { class: 'page page--group' },
      backLink('#/leading-groups', 'mt.groupsTitle'), pageHeading('mt.groupTitle'), h('div', { class: 'card' }, body)),
  };
}

// ---- meetings --------------------------------------------------------------------------------

function resolutionFields(units) {
  const id = nextId('res');
  const text = field({ id: `${id}-text`, label: t('mt.resolution'), multiline: true, maxlength: 4000, 'data-testid': 'resolution-text' });
  const owner = h('select', { id: `${id}-owner`, 'data-testid': 'resolution-owner' }, units.map((u) => h('option', { value: u.id }, u.name)));
  const due = field({ id: `${id}-due`, label: t('mt.due'), type: 'date', min: beijingToday(), 'data-testid': 'resolution-due' });
  const node = h('fieldset', { class: 'group', 'data-testid': 'resolution' },
    h('legend', { class: 'group__legend' }, t('mt.resolution')),
    text.node, h('div', { class: 'field' }, h('label', { for: owner.id }, t('mt.owner')), owner), due.node);
  return {
    node,
    value: () => (text.input.value.trim() ? { text: text.input.value.trim(), owner_unit_id: owner.value, due_on: due.input.value } : null),
  };
}

function meetingForm() {
  const id = nextId('mt');
  const form = h('form', { class: 'card', 'data-testid': 'meeting-form' }, h('h2', { class: 'card__title' }, t('mt.newMeeting')), loadingLine());
  loadUnits().then((units) => {
    const heldOn = field({ id: `${id}-on`, label: t('mt.heldOn'), type: 'date', value: beijingToday(), max: beijingToday(), required: true });
    const title = field({ id: `${id}-title`, label: t('mt.title'), required: true, maxlength: 200, 'data-testid': 'meeting-title' });
    const kind = choices({ name: `${id}-kind`, legend: t('mt.kind'), value: KINDS[0], options: KINDS.map((k) => ({ value: k, label: t(`mt.kind.${k}`) })) });
    const attending = choices({ name: `${id}-units`, legend: t('mt.units'), type: 'checkbox', value: [], options: units.map((u) => ({ value: u.id, label: u.name })) });
    const attendees = field({ id: `${id}-people`, label: t('mt.attendees'), hint: t('mt.attendeesHint'), multiline: true, optional: true });
    const issues = field({ id: `${id}-issues`, label: t('mt.issues'), hint: t('mt.issuesHint'), multiline: true, optional: true, 'data-testid': 'meeting-issues' });
    const resolutions = [resolutionFields(units)];
    const box = h('div', {}, resolutions[0].node);
    const more = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, t('mt.addResolution'));
    more.addEventListener('click', () => {
      const r = resolutionFields(units);
      resolutions.push(r);
      box.append(r.node);
    });
    const msg = h('p', { class: 'alert', role: 'alert' });
    const send = h('button', { type: 'submit', class: 'btn btn--primary btn--block', 'data-testid': 'meeting-send' }, t('mt.record'));
    form.replaceChildren(h('h2', { class: 'card__title' }, t('mt.newMeeting')),
      heldOn.node, title.node, kind.node, attending.node, attendees.node, issues.node,
      h('h3', {}, t('mt.resolutions')), box, more, msg, send);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!attending.value().length) return say(msg, t('mt.pickUnits'));
      send.disabled = true;
      try {
        const meeting = await request('POST', '/meetings', {
          body: {
            held_on: heldOn.input.value,
            title: title.input.value.trim(),
            kind: kind.value(),
            unit_ids: attending.value(),
            attendees: lines(attendees.input.value).map((name) => ({ name })),
            issues: lines(issues.input.value),
            resolutions: resolutions.map((r) => r.value()).filter(Boolean),
          },
        });
        location.hash = meetingHref(meeting.id);
      } catch (err) {
        say(msg, problemText(err));
        send.disabled = false;
      }
      return undefined;
    });
  }, (err) => form.append(h('p', { class: 'alert' }, problemText(err))));
  return form;
}

const meetingLine = (m) => t('mt.line', { date: formatDate(m.held_on), kind: t(`mt.kind.${m.kind}`), n: m.resolutions.length });

export function meetingsPage({ user } = {}) {
  meetingStyles();
  const list = pagedList({
    fetchPage: (cursor) => request('GET', `/meetings${cursor ? `?cursor=${enc(cursor)}` : ''}`),
    renderItem: (m) => h('li', {}, h('a', { class: 'row', href: meetingHref(m.id), 'data-testid': 'meeting-row' },
      h('span', { class: 'row__title' }, m.title), h('span', { class: 'row__meta' }, meetingLine(m)))),
    emptyKey: 'mt.meetingsEmpty',
    errorMessage: problemText,
    testid: 'meetings',
  });
  return {
    node: h('section', { class: 'page page--meetings' },
      backLink('#/supervisor', 'supervisor.title'), pageHeading('mt.meetingsTitle'),
      h('p', { class: 'muted' }, t('mt.meetingsIntro')),
      keeps(user) ? meetingForm() : null, card('mt.meetingsTitle', list.node)),
  };
}

function resolutionItem(r) {
  return h('li', { class: 'row', 'data-testid': 'resolution-row', 'data-status': r.task_status },
    h('span', { class: 'row__title' }, r.text),
    h('span', { class: 'row__meta' }, `${t('mt.owner')}：${r.owner_unit.name} · ${t('mt.due')}：${formatDate(r.due_on)}`),
    h('span', {},
      h('span', { class: `status status--${r.task_status}`, 'data-testid': 'resolution-status' }, t(`mt.status.${r.task_status}`)),
      r.overdue ? h('span', { class: 'status status--overdue', 'data-testid': 'resolution-overdue' }, t('mt.overdue')) : null,
      ' ', h('a', { href: `#/tasks/${enc(r.task_id)}`, 'data-testid': 'resolution-task' }, t('mt.task'))));
}

export function meetingPage({ params } = {}) {
  meetingStyles();
  const body = h('div', {}, loadingLine());
  const load = () => request('GET', `/meetings/${enc(params.id)}`).then((m) => fill(body,
    h('h2', { class: 'card__title', 'data-testid': 'meeting-name' }, m.title),
    h('p', { class: 'row__meta' }, meetingLine(m)),
    h('p', {}, `${t('mt.units')}：${m.units.map((u) => u.name).join('、')}`),
    m.attendees.length ? h('p', {}, `${t('mt.attendees')}：${m.attendees.map((a) => a.name).join('、')}`) : null,
    h('h3', {}, t('mt.issues')),
    m.issues.length ? h('ul', {}, m.issues.map((x) => h('li', {}, x))) : h('p', { class: 'muted' }, t('mt.noIssues')),
    h('h3', {}, t('mt.resolutions')),
    m.resolutions.length
      ? h('ul', { class: 'list', 'data-testid': 'resolutions' }, m.resolutions.map(resolutionItem))
      : h('p', { class: 'muted' }, t('mt.noResolutions'))), (err) => fill(body, loadError(problemText(err), load)));
  load();
  return {
    node: h('section', { class: 'page page--meeting' },
      backLink('#/meetings', 'mt.meetingsTitle'), pageHeading('mt.meetingTitle'), h('div', { class: 'card' }, body)),
  };
}
