// Copy of the admin's imports page (#/imports), zh-CN the source of truth, English mirroring it key
// for key; added when the page is first opened.

import { addStrings } from './i18n.js';

const zh = {
  'im.title': '导入清单与用户',
  'im.intro': '从区里已有的表格导入权责清单、指导目录（赋权）和用户名单。先预览：每一行都会标明新建、修改、不变或拒绝；有任何一行被拒绝时不能导入，全部无误才一次写入。',
  'im.kind': '导入内容',
  'im.kind.items': '权责清单（执法事项）',
  'im.kind.delegations': '指导目录（赋权乡镇）',
  'im.kind.users': '用户名单',
  'im.file': '选择文件（CSV 或 Excel .xlsx，第一行为表头）',
  'im.headers.items': '表头：事项编码、事项名称、类别（行政处罚/行政强制/行政检查/其他）、主管部门、实施依据、重大案件罚款标准、重大案件措施（用“、”分隔）、刑事移送标准。',
  'im.headers.delegations': '表头：事项编码、乡镇、生效日期、失效日期（可空），日期写作 2026-01-01。',
  'im.headers.users': '表头：用户名、姓名、角色（用“、”分隔）、单位（用“、”分隔）、手机（可空）。新用户没有可用密码：导入后在用户页面生成重设密码链接发给本人。',
  'im.preview': '预览',
  'im.import': '导入',
  'im.confirm': '将写入：新建 {create} 行，修改 {change} 行。确定导入吗？',
  'im.summary': '共 {n} 行：新建 {create}，修改 {change}，不变 {unchanged}，拒绝 {refuse}。',
  'im.refused': '有 {n} 行被拒绝，请改正文件后重新预览；改正前不能导入。',
  'im.done': '已导入：新建 {create} 行，修改 {change} 行，{unchanged} 行不变。',
  'im.nothing': '文件与系统中的内容一致，无需写入。',
  'im.row': '第 {row} 行',
  'im.action.create': '新建',
  'im.action.change': '修改',
  'im.action.unchanged': '不变',
  'im.action.refuse': '拒绝',
  'im.change': '{field}：{old} → {new}',
  'im.empty': '（空）',
  'im.noFile': '请先选择文件。',
};

const en = {
  'im.title': 'Import lists and users',
  'im.intro': "Import the item catalogue (权责清单), the delegations (指导目录) and user lists from the district's spreadsheets. Preview first: every row shows create, change, unchanged or refused; while any row is refused nothing can be imported, and a clean file is written in one go.",
  'im.kind': 'What to import',
  'im.kind.items': 'Item catalogue (权责清单)',
  'im.kind.delegations': 'Delegations to townships (指导目录)',
  'im.kind.users': 'User list',
  'im.file': 'Choose a file (CSV or Excel .xlsx, first row = headers)',
  'im.headers.items': 'Headers: 事项编码 (code), 事项名称 (name), 类别 (kind: 行政处罚/行政强制/行政检查/其他), 主管部门 (owner_unit), 实施依据 (legal_basis), 重大案件罚款标准, 重大案件措施 (、-separated), 刑事移送标准.',
  'im.headers.delegations': 'Headers: 事项编码 (code), 乡镇 (unit), 生效日期 (effective_from), 失效日期 (effective_to, optional); dates as 2026-01-01.',
  'im.headers.users': 'Headers: 用户名 (username), 姓名 (display_name), 角色 (roles, 、-separated), 单位 (units, 、-separated), 手机 (phone, optional). New users get no usable password: make them a password link on their user page after the import.',
  'im.preview': 'Preview',
  'im.import': 'Import',
  'im.confirm': 'This writes {create} new and {change} changed rows. Import now?',
  'im.summary': '{n} rows: {create} new, {change} changed, {unchanged} unchanged, {refuse} refused.',
  'im.refused': '{n} rows are refused: fix the file and preview again; it cannot be imported until then.',
  'im.done': 'Imported: {create} new, {change} changed, {unchanged} unchanged.',
  'im.nothing': 'The file matches what is on record; nothing to write.',
  'im.row': 'Row {row}',
  'im.action.create': 'New',
  'im.action.change': 'Change',
  'im.action.unchanged': 'Unchanged',
  'im.action.refuse': 'Refused',
  'im.change': '{field}: {old} → {new}',
  'im.empty': '(empty)',
  'im.noFile': 'Choose a file first.',
};

addStrings({ 'zh-CN': zh, en });
