"""The report form's errors as sentences in the page's language, each beside its field.

The command's validation (pydantic) and the domain's refusals (``Invalid(field=...)``)
name fields of the command; the form has its own fields. Each is mapped to the form's
field and a sentence of ours, never the validator's English.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hazardloop.errors import DomainError, Invalid, TooLarge, UnsupportedMedia
from hazardloop.media.refusals import MediaRefused

FORM = "form"
"""Errors that belong to no one field: shown above the form."""

FIELD_OF = {
    "category": "kind",
    "subtype": "kind",
    "description": "description",
    "observed_at": "observed_at",
    "spot_detail": "spot_detail",
    "cause_analysis": "cause_analysis",
    "suggested_fix": "suggested_fix",
    "emergency_action": "emergency_action",
    "team": "team",
    "attachments": "photos",
    "photos": "photos",
    "anonymous": "who",
    "reporter": "who",
    "who": "who",
    "place_id": "place",
    "tenant": "place",
}
"""A command's field (the first part of its location) to the form's field."""

MESSAGES = {
    "zh": {
        "kind": "请选择隐患类别。",
        "description": "请写下看到了什么（最多 4000 字）。",
        "observed_at": "请填写发现时间：不能晚于现在，也不能早于一年前。",
        "spot_detail": "请写明区域内的具体位置或设备（最多 120 字）。",
        "cause_analysis": "原因分析最多 4000 字。",
        "suggested_fix": "整改建议最多 4000 字。",
        "emergency_action": "应急措施最多 4000 字。",
        "team": "车间或班组最多 80 字。",
        "phone": "请填写有效的电话号码，或留空。",
        "photos": "照片或视频无法使用：请重新拍摄或选择其他文件。",
        "photos_too_large": "照片或视频太大，请缩短视频或选择较小的文件。",
        "photos_not_media": "只能上传照片或视频。",
        "photos_too_many": "照片和视频最多 {max} 个。",
        "who": "请选择实名（需登录）或匿名报告。",
        "who_signin": "实名报告需要先登录；未登录时不会以任何人的名义提交。请登录，或选择匿名报告。",
        "who_tenant": "您的账号不能在该单位提交实名报告；请选择匿名报告。",
        "who_expired": "页面已过期，请再次点击“提交报告”。",
        "place": "该二维码对应的地点当前不接受报告，请联系安全部门。",
        FORM: "报告未能提交，请稍后再试。",
    },
    "en": {
        "kind": "Choose what kind of hazard it is.",
        "description": "Write what you saw (at most 4000 characters).",
        "observed_at": "Give when you saw it: not in the future, nor more than a year ago.",
        "spot_detail": "Say where in the area: the spot or equipment (at most 120 characters).",
        "cause_analysis": "The cause analysis can be at most 4000 characters.",
        "suggested_fix": "The suggested fix can be at most 4000 characters.",
        "emergency_action": "The emergency action can be at most 4000 characters.",
        "team": "The workshop or team can be at most 80 characters.",
        "phone": "Give a valid phone number, or leave it empty.",
        "photos": "A photo or video could not be used: take it again or choose another file.",
        "photos_too_large": "A photo or video is too large: shorten the video or choose a smaller file.",
        "photos_not_media": "Only photos and videos can be sent.",
        "photos_too_many": "At most {max} photos and videos.",
        "who": "Choose to report in your name (signing in) or anonymously.",
        "who_signin": "Reporting in your name needs you to sign in first; nothing is filed in anyone's name without it. "
        "Sign in, or report anonymously.",
        "who_tenant": "Your account cannot report in its name in this subsidiary; please report anonymously.",
        "who_expired": "The page had expired; please press “Send report” again.",
        "place": "The place of this QR code takes no reports just now; please tell the safety department.",
        FORM: "The report could not be filed; please try again in a moment.",
    },
}


def form_field(location: Iterable[Any]) -> str:
    """The form's field for a command field's location (``("reporter", "phone")`` is the phone)."""
    parts = [str(part) for part in location]
    if parts[:2] == ["reporter", "phone"]:
        return "phone"
    return FIELD_OF.get(parts[0], FORM) if parts else FORM


def message(lang: str, field: str, *, detail: str | None = None, **values: Any) -> str:
    words = MESSAGES[lang]
    return words.get(f"{field}_{detail}" if detail else field, words.get(field, words[FORM])).format(**values)


def from_validation(errors: Iterable[Mapping[str, Any]], lang: str) -> dict[str, str]:
    """Pydantic's errors (``ValidationError.errors()``) as one sentence per form field."""
    found: dict[str, str] = {}
    for error in errors:
        field = form_field(error.get("loc", ()))
        found.setdefault(field, message(lang, field))
    return found


def from_refusal(refused: DomainError, lang: str, *, max_attachments: int) -> dict[str, str]:
    """A domain refusal as the sentence beside the field it names."""
    if isinstance(refused, MediaRefused):  # says exactly why the photo or video was refused
        return {"photos": refused.in_language(lang)}
    if isinstance(refused, TooLarge):
        return {"photos": message(lang, "photos", detail="too_large")}
    if isinstance(refused, UnsupportedMedia):
        return {"photos": message(lang, "photos", detail="not_media")}
    if isinstance(refused, Invalid):
        field = form_field(refused.field.split("."))
        if field == "photos" and refused.field in ("photos", "attachments"):
            return {field: message(lang, field, detail="too_many", max=max_attachments)}
        if field == "who" and refused.field == "who":
            return {field: message(lang, field, detail="signin")}
        return {field: message(lang, field)}
    return {FORM: message(lang, FORM)}
