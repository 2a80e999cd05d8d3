// #/invited (特邀监督员 home) and #/spot-checks (the supervisor's spot-checks and invitations): who is
// on duty with a big 发起抽查 each and 随机抽查, and the checks already started, kept current live.

import { h } from '../dom.js';
import { t } from '../i18n.js';
import { LiveStream } from '../live.js';
import { setFlash, takeFlash } from '../enforcement.js';
import { accountCard, pageHeading, todaySlot } from './common.js';
import { checksCard, dutyCard, unitDirectory } from './spotcheck-common.js';
import { checklistCard, invitationsCard } from './spotcheck-admin.js';

const TYPES = ['position.updated', 'spot_check.requested', 'spot_check.submitted', 'spot_check.reviewed'];

/** The on-duty list and the list of checks, wired to the live stream. */
function liveLists({ user, navigate, checksTitle, checksEmpty }) {
  const units = unitDirectory(user);
  const duty = dutyCard({
    units,
    onStarted(check) {
      setFlash(t(check.random_pick ? 'sc.startedRandom' : 'sc.started', { name: check.officer_name || '' }));
      navigate(`spot-checks/${check.id}`);
    },
  });
  const checks = checksCard({ titleKey: checksTitle, emptyKey: checksEmpty });
  const stream = new LiveStream({ types: TYPES });
  stream.on('position.updated', (ev) => duty.upsert(ev.data));
  for (const type of TYPES.slice(1)) {
    stream.on(type, (ev) => {
      if (ev.data && (ev.data.requested_by === user.id || (user.roles || []).includes('supervisor'))) checks.upsert(ev.data);
    });
  }
  stream.on('sync', ({ resumed }) => {
    if (resumed) return;
    duty.refresh();
    checks.refresh();
  });
  duty.refresh();
  checks.refresh();
  units.load().then(() => duty.refresh(), () => {});
  stream.start();
  return {
    duty,
    checks,
    stop() {
      stream.stop();
      duty.stop();
    },
  };
}

function flashLine() {
  return h('p', { class: 'notice notice--ok', role: 'status', 'data-testid': 'sc-flash' }, takeFlash());
}

export function invitedHomePage({ user, onLogout, navigate }) {
  const lists = liveLists({ user, navigate, checksTitle: 'sc.mine', checksEmpty: 'sc.mineEmpty' });
  const node = h('section', { class: 'page page--invited' },
    pageHeading('invited.title'),
    todaySlot(user),
    flashLine(),
    h('p', { class: 'lead', 'data-testid': 'invited-intro' }, t('invited.intro')),
    lists.duty.node,
    lists.checks.node,
    accountCard(user, onLogout));
  return { node, cleanup: lists.stop };
}

export function spotChecksPage({ user, navigate }) {
  const lists = liveLists({ user, navigate, checksTitle: 'sc.all', checksEmpty: 'sc.allEmpty' });
  const invitations = invitationsCard();
  const checklist = checklistCard();
  const node = h('section', { class: 'page page--spotchecks' },
    h('a', { class: 'back', href: '#/supervisor' }, h('span', { 'aria-hidden': 'true' }, '‹ '), t('sc.back.home')),
    pageHeading('sc.supervisorTitle'),
    flashLine(),
    h('p', { class: 'lead' }, t('sc.supervisorIntro')),
    lists.duty.node,
    lists.checks.node,
    invitations.node,
    checklist.node);
  return {
    node,
    cleanup() {
      lists.stop();
      invitations.stop();
    },
  };
}
