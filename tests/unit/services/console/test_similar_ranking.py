"""Similar earlier reports ranked on hand-built cases: the same hazard described differently
comes first, a subsidiary the officer cannot see never shows, later reports never do."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select

from hazardloop_console.queries import one_case
from hazardloop_console.similar.lookup import MAX_TOKENS, searched, similar_to
from hazardloop_console.store import text_index
from tests.unit.services.console.similar_store import Store, key_of

FILLER = ["配电室门口灭火器过期", "脚手架未挂安全网", "叉车倒车报警器损坏", "动火作业未办理作业票", "储罐区防火堤有裂缝",
          "员工未佩戴安全帽进入现场", "楼梯扶手松动", "消防通道被物料堵塞"]


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(create_engine(f"sqlite:///{tmp_path / 'console.db'}"))


def lookup(store: Store, report_id: str, text: str, tenants: list[str]):
    case, _, _ = one_case(store.engine, report_id)
    return similar_to(store.engine, case, text, tenants, key_of)


def test_the_same_leak_described_otherwise_ranks_above_an_unrelated_report_at_the_same_place(store):
    for day, words in enumerate(FILLER):
        store.file(words, day=day, area="Elsewhere", spot=f"Spot {day}")
    leak = store.file("3号泵房 离心泵P-101 机械密封泄漏", day=10, area="3号泵房", spot="P-101")
    unrelated = store.file("配电箱门未关闭", day=11, spot="Bay 7", subtype="missing_warning_sign")
    steelmill = store.file("离心泵P-101密封处漏油", tenant="steelmill", day=12, site="Rolling", area="Water", spot="Pumps")
    hidden = store.file("P-101泵密封漏油", tenant="mine", day=13, site="Shaft", area="Drain", spot="Sump")
    text = "P-101泵密封漏油"
    case = store.file(text, day=20, spot="Bay 7")
    store.file(text, day=30, area="3号泵房", spot="P-101")  # filed later: not an earlier report

    found = lookup(store, case, text, ["refinery", "steelmill"])

    ids = [s.row["report_id"] for s in found]
    assert ids.index(leak) < ids.index(unrelated)
    assert set(ids) == {leak, steelmill, unrelated}, "another subsidiary's or a later report was listed"
    reasons = {s.row["report_id"]: s.reasons for s in found}
    assert reasons[leak] == ("similar_description",) and reasons[steelmill] == ("similar_description",)
    assert reasons[unrelated] == ("same_place",)
    assert hidden not in ids
    assert found == sorted(found, key=lambda s: -s.score)


def test_the_same_equipment_counts_more_than_the_same_place_and_only_within_its_subsidiary(store):
    place = store.file("地面有油污", day=1, spot="Bay 2")
    equipment = store.file("联轴器护罩缺失", day=2, spot="Bay 9", tag="K-201")
    store.file("联轴器护罩缺失", tenant="steelmill", day=3, spot="Bay 2", tag="K-201")
    case = store.file("压缩机振动大", day=5, spot="Bay 2", tag="K-201")

    found = lookup(store, case, "压缩机振动大", ["refinery", "steelmill"])

    assert [(s.row["report_id"], s.reasons) for s in found] == [(equipment, ("same_equipment",)), (place, ("same_place",))]


def test_the_same_category_and_subtype_breaks_a_tie_but_is_never_a_reason_alone(store):
    other = store.file("护栏缺失", day=1, spot="Bay 3", subtype="missing_warning_sign")
    same = store.file("护栏缺失", day=2, spot="Bay 3", subtype="safety_equipment_substandard")
    store.file("护栏缺失", day=3, area="Elsewhere", spot="Bay 4", category="unsafe_behaviour", subtype="rule_violation",
               tenant="steelmill")
    case = store.file("安全阀失效", day=5, spot="Bay 3", subtype="safety_equipment_substandard")

    found = lookup(store, case, "安全阀失效", ["refinery", "steelmill"])

    assert [s.row["report_id"] for s in found] == [same, other]


def test_a_report_whose_text_was_erased_is_no_longer_found_by_its_words(store):
    for day, words in enumerate(FILLER):
        store.file(words, day=day, area="Elsewhere", spot=f"Spot {day}")
    leak = store.file("离心泵P-101 机械密封泄漏", day=10, area="3号泵房", spot="P-101")
    case = store.file("P-101泵密封漏油", day=20, spot="Bay 7")
    assert [s.row["report_id"] for s in lookup(store, case, "P-101泵密封漏油", ["refinery"])] == [leak]

    store.shred("refinery", leak)

    assert lookup(store, case, "P-101泵密封漏油", ["refinery"]) == []
    with store.engine.connect() as db:
        assert db.execute(select(text_index.c.digest).where(text_index.c.report_id == leak)).all() == []


def test_tokens_in_most_of_a_subsidiarys_reports_say_nothing(store):
    for day in range(60):
        store.file(f"巡检发现问题 编号{day}", day=day, area="Elsewhere", spot=f"Spot {day}")
    case = store.file("巡检发现问题 泵体异响", day=70, spot="Bay 1")

    assert lookup(store, case, "巡检发现问题 泵体异响", ["refinery"]) == []


def test_the_index_holds_digests_only(store):
    report = store.file("3号泵房 离心泵P-101 机械密封泄漏", day=1)
    with store.engine.connect() as db:
        held = db.execute(select(text_index.c.digest).where(text_index.c.report_id == report)).scalars().all()
    assert len(held) == 12 and not any(word in digest for digest in held for word in ("p-101", "101", "泵", "密封"))


def test_a_long_description_is_searched_on_its_tags_and_first_words_within_bounds(store):
    long_text = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(3990)) + " P-101"
    tenants = ["refinery", "steelmill", "mine", "harbour"]  # 4 x 64 seeks: more than one statement
    copies = {tenant: store.file(long_text, tenant=tenant, day=1, spot="Bay 9") for tenant in tenants[1:]}
    same_spot = store.file("地面油污", day=2, spot="Bay 8")
    case = store.file(long_text, day=3, spot="Bay 8")

    found = {s.row["report_id"]: s.reasons for s in lookup(store, case, long_text, tenants)}

    assert found == {**{copy: ("similar_description",) for copy in copies.values()}, same_spot: ("same_place",)}
    assert searched(long_text)[:2] == ["p-101", "p101"] and len(searched(long_text)) == MAX_TOKENS
