"""The report form's language, and its errors as sentences of ours beside their field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hazardloop.errors import DomainError, Invalid, TooLarge, UnsupportedMedia
from hazardloop.media.refusals import MediaTooLarge, MediaUnsupported
from hazardloop_intake import form_errors
from hazardloop_intake.domain import FileReport
from hazardloop_intake.i18n import TEXT, language
from tests.factories import report_body


@pytest.mark.parametrize(
    "requested, accept, chosen",
    [
        ("zh-CN", "en-US,en;q=0.9", "zh"),
        ("zh", "en", "zh"),
        ("zh_CN", None, "zh"),
        ("en", "zh-CN,zh;q=0.9", "en"),
        ("en-US", "zh-CN", "en"),
        (None, "en-US,en;q=0.9,zh;q=0.5", "en"),
        (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, "fr-FR,en;q=0.5", "en"),
        (None, None, "zh"),
        ("klingon", "de", "zh"),
        ("", "en-GB", "en"),
    ],
)
def test_the_query_then_the_phone_picks_the_language_chinese_by_default(requested, accept, chosen):
    assert language(requested, accept) == chosen


def errors_of(**overrides) -> list[dict]:
    with pytest.raises(ValidationError) as invalid:
        FileReport.model_validate(report_body(**overrides))
    return invalid.value.errors()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_validation_errors_become_our_sentences_per_form_field(lang):
    found = form_errors.from_validation(
        errors_of(category="gossip", description="", observed_at="yesterday", reporter={"employee_number": "E1", "phone": "x" * 99}),
        lang,
    )
    assert set(found) == {"kind", "description", "observed_at", "phone"}
    for field, sentence in found.items():
        assert sentence == form_errors.MESSAGES[lang][field]


def test_no_validator_english_reaches_the_chinese_form():
    found = form_errors.from_validation(errors_of(description="", subtype="nonsense", spot_detail="x" * 500), "zh")
    assert all(not any(word in text for word in ("should", "Input", "field", "Value")) for text in found.values())
    assert found["kind"] == "请选择隐患类别。" and found["spot_detail"].startswith("请写明")


@pytest.mark.parametrize(
    "refusal, field, sentence",
    [
        (Invalid("the hazard cannot have been observed in the future", field="observed_at"), "observed_at",
         "请填写发现时间：不能晚于现在，也不能早于一年前。"),
        (Invalid("say where in the area", field="spot_detail"), "spot_detail", "请写明区域内的具体位置或设备（最多 120 字）。"),
        (Invalid("sign in to report in your own name", field="who"), "who", form_errors.MESSAGES["zh"]["who_signin"]),
        (Invalid("no uploaded attachment", field="attachments.0"), "photos", form_errors.MESSAGES["zh"]["photos"]),
        (Invalid("at most 6", field="photos"), "photos", "照片和视频最多 6 个。"),
        (TooLarge("41 MB"), "photos", form_errors.MESSAGES["zh"]["photos_too_large"]),
        (UnsupportedMedia("a zip"), "photos", "只能上传照片或视频。"),
        (MediaUnsupported("disguised", claimed=".jpg", found="application/pdf"), "photos", "文件声称是 .jpg，实际内容却是 application/pdf，已拒收。"),
        (MediaTooLarge("metadata_too_large", limit="1.0 MiB"), "photos", "文件附带的元数据（EXIF 等）超过上限 1.0 MiB。"),
        (Invalid("place 'x' is retired", field="place_id"), "place", form_errors.MESSAGES["zh"]["place"]),
        (DomainError("busy", state="busy"), form_errors.FORM, "报告未能提交，请稍后再试。"),
    ],
)
def test_refusals_become_a_sentence_beside_the_field_they_name(refusal, field, sentence):
    assert form_errors.from_refusal(refusal, "zh", max_attachments=6) == {field: sentence}


def test_both_languages_have_the_same_words():
    assert set(TEXT["zh"]) == set(TEXT["en"])
    assert set(form_errors.MESSAGES["zh"]) == set(form_errors.MESSAGES["en"])
