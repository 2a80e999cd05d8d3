// Copy and formatting. zh-CN is the source of truth; English mirrors it key for key.

const LANG_KEY = 'fw.lang';
const TZ = 'Asia/Shanghai';

const zh = {
  'app.name': '执法监督',
  'app.fullName': '行政执法协调监督系统',
  'app.skip': '跳到主要内容',
  'app.noRole': '您的账号尚未分配角色，请联系系统管理员。',
  'app.updated': '系统已更新到新版本。',
  'app.reload': '立即刷新',
  'lang.toggle': 'English',
  'lang.toggleLabel': '切换为英文界面',

  'net.online': '在线',
  'net.offline': '离线',
  'net.syncing': '同步中',
  'net.offlineHint': '离线状态下可继续查看和记录，联网后自动上传。',

  'login.title': '登录',
  'login.intro': '请使用单位分配的账号登录。',
  'login.username': '用户名',
  'login.password': '密码',
  'login.showPassword': '显示密码',
  'login.submit': '登录',
  'login.submitting': '正在登录…',
  'login.needUsername': '请输入用户名。',
  'login.needPassword': '请输入密码。',
  'login.expired': '登录已过期，请重新登录。',
  'login.loggedOut': '您已安全退出。',

  'roles.nav': '切换角色',
  'role.admin': '系统管理',
  'role.command': '指挥中心',
  'role.supervisor': '执法监督',
  'role.invited_supervisor': '特邀监督员',
  'role.legal_reviewer': '法制审核',
  'role.liaison': '监督联系点',
  'role.officer': '今日执法',

  'account.title': '当前账号',
  'account.name': '姓名',
  'account.username': '用户名',
  'account.units': '所属单位',
  'account.noUnit': '未分配单位',
  'account.logout': '退出登录',
  'account.loggingOut': '正在退出…',

  'officer.title': '今日执法',
  'officer.unit': '执法单位',
  'cert.title': '执法证',
  'cert.number': '证号',
  'cert.valid': '有效',
  'cert.validUntil': '有效至 {date}',
  'cert.expiresSoon': '还有 {days} 天到期，请及时办理换证。',
  'cert.expired': '执法证已过期',
  'cert.suspended': '执法证已暂扣',
  'cert.revoked': '执法证已注销',
  'cert.none': '未登记执法证',
  'cert.expiredOn': '已于 {date} 到期。',
  'cert.cannotAct': '您目前不能从事执法活动：新建执法记录、现场取证和抽查应答都将被拒绝。请联系所在单位或区司法局执法监督科。',
  'cert.reason': '原因：{reason}',
  'officer.new': '新建执法记录',
  'officer.newBlocked': '执法证无效，不能新建执法记录。',
  'officer.outbox': '待发送',
  'officer.outboxHint': '条记录等待上传',
  'common.wip': '功能建设中',
  'sos.label': 'SOS 紧急求助',
  'sos.hint': '按住 2 秒发出求助',
  'sos.holding': '继续按住…',
  'sos.tap': '请按住按钮 2 秒才能发出求助。',
  'sos.sent': '求助信号将在联网后发送',

  'reviewer.title': '法制审核',
  'reviewer.intro': '需要法制审核的重大行政处罚案件将在这里列出，审核通过后方可作出处罚决定。',
  'reviewer.queue': '待审核案件',

  'supervisor.title': '执法监督',
  'supervisor.intro': '查看辖区内执法动态，处理告警，制发监督文书并跟踪整改。',
  'supervisor.alerts': '待处理告警',
  'supervisor.documents': '待回复文书',
  'supervisor.reviews': '待评议事项',

  'invited.title': '特邀监督员',
  'invited.intro': '您受邀担任特邀行政执法监督员，可以在邀请范围和期限内查看正在执勤的执法人员，并随时发起抽查。被抽查的执法人员须在规定时间内用手机现场拍照回应，由您对其仪容仪表和执法风纪作出评价。',
  'invited.onDuty': '在岗执法人员',
  'invited.spotCheck': '发起抽查',

  'liaison.title': '监督联系点',
  'liaison.intro': '向区司法局执法监督科反映执法中的问题和群众的意见建议。',
  'liaison.report': '反映问题',
  'liaison.history': '我的反映记录',

  'command.title': '指挥中心',
  'command.counters': '今日概况',
  'command.records': '今日执法记录',
  'command.onDuty': '在岗人员',
  'command.openAlerts': '未处理告警',
  'command.overdue': '超期文书',
  'command.feed': '实时执法动态',
  'command.map': '在岗人员地图',
  'command.alerts': '告警',

  'admin.title': '系统管理',
  'admin.intro': '维护单位、用户、执法事项和赋权目录。',
  'admin.units': '单位管理',
  'admin.users': '用户管理',
  'admin.items': '执法事项',
  'admin.delegations': '赋权管理',

  'common.empty': '暂无数据',
  'common.noValue': '—',

  'err.auth.invalid_credentials': '用户名或密码不正确，请重新输入。',
  'err.auth.locked': '登录失败次数过多，账号已被暂时锁定。请稍后再试，或联系系统管理员解锁。',
  'err.auth.account_disabled': '该账号已停用，请联系系统管理员。',
  'err.auth.expired': '登录已过期，请重新登录。',
  'err.auth.required': '请先登录。',
  'err.auth.invalid_token': '登录已过期，请重新登录。',
  'err.auth.refresh_invalid': '登录已过期，请重新登录。',
  'err.auth.refresh_reused': '为保护账号安全，本次登录已失效，请重新登录。',
  'err.auth.forbidden': '您没有权限进行此操作。',
  'err.validation.failed': '填写的内容不完整或格式不正确，请检查后重试。',
  'err.request.bad': '提交的内容有误，请刷新页面后重试。',
  'err.request.method_not_allowed': '系统暂不支持该操作，请刷新页面后重试。',
  'err.request.too_large': '文件太大，无法上传。请缩小后重试。',
  'err.request.unsupported_media_type': '不支持该文件格式，请换一种格式后重试。',
  'err.not_found': '要查找的内容不存在或已被删除。',
  'err.conflict': '该内容已被他人修改，请刷新后重试。',
  'err.conflict.duplicate': '该内容已经存在，请勿重复提交。',
  'err.idempotency.mismatch': '该记录此前已用不同的内容提交过，请联系系统管理员核对。',
  'err.unit.not_found': '所选单位不存在，请刷新后重新选择。',
  'err.user.not_found': '所选人员不存在，请刷新后重新选择。',
  'err.delegation.invalid': '赋权信息不正确，请检查事项和生效日期。',
  'err.certificate.invalid': '执法证信息不正确，请检查证号和有效期。',
  'err.certificate.not_officer': '只有执法人员才能持有执法证。',
  'err.rate_limited': '操作过于频繁，请稍等片刻再试。',
  'err.server': '服务器暂时无法处理，请稍后重试。如问题持续，请联系系统管理员。',
  'err.internal': '服务器暂时无法处理，请稍后重试。如问题持续，请联系系统管理员。',
  'err.service.unavailable': '系统服务暂时不可用，请稍后重试。',
  'err.network': '无法连接服务器，请检查网络后重试。',
  'err.timeout': '服务器响应超时，请检查网络后重试。',
  'err.unknown': '操作未能完成，请稍后重试。',
};

const en = {
  'app.name': 'Fieldwatch',
  'app.fullName': 'Enforcement coordination and supervision',
  'app.skip': 'Skip to main content',
  'app.noRole': 'Your account has no role yet. Please contact the system administrator.',
  'app.updated': 'A new version has been installed.',
  'app.reload': 'Reload now',
  'lang.toggle': '中文',
  'lang.toggleLabel': '切换为中文界面 (Switch to Chinese)',

  'net.online': 'Online',
  'net.offline': 'Offline',
  'net.syncing': 'Syncing',
  'net.offlineHint': 'You can keep working offline; records upload when the network is back.',

  'login.title': 'Sign in',
  'login.intro': 'Sign in with the account issued by your unit.',
  'login.username': 'Username',
  'login.password': 'Password',
  'login.showPassword': 'Show password',
  'login.submit': 'Sign in',
  'login.submitting': 'Signing in…',
  'login.needUsername': 'Please enter your username.',
  'login.needPassword': 'Please enter your password.',
  'login.expired': 'Your session has expired. Please sign in again.',
  'login.loggedOut': 'You have signed out.',

  'roles.nav': 'Switch role',
  'role.admin': 'Administration',
  'role.command': 'Command center',
  'role.supervisor': 'Supervision',
  'role.invited_supervisor': 'Invited supervisor',
  'role.legal_reviewer': 'Legal review',
  'role.liaison': 'Liaison point',
  'role.officer': 'Today',

  'account.title': 'Account',
  'account.name': 'Name',
  'account.username': 'Username',
  'account.units': 'Units',
  'account.noUnit': 'No unit assigned',
  'account.logout': 'Sign out',
  'account.loggingOut': 'Signing out…',

  'officer.title': 'Today’s enforcement',
  'officer.unit': 'Unit',
  'cert.title': 'Enforcement certificate',
  'cert.number': 'No.',
  'cert.valid': 'Valid',
  'cert.validUntil': 'Valid until {date}',
  'cert.expiresSoon': 'Expires in {days} days. Please renew it in time.',
  'cert.expired': 'Certificate expired',
  'cert.suspended': 'Certificate suspended',
  'cert.revoked': 'Certificate revoked',
  'cert.none': 'No certificate on record',
  'cert.expiredOn': 'Expired on {date}.',
  'cert.cannotAct': 'You cannot perform enforcement now: new records, evidence and spot-check answers will be refused. Please contact your unit or the justice bureau’s supervision office.',
  'cert.reason': 'Reason: {reason}',
  'officer.new': 'New enforcement record',
  'officer.newBlocked': 'Your certificate is not valid, so you cannot create enforcement records.',
  'officer.outbox': 'To send',
  'officer.outboxHint': 'records waiting to upload',
  'common.wip': 'Coming soon',
  'sos.label': 'SOS emergency',
  'sos.hint': 'Hold for 2 seconds to call for help',
  'sos.holding': 'Keep holding…',
  'sos.tap': 'Press and hold the button for 2 seconds to call for help.',
  'sos.sent': 'The SOS signal will be sent when the network is available',

  'reviewer.title': 'Legal review',
  'reviewer.intro': 'Major penalty cases that need legal review are listed here; a decision may only be issued after approval.',
  'reviewer.queue': 'Cases awaiting review',

  'supervisor.title': 'Supervision',
  'supervisor.intro': 'Follow enforcement activity, handle alerts, issue supervision documents and track rectification.',
  'supervisor.alerts': 'Alerts to handle',
  'supervisor.documents': 'Documents awaiting response',
  'supervisor.reviews': 'Reviews',

  'invited.title': 'Invited supervisor',
  'invited.intro': 'As an invited enforcement supervisor you can see the officers on duty within the scope and period of your invitation, and start a spot-check at any time. The officer must answer within the deadline with a live photo, and you rate their appearance and conduct.',
  'invited.onDuty': 'Officers on duty',
  'invited.spotCheck': 'Start a spot-check',

  'liaison.title': 'Liaison point',
  'liaison.intro': 'Report enforcement problems and public feedback to the justice bureau’s supervision office.',
  'liaison.report': 'Report a problem',
  'liaison.history': 'My reports',

  'command.title': 'Command center',
  'command.counters': 'Today at a glance',
  'command.records': 'Records today',
  'command.onDuty': 'Officers on duty',
  'command.openAlerts': 'Open alerts',
  'command.overdue': 'Overdue documents',
  'command.feed': 'Live enforcement feed',
  'command.map': 'On-duty map',
  'command.alerts': 'Alerts',

  'admin.title': 'Administration',
  'admin.intro': 'Maintain units, users, enforcement items and delegations.',
  'admin.units': 'Units',
  'admin.users': 'Users',
  'admin.items': 'Enforcement items',
  'admin.delegations': 'Delegations',

  'common.empty': 'Nothing yet',
  'common.noValue': '—',

  'err.auth.invalid_credentials': 'Wrong username or password. Please try again.',
  'err.auth.locked': 'Too many failed sign-ins: the account is temporarily locked. Try again later or ask the administrator.',
  'err.auth.account_disabled': 'This account is disabled. Please contact the administrator.',
  'err.auth.expired': 'Your session has expired. Please sign in again.',
  'err.auth.required': 'Please sign in first.',
  'err.auth.invalid_token': 'Your session has expired. Please sign in again.',
  'err.auth.refresh_invalid': 'Your session has expired. Please sign in again.',
  'err.auth.refresh_reused': 'For your account’s safety this session was ended. Please sign in again.',
  'err.auth.forbidden': 'You are not allowed to do this.',
  'err.validation.failed': 'Some fields are missing or invalid. Please check and try again.',
  'err.request.bad': 'The request was not valid. Please reload the page and try again.',
  'err.request.method_not_allowed': 'This action is not supported. Please reload the page and try again.',
  'err.request.too_large': 'The file is too large to upload. Please make it smaller.',
  'err.request.unsupported_media_type': 'This file type is not supported.',
  'err.not_found': 'The item does not exist or was deleted.',
  'err.conflict': 'Someone else changed this. Please reload and try again.',
  'err.conflict.duplicate': 'This already exists. Please do not submit it twice.',
  'err.idempotency.mismatch': 'This record was already sent with different content. Please ask the administrator.',
  'err.unit.not_found': 'The selected unit does not exist. Please reload and choose again.',
  'err.user.not_found': 'The selected person does not exist. Please reload and choose again.',
  'err.delegation.invalid': 'The delegation is not valid. Check the item and the dates.',
  'err.certificate.invalid': 'The certificate details are not valid. Check the number and dates.',
  'err.certificate.not_officer': 'Only officers hold enforcement certificates.',
  'err.rate_limited': 'Too many attempts. Please wait a moment.',
  'err.server': 'The server could not handle this right now. Please try again later.',
  'err.internal': 'The server could not handle this right now. Please try again later.',
  'err.service.unavailable': 'A system service is temporarily unavailable. Please try again later.',
  'err.network': 'Cannot reach the server. Check the network and try again.',
  'err.timeout': 'The server did not answer in time. Check the network and try again.',
  'err.unknown': 'The action could not be completed. Please try again.',
};

const DICTS = { 'zh-CN': zh, en };
const listeners = new Set();

function storedLang() {
  try {
    const v = localStorage.getItem(LANG_KEY);
    return v === 'en' ? 'en' : 'zh-CN';
  } catch {
    return 'zh-CN';
  }
}

let lang = storedLang();

export function getLang() {
  return lang;
}

export function setLang(next) {
  lang = next === 'en' ? 'en' : 'zh-CN';
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch {
    /* storage unavailable: keep the choice for this page only */
  }
  document.documentElement.lang = lang;
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function has(key) {
  return key in DICTS[lang] || key in zh;
}

/** Translate `key`, substituting `{name}` placeholders from `params`. */
export function t(key, params) {
  let s = DICTS[lang][key] ?? zh[key] ?? key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

const pad = (n) => String(n).padStart(2, '0');

const partsFmt = new Intl.DateTimeFormat('en-US', {
  timeZone: TZ,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** Calendar fields of an instant as seen in Beijing time. */
function beijingParts(value) {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return null;
  const p = {};
  for (const { type, value: v } of partsFmt.formatToParts(d)) p[type] = v;
  return { y: +p.year, m: +p.month, d: +p.day, hh: +p.hour % 24, mm: +p.minute };
}

/** A plain calendar date "YYYY-MM-DD" is taken as is; anything else is an instant shown in Beijing time. */
function dateParts(value) {
  if (typeof value === 'string') {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    if (m) return { y: +m[1], m: +m[2], d: +m[3], hh: 0, mm: 0 };
  }
  return beijingParts(value);
}

/** 2026年11月27日 (zh) / 2026-11-27 (en) */
export function formatDate(value) {
  const p = dateParts(value);
  if (!p) return t('common.noValue');
  return lang === 'en' ? `${p.y}-${pad(p.m)}-${pad(p.d)}` : `${p.y}年${pad(p.m)}月${pad(p.d)}日`;
}

/** 2026年11月27日 14:05 (zh) / 2026-11-27 14:05 (en), Beijing time. */
export function formatDateTime(value) {
  const p = dateParts(value);
  if (!p) return t('common.noValue');
  return `${formatDate(value)} ${pad(p.hh)}:${pad(p.mm)}`;
}

/** Today's date in Beijing as "YYYY-MM-DD". */
export function beijingToday(now = new Date()) {
  const p = beijingParts(now);
  return `${p.y}-${pad(p.m)}-${pad(p.d)}`;
}

/** Whole days from Beijing today until the calendar date `ymd` (negative when past). */
export function daysUntil(ymd, now = new Date()) {
  const p = dateParts(ymd);
  if (!p) return null;
  const [ty, tm, td] = beijingToday(now).split('-').map(Number);
  return Math.round((Date.UTC(p.y, p.m - 1, p.d) - Date.UTC(ty, tm - 1, td)) / 86400000);
}
