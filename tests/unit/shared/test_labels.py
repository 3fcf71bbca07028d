"""Every code people can meet has a name in both languages, so none ships unlabelled."""

from __future__ import annotations

from enum import StrEnum

import pytest

import hazardloop.events as events
from hazardloop.web.auth import Role
from hazardloop.web.labels import (
    CASE_STATUSES,
    KINDS,
    NAMES,
    REWARD_STATUSES,
    label,
    labels_for,
    language_of,
    subtypes_of,
)
from hazardloop_intake.disclosure import RewardState
from hazardloop_rewards.domain import Stage as RewardStage
from hazardloop_verification.domain import Stage as CaseStage

ENUMS = [value for value in vars(events).values() if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum]


def named_in_both(code: str) -> bool:
    chinese, english = NAMES.get(str(code), ("", ""))
    return bool(chinese.strip()) and bool(english.strip())


def test_every_enum_value_of_the_log_and_every_role_is_named_in_both_languages():
    assert len(ENUMS) >= 14, ENUMS  # the events package's enums are found, not an empty list
    unnamed = [f"{enum.__name__}.{member.name}" for enum in [*ENUMS, Role] for member in enum if not named_in_both(member)]
    assert unnamed == []


def test_every_event_type_and_sub_type_is_named_in_both_languages():
    kinds = [kind.model_fields["type"].default for kind in events.EVENT_TYPES]
    subtypes = [subtype for listed in events.SUBTYPES.values() for subtype in listed]
    assert [code for code in [*kinds, *subtypes] if not named_in_both(code)] == []
    assert label("ReportFiled", "zh-CN") == "提交举报" and label("ReportFiled", "en") == "Report filed"


def test_every_state_the_services_keep_is_a_named_status():
    assert {str(stage) for stage in CaseStage} <= set(CASE_STATUSES)
    assert {str(stage) for stage in [*RewardStage, *RewardState]} <= set(REWARD_STATUSES)
    assert [code for kind in KINDS.values() for code in kind if not named_in_both(code)] == []


def test_select_lists_come_in_the_codes_order_with_their_names():
    assert labels_for("grades", "zh-CN") == [("general", "一般隐患"), ("larger", "较大隐患"), ("major", "重大隐患")]
    assert labels_for("approval_levels", "en") == [("department", "Department head"), ("group_hq", "Group HQ")]
    assert [code for code, _ in labels_for("categories", "en")] == [str(category) for category in events.Category]
    assert subtypes_of("unsafe_environment", "en")[-1] == ("other", "Other")


def test_an_unknown_code_shows_as_itself_and_nothing_as_nothing():
    assert (label("not_a_code", "en"), label(None, "zh-CN"), label(events.Grade.MAJOR, "en")) == ("not_a_code", "", "Major hazard")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (("zh",), "zh-CN"), (("zh-CN",), "zh-CN"), (("zh_CN",), "zh-CN"), (("en",), "en"), (("en-US",), "en"),
        (("fr-FR, en-GB;q=0.8, zh;q=0.5",), "en"), (("zh;q=0.4, en;q=0.9",), "en"), (("en;q=0, zh",), "zh-CN"),
        (("de",), "zh-CN"), ((None, ""), "zh-CN"), (("xx", "en-US,en;q=0.9"), "en"), (("zh", "en"), "zh-CN"),
    ],
)  # fmt: skip
def test_language_of_reads_tags_and_accept_language_defaulting_to_chinese(values, expected):
    assert language_of(*values) == expected


def test_a_label_in_a_language_given_any_way():
    assert label("major", "en-US") == label("major", "en") == "Major hazard"
    assert label("major", "zh") == label("major", "zh_CN") == "重大隐患"
