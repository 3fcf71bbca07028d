"""Who took a step, as the case page's history names them."""

from zoneinfo import ZoneInfo

import pytest

from hazardloop_console.web import Page


@pytest.mark.parametrize(
    ("actor", "zh", "en"),
    [
        ("reporter:p-1a2b", "化名 p-1a2b", "Pseudonym p-1a2b"),
        ("receipt-holder", "匿名", "Anonymous"),
        ("staff:safety-manager-wang", "safety-manager-wang", "safety-manager-wang"),
        ("safety-officer-li", "safety-officer-li", "safety-officer-li"),
        ("hazardloop/verification", "", ""),
        (None, "", ""),
    ],
)
def test_each_actor_reads_as_a_person_would_say_it(actor, zh, en):
    zone = ZoneInfo("Asia/Shanghai")
    assert Page(request=None, language="zh-CN", zone=zone).actor(actor) == zh
    assert Page(request=None, language="en", zone=zone).actor(actor) == en
