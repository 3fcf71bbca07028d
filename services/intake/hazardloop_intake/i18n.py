"""Words of the report form in Simplified Chinese and English.

The form's own sentences live here; the names of categories and sub-types come from
``hazardloop.labels``. The form keeps its short language keys ("zh", "en") because its
links and hidden fields carry them.
"""

from __future__ import annotations

from hazardloop.events import SUBTYPES, Language
from hazardloop.labels import label, language_of, subtypes_of

LANGUAGES = ("zh", "en")

TEXT = {
    "zh": {
        "title": "隐患报告",
        "place": "地点",
        "what": "隐患类别",
        "description": "看到了什么",
        "spot_detail": "具体位置或设备",
        "observed_at": "发现时间",
        "cause_analysis": "原因分析（选填）",
        "suggested_fix": "整改建议（选填）",
        "emergency_action": "已采取的应急措施（选填）",
        "team": "所在车间或班组（选填，仅实名举报记录）",
        "photos": "照片或视频（可直接拍摄）",
        "who": "报告人",
        "named": "实名报告（身份加密保密，仅经办人可查看）",
        "anonymous": "匿名报告（获得回执码，凭码查询进度和领取奖励）",
        "name": "姓名",
        "employee_number": "工号",
        "phone": "电话（选填）",
        "submit": "提交报告",
        "thanks": "感谢您的报告！",
        "report_id": "报告编号",
        "receipt": "您的回执码（只显示这一次，请抄写或截图保存）：",
        "receipt_use": "凭回执码查询处理进度、领取奖励。系统只保存回执码的摘要，丢失后无法找回。",
        "duplicate": "该位置已有同类未关闭的报告，安全部门会一并核查。",
        "follow": "查询进度",
        "status_title": "凭回执码查询",
        "code": "回执码",
        "lookup": "查询",
        "not_found": "没有与此回执码对应的报告。",
        "error": "请修改后再提交：",
        "unconfirmed": "系统暂时未能确认报告已保存。请稍后再次点击“提交报告”：同一份报告不会重复提交。",
        "photos_kept": "已上传的照片或视频（再次提交时保留）：",
        "photo_refused": "照片或视频未被接收：{reason}",
        "language": "English",
    },
    "en": {
        "title": "Report a hazard",
        "place": "Place",
        "what": "What kind of hazard",
        "description": "What did you see",
        "spot_detail": "Exact spot or equipment",
        "observed_at": "When did you see it",
        "cause_analysis": "Why do you think it happened (optional)",
        "suggested_fix": "How could it be fixed (optional)",
        "emergency_action": "Emergency action you already took (optional)",
        "team": "Your workshop or shift team (optional; kept for named reports only)",
        "photos": "Photos or videos (take them with your camera)",
        "who": "Reporter",
        "named": "In my name (kept confidential: only those handling it can see it)",
        "anonymous": "Anonymously (you get a receipt code to follow it and claim a reward)",
        "name": "Name",
        "employee_number": "Employee number",
        "phone": "Phone (optional)",
        "submit": "Send report",
        "thanks": "Thank you for your report!",
        "report_id": "Report number",
        "receipt": "Your receipt code (shown only this once: write it down or take a screenshot):",
        "receipt_use": "Use it to follow your report and to claim its reward. Only a digest of it is kept: it cannot be recovered.",
        "duplicate": "There is already an open report of this kind here; the safety department will check them together.",
        "follow": "Follow a report",
        "status_title": "Follow your report",
        "code": "Receipt code",
        "lookup": "Look up",
        "not_found": "No report has this receipt code.",
        "error": "Please correct and send again:",
        "unconfirmed": "We could not confirm yet that your report was saved. Please press “Send report” again in a moment: it will not be filed twice.",
        "photos_kept": "Photos or videos already uploaded (kept when you send again):",
        "photo_refused": "Photo or video not accepted: {reason}",
        "language": "中文",
    },
}


def language(requested: str | None, accept_language: str | None) -> str:
    """``?lang=`` first, then the browser's preference; Chinese by default."""
    return "en" if language_of(requested, accept_language) == Language.EN else "zh"


def choices(lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """(category label, [(value, subtype label)]) for the form's grouped select."""
    return [
        (label(category, lang), [(f"{category.value}:{code}", name) for code, name in subtypes_of(category, lang)])
        for category in SUBTYPES
    ]
