"""Every message kind renders in every language, from the parameters routing really gives it."""

from __future__ import annotations

import pytest

from hazardloop_notifications.domain import report_context
from hazardloop_notifications.render import LANGUAGES, Renderer, pick_language, yuan
from hazardloop_notifications.routing import NEEDS_OWNER, notices_for
from tests.factories import REPORTER
from tests.unit.services.notifications.samples import digest_params, report_row, sample_events

RENDERER = Renderer("Asia/Shanghai")


def notices(event):
    return notices_for(event, report_row()["owner"] if isinstance(event, NEEDS_OWNER) else None)


def routed() -> list[tuple[str, dict]]:
    """(kind, parameters) as a message is rendered: the report's context, then its own."""
    found = [(n.kind, report_context(report_row(), staff=not n.to.reporter) | n.params) for e in sample_events() for n in notices(e)]
    return [*found, ("digest", digest_params())]


def test_every_template_is_routed_and_every_routed_kind_has_a_template():
    assert {kind for kind, _ in routed()} == set(RENDERER.kinds())
    assert len(RENDERER.kinds()) >= 27


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind, params", routed(), ids=lambda v: v if isinstance(v, str) else "")
def test_each_kind_renders_in_each_language(kind, params, language):
    rendered = RENDERER.render(kind, language, params)
    assert rendered.subject and rendered.body
    assert "\n" not in rendered.subject
    for leftover in ("{{", "{%", "None", "Undefined"):
        assert leftover not in rendered.subject + rendered.body, (kind, language)
    if language == "zh-CN":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in rendered.subject + rendered.body), f"{kind} is not in Chinese"
    else:
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in rendered.subject + rendered.body), f"{kind} has Chinese in English"


def test_amounts_dates_and_codes_are_shown_for_people():
    [granted] = [(k, p) for k, p in routed() if k == "rewarded"]
    en = RENDERER.render(*granted[:1], "en", granted[1])
    zh = RENDERER.render(*granted[:1], "zh-CN", granted[1])
    assert "3960.50 yuan" in en.subject and "3960.50 元" in zh.subject and "随工资发放" in zh.body
    [task] = [p for k, p in routed() if k == "task_assigned"]
    body = RENDERER.render("task_assigned", "en", task).body
    assert "2026-11-10 17:30" in body and "Gas detector alarm disabled" in body  # Asia/Shanghai, not UTC
    assert "重大隐患" in RENDERER.render("verified", "zh-CN", {"place": "x", "category": "c", "report_id": "r", "outcome": "confirmed_hazard", "grade": "major"}).body
    english = RENDERER.render("verified", "en", {"place": "x", "category": "c", "report_id": "r", "outcome": "confirmed_hazard", "grade": "major"})
    assert "confirmed as a major hazard" in english.body  # a name within a sentence starts in lower case
    assert "paid with wages" in en.body and "approved by group HQ" in RENDERER.render("reward_approved", "en", {"place": "x", "amount_fen": 1, "level": "group_hq", "report_id": "r"}).body


def test_no_staff_message_carries_the_reporter_and_group_chats_not_their_words():
    for event in sample_events():
        for notice in notices(event):
            if notice.to.reporter:
                continue
            assert REPORTER not in repr(notice.params), (event.type, notice.kind)
            for language in LANGUAGES:
                rendered = RENDERER.render(notice.kind, language, report_context(report_row(), staff=False) | notice.params)
                assert REPORTER not in rendered.subject + rendered.body
                assert "Gas detector" not in rendered.subject + rendered.body
    assert "description" not in report_context(report_row(), staff=False)
    assert report_context(None, staff=True) == {"place": "", "category": ""}


def test_an_unknown_language_falls_back_to_chinese_and_accept_language_is_honoured():
    assert RENDERER.render("accepted", "fr", {"place": "x", "category": "c", "report_id": "r"}).subject == "您的举报已受理"
    assert pick_language(None, "en-GB,en;q=0.9", "zh-CN") == "en"
    assert pick_language(None, "fr-FR, zh-TW;q=0.5", "en") == "zh-CN"
    assert pick_language("en", "zh-CN", "zh-CN") == "en"
    assert pick_language(None, None, "en") == "en"


def test_fen_are_shown_as_yuan_exactly():
    assert yuan(0) == "0.00" and yuan(5) == "0.05" and yuan(30_000_00) == "30000.00"
