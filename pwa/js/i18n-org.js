// Copy of the organisation's public pages (the 执法事项清单), zh-CN the source of truth, English
// mirroring it key for key; added when such a page is first opened.

import { addStrings } from './i18n.js';

const zh = {
  'el.title': '行政执法事项清单',
  'el.heading': '{unit}行政执法事项清单',
  'el.unit': '单位',
  'el.on': '日期',
  'el.count': '截至{date}，可实施事项{n}项（本单位职权{own}项，赋权实施{delegated}项）',
  'el.empty': '该单位在这一天没有可实施的执法事项。事项由管理员录入权责清单，乡镇的事项由主管部门赋权后列在这里。',
  'el.own': '本单位职权',
  'el.delegated': '赋权实施（{owner}）',
  'el.delegatedSpan': '{from} 至 {to}',
  'el.openEnded': '长期',
  'el.noBasis': '（未录入实施依据）',
  'el.major': '重大案件标准：{rule}',
  'el.majorFine': '罚款{amount}元以上',
  'el.criminal': '刑事移送标准：涉案金额{amount}元以上',
  'el.print': '打印',
  'el.noUnits': '还没有乡镇或部门。管理员添加单位并录入事项后，清单会显示在这里。',
  'el.kind.penalty': '行政处罚',
  'el.kind.coercion': '行政强制',
  'el.kind.inspection': '行政检查',
  'el.kind.other': '其他',
};

const en = {
  'el.title': 'Enforcement item list',
  'el.heading': 'Enforcement items of {unit}',
  'el.unit': 'Unit',
  'el.on': 'Date',
  'el.count': 'On {date}: {n} items ({own} of its own, {delegated} delegated)',
  'el.empty': 'The unit may enforce no item on that day. Admins enter items in the catalogue; a township\'s items appear here once its department delegates them.',
  'el.own': 'Own authority',
  'el.delegated': 'Delegated ({owner})',
  'el.delegatedSpan': '{from} to {to}',
  'el.openEnded': 'open-ended',
  'el.noBasis': '(no legal basis entered)',
  'el.major': 'Major case: {rule}',
  'el.majorFine': 'fine of {amount} yuan or more',
  'el.criminal': 'Criminal transfer: amount involved {amount} yuan or more',
  'el.print': 'Print',
  'el.noUnits': 'No township or department yet. Once an admin adds units and items, their lists appear here.',
  'el.kind.penalty': 'Penalty',
  'el.kind.coercion': 'Coercion',
  'el.kind.inspection': 'Inspection',
  'el.kind.other': 'Other',
};

addStrings({ 'zh-CN': zh, en });
