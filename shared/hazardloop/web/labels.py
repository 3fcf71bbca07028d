"""The plain-language name of every code people may see, in Simplified Chinese and English.

Pages, messages and documents never show a code, an event type or an enum value: they
show its name from here, so one report reads the same in the form, the inbox, the
console and the ledger. English names are written as they start a cell or an option
("Major hazard"); running text lowers the first letter itself.
"""

from __future__ import annotations

from typing import get_args

from hazardloop.events import (
    EVENT_TYPES,
    SUBTYPES,
    Audience,
    Category,
    Channel,
    DeliveryChannel,
    DirectoryRole,
    EndpointFormat,
    Grade,
    HqReason,
    Language,
    MediaKind,
    Outcome,
    PayoutChannel,
    PlaceKind,
    RewardApproved,
    RewardFactors,
    RiskColour,
    ShredReason,
    SlaClock,
)
from hazardloop.web.auth import Role

DEFAULT_LANGUAGE = Language.ZH_CN

NAMES: dict[str, tuple[str, str]] = {
    # categories
    "unsafe_behaviour": ("人的不安全行为", "Unsafe behaviour"),
    "unsafe_equipment": ("物的不安全状态", "Unsafe equipment or facilities"),
    "unsafe_environment": ("环境的不安全因素", "Unsafe environment"),
    "management_defect": ("安全管理缺陷", "Safety management defect"),
    # sub-types
    "rule_violation": ("违章作业", "Working against the rules"),
    "ignored_safety_instruction": ("不听从安全指令", "Ignoring a safety instruction"),
    "no_protective_equipment": ("未佩戴劳动防护用品", "No protective equipment worn"),
    "ordered_rule_breaking": ("违章指挥", "Ordered to break the rules"),
    "unauthorised_procedure_change": ("擅自变更安全工艺或操作规程", "Safe procedure changed without authority"),
    "untrained_worker_assigned": ("安排未经培训或无证人员作业", "Untrained or uncertified worker assigned"),
    "missing_warning_sign": ("缺少安全警示标志", "Missing warning sign"),
    "safety_equipment_substandard": ("安全设备未按标准设计、安装、维护、检测或报废", "Safety equipment not to standard"),
    "safety_device_disabled_or_damaged": ("监控、报警、防护或救生设备关闭、损坏", "Monitoring, alarm, protection or rescue device off or damaged"),
    "monitoring_data_tampered": ("篡改、隐瞒、销毁监测数据", "Monitoring data tampered with"),
    "no_permit_or_risk_assessment": ("作业场所未取得许可或未做风险评估", "No permit or risk assessment"),
    "hazardous_work_without_measures": ("危险作业（爆破、吊装、动火、临时用电等）未落实措施", "Hazardous work (blasting, lifting, hot work, temporary power) without measures"),
    "major_hazard_unchecked": ("重大危险源未检测、评估、监控", "Major hazard not checked"),
    "no_responsibility_system": ("未建立安全生产责任制", "No safety responsibility system"),
    "no_training_plan": ("无安全培训计划", "No training plan"),
    "no_emergency_plan_or_drill": ("无应急预案或未演练", "No emergency plan or drills"),
    "uncertified_special_operation": ("特种作业人员无证上岗", "Uncertified special operation"),
    "unqualified_contractor": ("发包给不具备资质的单位", "Work contracted to an unqualified contractor"),
    "illegal_subcontracting": ("违法分包、转包", "Illegal subcontracting"),
    "other": ("其他", "Other"),
    # how a report came in
    "web": ("网页表单", "Web form"),
    "api": ("系统接口", "Connected system"),
    "hotline": ("举报电话", "Hotline"),
    "verbal": ("口头报告", "In person"),
    "email": ("电子邮件", "E-mail"),
    # outcomes, grades, risk colours
    "confirmed_hazard": ("确认为隐患", "Confirmed hazard"),
    "valid_not_hazard": ("属实但不构成隐患", "Valid, not a hazard"),
    "not_confirmed": ("未能确认", "Not confirmed"),
    "duplicate": ("重复举报", "Duplicate"),
    "general": ("一般隐患", "General hazard"),
    "larger": ("较大隐患", "Larger hazard"),
    "major": ("重大隐患", "Major hazard"),
    "red": ("红色", "Red"),
    "orange": ("橙色", "Orange"),
    "yellow": ("黄色", "Yellow"),
    "blue": ("蓝色", "Blue"),
    # clocks of the closed loop
    "accept": ("受理", "Acceptance"),
    "verify": ("核查", "Verification"),
    "feedback": ("反馈", "Feedback to the reporter"),
    # who an escalation brings in; who a directory lists
    "owner": ("整改责任人", "Rectification owner"),
    "safety_department": ("安全管理部门", "Safety department"),
    "subsidiary_leadership": ("公司领导", "Subsidiary leadership"),
    "group_hq": ("集团总部", "Group HQ"),
    "approver": ("奖励审批人", "Reward approver"),
    # fraud signals beside a reward (rewards' signal rules)
    # ("routine_duty" is named with the policy's rules below)
    "frequent_pair": ("举报人与核查人配对过于频繁", "Reporter and verifier paired unusually often"),
    "near_duplicates": ("同一人反复举报同一部位", "The same place reported again and again"),
    "period_end_burst": ("奖励周期结束前集中举报", "A burst of reports before the reward period closes"),
    "unusual_place": ("举报地点不在本人工作区域", "Reports where the reporter does not work"),
    "team_concentration": ("班组奖励集中在少数人", "A team's rewards concentrated on a few people"),
    # why group HQ decides, who approves, how it is paid
    "above_cap": ("超过单笔上限", "Above the cap"),
    "over_budget": ("超出年度预算", "Beyond the year's budget"),
    "department": ("部门负责人", "Department head"),
    "payroll": ("随工资发放", "With wages"),
    "voucher": ("凭兑奖码领取", "Against a voucher"),
    # the reward policy's rules, as a reward's breakdown names its lines
    "base": ("基础奖励", "Base amount"),
    "at_height": ("高处作业", "Work at height"),
    "outside_patrol_area": ("非本人巡检区域", "Outside the reporter's patrol area"),
    "high_risk": ("高风险", "High risk"),
    "at_night": ("夜间", "At night"),
    "bad_weather": ("恶劣天气", "In bad weather"),
    "hard_to_handle": ("处置难度大", "Hard to handle"),
    "routine_duty": ("属本职巡检范围", "Within routine duties"),
    "cap": ("单笔奖励上限", "Cap per reward"),
    # roles
    "reporter": ("举报人", "Reporter"),
    "verifier": ("核查人员", "Verifier"),
    "rectifier": ("整改人员", "Rectifier"),
    "manager": ("安全管理负责人", "Safety manager"),
    "leader": ("公司领导", "Subsidiary leader"),
    "finance": ("财务", "Finance"),
    "auditor": ("审计人员", "Auditor"),
    "operator": ("系统运维", "Operator"),
    "confidentiality_officer": ("保密专员", "Confidentiality officer"),
    # case states, as intake and verification show them
    "filed": ("已提交", "Filed"),
    "accepted": ("已受理", "Accepted"),
    "verified": ("已核查", "Verified"),
    "rectifying": ("整改中", "Being rectified"),
    "under_review": ("整改待验收", "Rectified, awaiting review"),
    "rectified": ("已整改", "Rectified"),
    "closed": ("已闭环", "Closed"),
    "overdue": ("整改逾期", "Overdue"),
    "escalated": ("已升级督办", "Escalated"),
    # reward states
    "none": ("待定", "Not decided yet"),
    "proposed": ("待审批", "Awaiting approval"),
    "referred": ("待集团总部审批", "Awaiting group HQ"),
    "approved": ("已批准，待发放", "Approved, to be paid"),
    "claimed": ("已凭回执码申领", "Claimed"),
    "granted": ("已发放", "Paid"),
    "granted_payroll": ("已随工资发放", "Paid with wages"),
    "granted_voucher": ("已凭兑奖码发放", "Paid against a voucher"),
    "declined": ("不予奖励", "Declined"),
    "revoked": ("已撤销", "Revoked"),
    # places, media, deliveries, languages
    "site": ("厂区", "Site"),
    "area": ("装置或区域", "Unit or area"),
    "spot": ("部位或设备", "Spot or equipment"),
    "image": ("照片", "Photo"),
    "video": ("视频", "Video"),
    "inbox": ("站内消息", "Inbox"),
    "webhook": ("Webhook 推送", "Webhook"),
    "wecom": ("企业微信", "WeCom"),
    "dingtalk": ("钉钉", "DingTalk"),
    "feishu": ("飞书", "Feishu"),
    "zh-CN": ("中文", "Chinese"),
    "en": ("英文", "English"),
    # the log's events, for timelines
    "ReportFiled": ("提交举报", "Report filed"),
    "Accepted": ("受理举报", "Report accepted"),
    "Verified": ("核查完成", "Report verified"),
    "RectificationAssigned": ("指派整改", "Rectification assigned"),
    "ExtensionRequested": ("申请延期", "Extension requested"),
    "ExtensionGranted": ("批准延期", "Extension granted"),
    "ExtensionRefused": ("驳回延期", "Extension refused"),
    "Rectified": ("完成整改", "Rectified"),
    "RectificationAccepted": ("整改验收通过", "Rectification accepted"),
    "RectificationRejected": ("整改验收未通过", "Rectification rejected"),
    "ReporterFedBack": ("反馈举报人", "Reporter given feedback"),
    "SlaBreached": ("闭环环节超时", "Step of the closed loop missed"),
    "RectificationOverdue": ("整改逾期", "Rectification overdue"),
    "EscalationRaised": ("升级督办", "Escalated"),
    "ExternallyEscalated": ("上报监管部门", "Reported to the authorities"),
    "CaseworkPolicySet": ("设置处置规则", "Casework policy set"),
    "RewardPolicySet": ("设置奖励标准", "Reward policy set"),
    "RewardBudgetSet": ("设置奖励预算", "Reward budget set"),
    "BudgetCommitted": ("占用奖励预算", "Budget committed"),
    "BudgetReleased": ("释放奖励预算", "Budget released"),
    "RewardProposed": ("拟定奖励", "Reward proposed"),
    "RewardReferred": ("报集团总部审批", "Reward referred to group HQ"),
    "RewardApproved": ("批准奖励", "Reward approved"),
    "RewardClaimed": ("凭回执码申领奖励", "Reward claimed"),
    "RewardGranted": ("发放奖励", "Reward paid"),
    "RewardDeclined": ("不予奖励", "Reward declined"),
    "RewardRevoked": ("撤销奖励", "Reward revoked"),
    "SignalRulesSet": ("设定复核提示规则", "Fraud-signal rules set"),
    "SignalRaised": ("触发复核提示", "Fraud signal raised"),
    "SignalDismissed": ("排除复核提示", "Fraud signal dismissed"),
    "SignalConfirmed": ("确认复核提示", "Fraud signal confirmed"),
    "RecognitionConsented": ("同意公开表彰", "Agreed to be named on the notice"),
    "RecognitionWithdrawn": ("撤回公开表彰", "No longer named on the notice"),
    "PlaceCatalogued": ("登记地点", "Place catalogued"),
    "PlaceRetired": ("停用地点", "Place retired"),
    "IdentityDisclosed": ("查看举报人身份", "Reporter's identity disclosed"),
    "ReporterKeyShredded": ("销毁举报人密钥", "Reporter's key destroyed"),
    "ReportTextShredded": ("销毁举报文字密钥", "Report's text erased"),
    # checks elsewhere ("could it occur here?")
    "CheckRaised": ("发起举一反三排查", "Check elsewhere raised"),
    "CheckTaskOpened": ("下达排查任务", "Check task given to a subsidiary"),
    "CheckAnswered": ("答复排查", "Check answered"),
    "CheckExtensionRequested": ("申请延期答复", "More time asked to check"),
    "CheckExtensionGranted": ("批准延期答复", "More time given to check"),
    "CheckExtensionRefused": ("驳回延期答复", "More time to check refused"),
    "CheckTaskOverdue": ("排查逾期未答复", "Check overdue"),
    "CheckEscalationRaised": ("排查逾期升级督办", "Check escalated"),
    "CheckClosed": ("关闭排查", "Check closed"),
    "not_present": ("已排查，不存在", "Checked, not present"),
    "found": ("发现同类隐患", "Found here too"),
    # why a report's text was erased
    "retention": ("超过保存期限", "Retention period passed"),
    "reporter_erasure": ("举报人要求删除个人信息", "Reporter's personal data erased"),
    # what a page shows for text whose key was destroyed
    "erased_text": ("（内容已删除）", "(erased)"),
    "sealed_text": ("（内容已加密）", "(sealed)"),
    "DirectoryEntrySet": ("更新通讯录", "Directory entry set"),
    "DirectoryEntryRemoved": ("删除通讯录条目", "Directory entry removed"),
    "NotificationSent": ("发送通知", "Notification sent"),
    "NotificationFailed": ("通知发送失败", "Notification failed"),
    "NotificationRetried": ("重发通知", "Notification retried"),
    "MessageRead": ("阅读消息", "Message read"),
    "RectificationReminderDue": ("整改到期提醒", "Rectification reminder due"),
    "DigestDue": ("每日摘要", "Daily digest due"),
    "RangeSealed": ("日志封存", "Log sealed"),
    "ReporterWrote": ("举报人留言", "Message from the reporter"),
    "StaffWrote": ("安全部门回复", "Message to the reporter"),
}  # fmt: skip
"""Code -> (Simplified Chinese, English). A code means the same wherever it appears."""

CASE_STATUSES = (
    "filed", "accepted", "verified", "rectifying", "under_review", "rectified", "closed", "not_confirmed", "duplicate",
    "overdue", "escalated",
)  # fmt: skip
"""A report's state as intake, verification and the ledger show it."""

REWARD_STATUSES = (
    "none", "proposed", "referred", "approved", "claimed", "granted", "granted_payroll", "granted_voucher", "declined",
    "revoked",
)  # fmt: skip
"""A reward's state as rewards, intake's disclosure and the ledger show it."""


def _values(codes) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(code) for code in codes))


KINDS: dict[str, tuple[str, ...]] = {
    "categories": _values(Category),
    "subtypes": _values(subtype for subtypes in SUBTYPES.values() for subtype in subtypes),
    "channels": _values(Channel),
    "outcomes": _values(Outcome),
    "grades": _values(Grade),
    "risk_colours": _values(RiskColour),
    "sla_clocks": _values(SlaClock),
    "audiences": _values(Audience),
    "hq_reasons": _values(HqReason),
    "approval_levels": _values(get_args(RewardApproved.model_fields["level"].annotation)),
    "payout_channels": _values(PayoutChannel),
    "shred_reasons": _values(ShredReason),
    "roles": _values(Role),
    "directory_roles": _values(DirectoryRole),
    "case_statuses": CASE_STATUSES,
    "reward_statuses": REWARD_STATUSES,
    "reward_rules": ("base", *RewardFactors.model_fields, "routine_duty", "duplicate", "cap"),
    "place_kinds": _values(PlaceKind),
    "media_kinds": _values(MediaKind),
    "delivery_channels": _values(DeliveryChannel),
    "endpoint_formats": _values(EndpointFormat),
    "languages": _values(Language),
    "event_types": _values(kind.model_fields["type"].default for kind in EVENT_TYPES),
}
"""Each kind of code, in the order a select list offers it."""


def language_of(*values: str | None, default: Language = DEFAULT_LANGUAGE) -> Language:
    """The first of ``values`` naming Chinese or English, else ``default``.

    Each value may be a tag (zh, zh-CN, zh_CN, en, en-US) or a whole Accept-Language
    header, read by preference: ``language_of(query_lang, accept_language)``.
    """
    for value in values:
        tags = []
        for part in (value or "").split(","):
            tag, _, weight = part.partition(";q=")
            try:
                quality = float(weight) if weight else 1.0
            except ValueError:
                continue
            if quality > 0:
                tags.append((-quality, tag.strip().replace("_", "-").lower().split("-")[0]))
        for _, primary in sorted(tags, key=lambda pair: pair[0]):
            if primary == "zh":
                return Language.ZH_CN
            if primary == "en":
                return Language.EN
    return default


def label(code: object, language: str = DEFAULT_LANGUAGE) -> str:
    """The name of ``code`` in ``language``; an unknown code shows as itself, None as nothing."""
    if code is None:
        return ""
    text = str(code)
    names = NAMES.get(text)
    if names is None:
        return text
    return names[1] if language_of(language) == Language.EN else names[0]


def labels_for(kind: str, language: str = DEFAULT_LANGUAGE) -> list[tuple[str, str]]:
    """(code, name) of every code of ``kind`` (a key of ``KINDS``), in order, for a select list."""
    return [(code, label(code, language)) for code in KINDS[kind]]


def subtypes_of(category: str, language: str = DEFAULT_LANGUAGE) -> list[tuple[str, str]]:
    """(sub-type, name) of one category's sub-types, in the national guidance's order."""
    return [(subtype, label(subtype, language)) for subtype in SUBTYPES[Category(category)]]
