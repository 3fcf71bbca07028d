"""Words of the report form in Simplified Chinese and English.

The form's own sentences live here; the names of categories and sub-types come from
``hazardloop.web.labels``. The form keeps its short language keys ("zh", "en") because its
links and hidden fields carry them.
"""

from __future__ import annotations

from hazardloop.events import SUBTYPES, Language
from hazardloop.web.labels import label, language_of, subtypes_of

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
        "language": "English",
        "named_signin": "实名报告（用集团账号登录后提交，身份加密保密，仅经办人可查看）",
        "signed_in_as": "已登录：",
        "sign_in": "登录",
        "sign_out": "退出登录",
        "my_reports": "我的报告",
        "signin_refused": "登录未完成（已取消或被拒绝）。您填写的内容已保留：可以重新登录，或选择匿名报告。",
        "signin_down": "集团身份认证暂时无法访问。您填写的内容已保留：请稍后再试，或选择匿名报告。",
        "signin_stale": "该登录已过期或不是在本设备上发起的。您填写的内容已保留：请重新登录。",
        "signin_unavailable": "暂时无法登录进行实名报告，请选择匿名报告。",
        "signin_title": "登录",
        "dev_signin_note": "演示环境：选择一位演示报告人登录（正式环境使用集团统一身份登录）。",
        "mine_title": "我的报告",
        "mine_empty": "您还没有提交过实名报告。",
        "looked_title": "谁查看过我的身份",
        "looked_none": "还没有人查看过您的身份。只有保密专员（有记录的理由）和财务（发放经批准的工资奖励时）可以查看，每次都会记录并在这里告诉您。",
        "looked_why": "理由",
        "looked_report": "查看相关报告",
        "mine_signin": "登录后查看您提交的实名报告。",
        "filed_at": "提交时间",
        "deadline": "整改期限",
        "state": "状态",
        "details": "查看详情",
        "subsidiary": "单位",
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
        "language": "中文",
        "named_signin": "In my name (sign in with your group account; kept confidential: only those handling it can see it)",
        "signed_in_as": "Signed in as ",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "my_reports": "My reports",
        "signin_refused": "The sign-in did not go through (cancelled or refused). What you typed is kept: sign in again, or report anonymously.",
        "signin_down": "The group sign-in cannot be reached just now. What you typed is kept: try again in a moment, or report anonymously.",
        "signin_stale": "That sign-in had expired or was not started on this phone. What you typed is kept: please sign in again.",
        "signin_unavailable": "Signing in to report in your name is not available just now; please report anonymously.",
        "signin_title": "Sign in",
        "dev_signin_note": "Demo: pick a demo reporter to sign in as (production signs in with the group account).",
        "mine_title": "My reports",
        "mine_empty": "You have not filed a report in your name yet.",
        "looked_title": "Who has seen my identity",
        "looked_none": "Nobody has opened your identity. Only the confidentiality officer (with a recorded reason) and finance (to pay a granted reward through payroll) may, and each time is recorded and shown to you here.",
        "looked_why": "Why",
        "looked_report": "The report",
        "mine_signin": "Sign in to see the reports you filed in your name.",
        "filed_at": "Filed",
        "deadline": "Due to be fixed by",
        "state": "State",
        "details": "Details",
        "subsidiary": "Subsidiary",
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
