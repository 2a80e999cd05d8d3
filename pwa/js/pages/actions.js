// #/officer/actions "我的执法记录" and #/officer/actions/<id>, with 立案 from a record.

import { fill, h } from '../dom.js';
import { t, formatDateTime, formatDuration } from '../i18n.js';
import { errorMessage, requestBlob } from '../api.js';
import { cached } from '../offline-cache.js';
import {
  MY_ACTIONS_KEY,
  MY_ACTIONS_PAGE,
  api,
  backLink,
  facts,
  field,
  myActions,
  newId,
  pagedList,
  partyText,
  personName,
  say,
  setFlash,
  takeFlash,
} from '../enforcement.js';
import { card, loadError, loadingLine, renditionNotice, reversedNote } from '../widgets.js';


function actionItem(a) {
  const party = a.party && a.party.name ? partyText(a.party) : '';
  return h('li', {},
    h('a', { class: 'row', href: `#/officer/actions/${encodeURIComponent(a.id)}`, 'data-testid': 'action-row', 'data-id': a.id },
      h('span', { class: 'row__title' }, a.item_name || a.item_code),
      h('span', { class: 'row__meta' }, `${t(`kind.${a.kind}`)} · ${formatDateTime(a.occurred_at)}`),
      h('span', { class: 'row__meta' }, a.unit_name),
      party ? h('span', { class: 'row__meta' }, `${t('action.party')}${t('common.colon')}${party}`) : null,
      a.address ? h('span', { class: 'row__meta' }, a.address) : null,
      a.recording_missing ? h('span', { class: 'row__meta row__warn', 'data-testid': 'row-recording-missing' }, t('action.recordingNone')) : null,
      reversedNote(a, { inline: true })));
}

export function actionsPage({ user }) {
  const offline = h('p', { class: 'notice', role: 'status', 'data-testid': 'actions-offline' });
  offline.hidden = true;
  const list = pagedList({
    // The first page is kept on the phone, so recent records can be looked up without signal.
    fetchPage: async (cursor) => {
      if (cursor) return api.actions({ officer_id: user.id, limit: MY_ACTIONS_PAGE, cursor });
      const got = await cached(MY_ACTIONS_KEY, () => myActions(user));
      offline.hidden = !got.offline;
      offline.textContent = got.offline ? t('actions.offline', { time: formatDateTime(got.savedAt) }) : '';
      return got.offline ? { ...got.value, next_cursor: null } : got.value;
    },
    renderItem: actionItem,
    emptyKey: 'actions.empty',
    errorMessage,
    testid: 'actions',
  });
  const node = h('section', { class: 'page page--list' },
    backLink('#/officer', 'officer.title'),
    h('h1', { class: 'page__title', tabindex: '-1' }, t('actions.title')),
    h('a', { class: 'btn btn--primary btn--block', href: '#/officer/new' },
      h('span', { class: 'btn__plus', 'aria-hidden': 'true' }, '+'), t('officer.new')),
    offline,
    list.node);
  return { node };
}

// ---- detail -------------------------------------------------------------------------------

function location(a) {
  const l = a.location;
  if (!l || l.lat == null) return t('action.unlocated'); // recorded without a GPS fix; the address says where
  return t('action.coords', { lat: Number(l.lat).toFixed(5), lon: Number(l.lon).toFixed(5), m: Math.round(l.accuracy_m) });
}

/** The 立案 button, opening a one-field form; the case id is chosen once so a retry cannot file twice. */
function fileCase(a, navigate) {
  const caseId = newId();
  const panel = h('div', { class: 'panel', hidden: true });
  const error = h('div', { class: 'alert', role: 'alert' });
  const open = h('button', { type: 'button', class: 'btn btn--primary btn--xl btn--block', 'aria-expanded': 'false' }, t('action.fileCase'));
  const summary = field({ id: 'case-summary', label: t('action.summary'), hint: t('action.summaryHint'), multiline: true, maxlength: 4000 });
  const submit = h('button', { type: 'submit', class: 'btn btn--primary btn--block' }, t('action.fileCaseSubmit'));
  const cancel = h('button', { type: 'button', class: 'btn btn--secondary btn--block' }, t('common.cancel'));
  const form = h('form', { class: 'form', novalidate: true }, summary.node, error, submit, cancel);
  panel.append(form);

  open.addEventListener('click', () => {
    panel.hidden = false;
    open.hidden = true;
    open.setAttribute('aria-expanded', 'true');
    summary.input.focus();
  });
  cancel.addEventListener('click', () => {
    panel.hidden = true;
    open.hidden = false;
    open.setAttribute('aria-expanded', 'false');
    open.focus();
  });
  let busy = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    const text = summary.input.value.trim();
    if (!text) {
      say(error, t('action.needSummary'));
      summary.input.focus();
      return;
    }
    say(error, '');
    busy = true;
    submit.disabled = true;
    submit.textContent = t('common.submitting');
    const party = a.party && a.party.name ? { ...a.party } : null;
    // A masked number cannot be filed; the case keeps the name and type.
    if (party && (!party.id_number || /[^0-9A-Za-z]/.test(party.id_number))) delete party.id_number;
    try {
      const c = await api.createCase({
        id: caseId,
        unit_id: a.unit_id,
        item_id: a.item_id,
        action_ids: [a.id],
        ...(party ? { party } : {}),
        summary: text,
      });
      setFlash(t('action.caseFiled'));
      navigate(`cases/${c.id}`);
    } catch (err) {
      say(error, errorMessage(err));
    } finally {
      busy = false;
      submit.disabled = false;
      submit.textContent = t('action.fileCaseSubmit');
    }
  });
  return h('div', { class: 'action' }, h('p', { class: 'muted' }, t('action.fileCaseHint')), open, panel);
}

/** Under a tile: a video's length and codec, a PDF's page count, from what the server read. */
function mediaLine(ev) {
  const m = ev.media;
  if (!m) return null;
  const parts = [];
  if (m.duration_s != null) parts.push(formatDuration(m.duration_s));
  if (m.codec) parts.push(String(m.codec).toUpperCase());
  if (m.pages != null) parts.push(t('evidence.pageCount', { n: m.pages }));
  if (!parts.length) return null;
  return h('span', { class: 'evidence-tile__media', 'data-testid': 'evidence-media' }, parts.join(' · '));
}

/**
 * The action's evidence: a thumbnail per item (fetched with the token; a video shows its poster
 * frame, a PDF its first page, when the server or the phone made one), each opening #/evidence/<id>
 * with the watermarked copy and the original; a rendition still being made, or that failed, says
 * so. `urls` collects the object URLs for the page to release.
 */
export function evidenceGrid(items, urls, isAlive) {
  const list = h('ul', { class: 'evidence-grid', 'data-testid': 'action-evidence' });
  items.forEach((ev, i) => {
    const kind = String(ev.content_type || '').split('/')[0];
    const label = t(`evidence.kind.${['image', 'video', 'audio'].includes(kind) ? kind : 'document'}`);
    const thumb = h('span', { class: 'evidence-tile__thumb', 'aria-hidden': 'true' }, label);
    list.append(h('li', {}, h('a', {
      class: 'evidence-tile',
      href: `#/evidence/${encodeURIComponent(ev.id)}`,
      'data-testid': 'evidence-link',
      'data-id': ev.id,
      'aria-label': t('evidence.open', { what: `${label} ${i + 1}` }),
    }, thumb, h('span', { class: 'evidence-tile__meta', 'aria-hidden': 'true' }, `${label} ${i + 1}`), mediaLine(ev)),
    renditionNotice(ev, 'evidence-tile__notice')));
    const path = ev.renditions && ev.renditions.thumbnail;
    if (!path) return;
    requestBlob(path).then((blob) => {
      if (!isAlive()) return;
      const url = URL.createObjectURL(blob);
      urls.push(url);
      thumb.replaceChildren(h('img', { src: url, alt: '', decoding: 'async' }));
    }).catch(() => {});
  });
  return list;
}

function evidenceList(items, urls, isAlive) {
  if (!items.length) return null;
  return card('action.evidence', evidenceGrid(items, urls, isAlive));
}

/** Where "back" leads from a record: the officer's list, else the viewer's home. */
function homeOf(user) {
  const roles = new Set(Array.isArray(user && user.roles) ? user.roles : []);
  for (const [role, href, key] of [
    ['command', '#/command', 'command.title'],
    ['supervisor', '#/supervisor', 'supervisor.title'],
    ['legal_reviewer', '#/reviewer', 'reviewer.title'],
    ['admin', '#/admin', 'admin.title'],
  ]) {
    if (roles.has(role)) return [href, key];
  }
  return ['#/officer/actions', 'actions.title'];
}

export function actionPage({ user, params, navigate }) {
  const officerView = /^#\/officer\//.test(location.hash);
  const [backHref, backKey] = officerView ? ['#/officer/actions', 'actions.title'] : homeOf(user);
  const mayFile = (a) => Boolean(user && Array.isArray(user.roles) && user.roles.includes('officer')
    && Array.isArray(user.units) && user.units.some((u) => String(u.id) === String(a.unit_id)));
  const flash = takeFlash();
  const notice = h('p', { class: 'notice notice--ok', role: 'status', 'data-testid': 'flash' }, flash);
  const body = h('div', { class: 'page__body' }, loadingLine());
  const title = h('h1', { class: 'page__title', tabindex: '-1' }, t('action.detailTitle'));
  let alive = true;
  const thumbUrls = [];

  function draw(a) {
    const cases = Array.isArray(a.case_ids) ? a.case_ids : [];
    fill(body,
      a.recording_missing
        ? h('p', { class: 'notice notice--warn', role: 'alert', 'data-testid': 'recording-missing' }, t('action.recordingMissing'))
        : null,
      reversedNote(a),
      card({ text: a.item_name || a.item_code },
        facts([
          [t('action.item'), `${a.item_code} ${a.item_name}`],
          [t('action.unit'), a.unit_name],
          [t('action.kind'), t(`kind.${a.kind}`), 'action-kind'],
          [t('action.time'), formatDateTime(a.occurred_at)],
          [t('action.officers'), (a.officers || []).map(personName).join('、'), 'action-officers'],
          [t('action.party'), partyText(a.party), 'action-party'],
          [t('action.address'), a.address],
          [t('action.location'), location(a), 'action-location'],
          a.notes ? [t('action.notes'), a.notes] : null,
          [t('action.evidence'), t('action.evidenceCount', { n: a.evidence_count || 0 })],
          a.recording_required
            ? [t('action.recording'), t(a.recording_missing ? 'action.recordingNone' : 'action.recordingDone'), 'action-recording']
            : null,
        ])),
      cases.length
        ? card('action.cases', h('ul', { class: 'list' }, cases.map((id) => h('li', {},
          h('a', { class: 'row', href: `#/cases/${encodeURIComponent(id)}` }, h('span', { class: 'row__title' }, t('case.title')),
            h('span', { class: 'row__meta' }, String(id).slice(0, 8)))))))
        : null,
      evidenceList(Array.isArray(a.evidence) ? a.evidence : [], thumbUrls, () => alive),
      mayFile(a) ? fileCase(a, navigate) : null,
    );
    // Case numbers are friendlier than ids: fill them in when the cases answer.
    for (const link of body.querySelectorAll('a[href^="#/cases/"]')) {
      const id = decodeURIComponent(link.getAttribute('href').slice('#/cases/'.length));
      api.getCase(id).then((c) => {
        if (!alive) return;
        link.querySelector('.row__title').textContent = `${t('case.title')} ${c.number || ''}`.trim();
        link.querySelector('.row__meta').textContent = t(`status.${c.status}`);
      }).catch(() => {});
    }
  }

  async function load() {
    body.replaceChildren(loadingLine());
    try {
      const a = await api.action(params.id);
      if (alive) draw(a);
    } catch (err) {
      if (alive) body.replaceChildren(loadError(errorMessage(err), load));
    }
  }
  load();

  const node = h('section', { class: 'page page--detail' },
    backLink(backHref, backKey),
    title,
    notice,
    body);
  return {
    node,
    cleanup() {
      alive = false;
      for (const url of thumbUrls.splice(0)) URL.revokeObjectURL(url);
    },
  };
}
