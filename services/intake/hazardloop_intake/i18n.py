"""Words of the report form in Simplified Chinese and English."""

from __future__ import annotations

from hazardloop.events import SUBTYPES, Category

LANGUAGES = ("zh", "en")

CATEGORIES = {
    "zh": {
        Category.UNSAFE_BEHAVIOUR: "人的不安全行为",
        Category.UNSAFE_EQUIPMENT: "物的不安全状态",
        Category.UNSAFE_ENVIRONMENT: "环境的不安全因素",
        Category.MANAGEMENT_DEFECT: "管理上的缺陷",
    },
    "en": {
        Category.UNSAFE_BEHAVIOUR: "Unsafe behaviour",
        Category.UNSAFE_EQUIPMENT: "Unsafe state of equipment or facilities",
        Category.UNSAFE_ENVIRONMENT: "Unsafe environment",
        Category.MANAGEMENT_DEFECT: "Defect in safety management",
    },
}

SUBTYPE_LABELS = {
    "zh": {
        "rule_violation": "违章作业",
        "ignored_safety_instruction": "不听从安全指令",
        "no_protective_equipment": "未佩戴劳动防护用品",
        "ordered_rule_breaking": "违章指挥",
        "unauthorised_procedure_change": "擅自变更安全工艺或操作规程",
        "untrained_worker_assigned": "安排未经培训或无证人员作业",
        "missing_warning_sign": "缺少安全警示标志",
        "safety_equipment_substandard": "安全设备未按标准设计、安装、维护、检测或报废",
        "safety_device_disabled_or_damaged": "监控、报警、防护或救生设备关闭、损坏",
        "monitoring_data_tampered": "篡改、隐瞒、销毁监测数据",
        "no_permit_or_risk_assessment": "作业场所未取得许可或未做风险评估",
        "hazardous_work_without_measures": "危险作业（爆破、吊装、动火、临时用电等）未落实措施",
        "major_hazard_unchecked": "重大危险源未检测、评估、监控",
        "no_responsibility_system": "未建立安全生产责任制",
        "no_training_plan": "无安全培训计划",
        "no_emergency_plan_or_drill": "无应急预案或未演练",
        "uncertified_special_operation": "特种作业人员无证上岗",
        "unqualified_contractor": "发包给不具备资质的单位",
        "illegal_subcontracting": "违法分包、转包",
        "other": "其他",
    },
    "en": {
        "rule_violation": "Working against the rules",
        "ignored_safety_instruction": "Ignoring a safety instruction",
        "no_protective_equipment": "No protective equipment worn",
        "ordered_rule_breaking": "Ordered to break the rules",
        "unauthorised_procedure_change": "Safe procedure changed without authority",
        "untrained_worker_assigned": "Untrained or uncertified worker assigned",
        "missing_warning_sign": "Missing warning sign",
        "safety_equipment_substandard": "Safety equipment not to standard",
        "safety_device_disabled_or_damaged": "Monitoring, alarm, protection or rescue device off or damaged",
        "monitoring_data_tampered": "Monitoring data tampered with",
        "no_permit_or_risk_assessment": "No permit or risk assessment",
        "hazardous_work_without_measures": "Hazardous work (blasting, lifting, hot work, temporary power) without measures",
        "major_hazard_unchecked": "Major hazard not checked",
        "no_responsibility_system": "No safety responsibility system",
        "no_training_plan": "No training plan",
        "no_emergency_plan_or_drill": "No emergency plan or drills",
        "uncertified_special_operation": "Uncertified special operation",
        "unqualified_contractor": "Work contracted to an unqualified contractor",
        "illegal_subcontracting": "Illegal subcontracting",
        "other": "Other",
    },
}

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
    },
}


def language(requested: str | None, accept_language: str | None) -> str:
    """``?lang=`` first, then the browser's preference; Chinese by default."""
    if requested in LANGUAGES:
        return requested
    preferred = (accept_language or "").split(",")[0].strip().lower()
    return "en" if preferred.startswith("en") else "zh"


def choices(lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """(category label, [(value, subtype label)]) for the form's grouped select."""
    return [
        (CATEGORIES[lang][category], [(f"{category.value}:{s}", SUBTYPE_LABELS[lang][s]) for s in subtypes])
        for category, subtypes in SUBTYPES.items()
    ]
