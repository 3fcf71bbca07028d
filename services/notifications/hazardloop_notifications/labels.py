"""Names of the log's codes (categories, grades, outcomes...) in each language templates use."""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    # categories
    "unsafe_behaviour": {"zh-CN": "人的不安全行为", "en": "unsafe behaviour"},
    "unsafe_equipment": {"zh-CN": "物的不安全状态", "en": "unsafe equipment or facilities"},
    "unsafe_environment": {"zh-CN": "环境的不安全因素", "en": "unsafe environment"},
    "management_defect": {"zh-CN": "安全管理缺陷", "en": "safety management defect"},
    # grades
    "general": {"zh-CN": "一般隐患", "en": "general hazard"},
    "larger": {"zh-CN": "较大隐患", "en": "larger hazard"},
    "major": {"zh-CN": "重大隐患", "en": "major hazard"},
    # outcomes
    "confirmed_hazard": {"zh-CN": "确认为隐患", "en": "confirmed hazard"},
    "valid_not_hazard": {"zh-CN": "属实但不构成隐患", "en": "valid, not a hazard"},
    "not_confirmed": {"zh-CN": "未能确认", "en": "not confirmed"},
    "duplicate": {"zh-CN": "重复举报", "en": "duplicate"},
    # clocks of the closed loop
    "accept": {"zh-CN": "受理", "en": "acceptance"},
    "verify": {"zh-CN": "核查", "en": "verification"},
    "feedback": {"zh-CN": "反馈", "en": "feedback to the reporter"},
    # why group HQ decides
    "above_cap": {"zh-CN": "超过单笔上限", "en": "above the cap"},
    "over_budget": {"zh-CN": "超出年度预算", "en": "beyond the year's budget"},
    # approval level, payout channel
    "department": {"zh-CN": "部门负责人", "en": "department head"},
    "group_hq": {"zh-CN": "集团总部", "en": "group HQ"},
    "payroll": {"zh-CN": "随工资发放", "en": "with your wages"},
    "voucher": {"zh-CN": "凭兑奖码领取", "en": "against your voucher"},
    # escalation audiences
    "owner": {"zh-CN": "整改责任人", "en": "rectification owner"},
    "safety_department": {"zh-CN": "安全管理部门", "en": "safety department"},
    "subsidiary_leadership": {"zh-CN": "公司领导", "en": "subsidiary leadership"},
}


def label(code: object, language: str) -> str:
    """The code's name in ``language``; an unknown code shows as itself rather than failing."""
    text = str(code)
    return LABELS.get(text, {}).get(language, text.replace("_", " "))
