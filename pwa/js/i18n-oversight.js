// Copy of the department's oversight page (四(三)五), zh-CN the source of truth, English mirroring it
// key for key; added when the page is first opened.

import { addStrings } from './i18n.js';

const zh = {
  'ov.title': '赋权事项执法监督',
  'ov.intro': '本部门赋权乡镇（街道）实施的事项，乡镇在这些事项下的执法记录和案件在这里只读查看。发现问题可以提出监督意见：意见作为整改任务发给乡镇，乡镇整改后由您验收。',
  'ov.actions': '乡镇执法记录',
  'ov.cases': '乡镇案件',
  'ov.mine': '我提出的监督意见',
  'ov.noActions': '还没有乡镇在本部门赋权的事项下作出执法记录。管理员把事项赋权给乡镇后，乡镇的执法记录会出现在这里。',
  'ov.noCases': '还没有乡镇在本部门赋权的事项下立案。',
  'ov.noFindings': '您还没有提出监督意见。在上面的执法记录或案件下点“提出监督意见”即可。',
  'ov.unit': '乡镇（街道）',
  'ov.allUnits': '全部乡镇',
  'ov.raise': '提出监督意见',
  'ov.findingText': '监督意见',
  'ov.findingHint': '写明发现的问题和整改要求，乡镇会看到这段文字。',
  'ov.dueDays': '整改期限（工作日）',
  'ov.send': '发送监督意见',
  'ov.sending': '正在发送…',
  'ov.sent': '监督意见已发送，{unit}需在{date}前整改。',
  'ov.openTask': '查看整改任务',
  'ov.textMissing': '请写明监督意见（至少 2 个字）。',
  'ov.daysInvalid': '整改期限应为 1 到 60 个工作日。',
  'ov.readOnly': '只读：记录由乡镇自己修改。',
  'err.oversight.read_only': '本部门对这条记录只有监督权，不能修改；发现问题请提出监督意见。',
};

const en = {
  'ov.title': 'Oversight of delegated powers',
  'ov.intro': 'Actions and cases of the townships under the items your department delegated to them, read-only. Raise a finding where something is wrong: it goes to the township as a corrective action, and you accept its correction.',
  'ov.actions': "Townships' actions",
  'ov.cases': "Townships' cases",
  'ov.mine': 'Findings I raised',
  'ov.noActions': 'No township has recorded an action under your department\'s delegated items yet. Once an admin delegates an item to a township, its actions appear here.',
  'ov.noCases': 'No township has opened a case under your department\'s delegated items yet.',
  'ov.noFindings': 'You have not raised a finding yet. Use “Raise a finding” under an action or a case above.',
  'ov.unit': 'Township',
  'ov.allUnits': 'All townships',
  'ov.raise': 'Raise a finding',
  'ov.findingText': 'Finding',
  'ov.findingHint': 'The problem found and what must be corrected; the township reads this text.',
  'ov.dueDays': 'Time to correct (working days)',
  'ov.send': 'Send the finding',
  'ov.sending': 'Sending…',
  'ov.sent': 'Finding sent: {unit} must correct it by {date}.',
  'ov.openTask': 'Open the corrective action',
  'ov.textMissing': 'Write the finding (at least 2 characters).',
  'ov.daysInvalid': 'The time to correct is 1 to 60 working days.',
  'ov.readOnly': 'Read-only: the township changes its own records.',
  'err.oversight.read_only': 'Your department supervises this record but cannot change it; raise a finding instead.',
};

addStrings({ 'zh-CN': zh, en });
