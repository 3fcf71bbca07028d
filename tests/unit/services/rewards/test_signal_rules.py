"""Each fraud-signal rule on hand-built histories: it fires on the pattern it is for, names
the reports that show it, and stays silent on an honest history of the same size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hazardloop.events import (
    FrequentPairRule,
    NearDuplicatesRule,
    PeriodEndBurstRule,
    RoutineDutyRule,
    SignalRule,
    TeamConcentrationRule,
    UnusualPlaceRule,
)
from hazardloop_rewards.signals import bursts, concentration, duplicates, pairing, places, routine
from hazardloop_rewards.signals.seen import Filing, Rewarded

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai, early in March


def person(n: int) -> str:
    return f"p-{n:032x}"


ALICE, BOB, CAROL = person(1), person(2), person(3)


def filing(n: int, reporter: str, at: datetime, place: str = "tag:p-101", category: str = "unsafe_equipment", **where: str) -> Filing:
    return Filing(f"r-{n}", reporter, at, place, category, where.get("site", "North"), where.get("area", "Unit 2"))


def reward(n: int, reporter: str, verifier: str = "v-1", amount: int = 10_000, *, routine_duty: bool = False, team: str | None = None) -> Rewarded:
    return Rewarded(f"r-{n}", reporter, verifier, amount, routine_duty, team)


# --- (a) within own routine duties --------------------------------------------------------


def test_a_reporter_rewarded_mostly_for_their_own_routine_duties_is_flagged_with_those_reports() -> None:
    history = [reward(1, ALICE, routine_duty=True), reward(2, ALICE), reward(3, ALICE, routine_duty=True), reward(4, ALICE, routine_duty=True)]
    [found] = routine.findings(history)
    assert found.rule == SignalRule.ROUTINE_DUTY and found.reporter == ALICE
    assert found.evidence == ("r-1", "r-3", "r-4")
    assert found.figures == {"routine": 3, "rewards": 4}


def test_routine_duty_findings_now_and_then_among_many_rewards_raise_nothing() -> None:
    history = [reward(n, ALICE, routine_duty=n % 4 == 0) for n in range(1, 17)]  # 4 of 16: a quarter
    assert routine.findings(history) == []
    assert routine.findings(history, RoutineDutyRule(min_rewards=3, min_share_percent=25)) != []


# --- (b) a reporter-verifier pair far above chance ----------------------------------------


def _verifiers_shared_evenly(reporters: int, rounds: int) -> list[Rewarded]:
    """Every reporter's rewards proposed in turn by eight verifiers: what chance looks like."""
    n, history = 0, []
    for _ in range(rounds):
        for r in range(reporters):
            for v in range(8):
                n += 1
                history.append(reward(n, person(10 + r), f"v-{v}"))
    return history


def test_a_pair_far_more_frequent_than_chance_is_flagged_with_the_pairs_reports() -> None:
    history = _verifiers_shared_evenly(reporters=6, rounds=3)
    planted = [reward(1000 + k, ALICE, "v-2") for k in range(6)]
    found = pairing.findings([*history, *planted])
    assert [(f.subject, f.evidence) for f in found] == [((ALICE, "v-2"), tuple(sorted(r.report_id for r in planted)))]
    assert found[0].figures["pair"] == 6 and found[0].figures["expected"] < 2


def test_verifiers_shared_as_chance_has_it_raise_no_pair_signal_nor_does_a_single_verifier() -> None:
    assert pairing.findings(_verifiers_shared_evenly(reporters=6, rounds=5)) == []
    one_verifier = [reward(n, person(n % 3), "v-only") for n in range(60)]
    assert pairing.findings(one_verifier) == []


def test_a_pair_below_the_minimum_count_is_not_flagged_however_lopsided() -> None:
    history = [*_verifiers_shared_evenly(reporters=6, rounds=3), *(reward(1000 + k, ALICE, "v-2") for k in range(4))]
    assert pairing.findings(history) == []
    assert pairing.findings(history, FrequentPairRule(min_pairs=4)) != []


# --- (c) serial near-duplicates -----------------------------------------------------------


def test_one_reporter_filing_the_same_equipment_and_category_again_and_again_is_flagged() -> None:
    history = [filing(n, ALICE, START + timedelta(days=3 * n)) for n in range(4)]  # every 3 days
    [found] = duplicates.findings(history)
    assert found.rule == SignalRule.NEAR_DUPLICATES and found.subject == (ALICE, "tag:p-101", "unsafe_equipment")
    assert found.evidence == ("r-0", "r-1", "r-2", "r-3")


def test_the_same_place_by_different_people_or_spread_over_months_or_other_categories_is_not_flagged() -> None:
    different_people = [filing(n, person(n), START + timedelta(days=n)) for n in range(6)]
    spread_out = [filing(n, ALICE, START + timedelta(days=20 * n)) for n in range(6)]
    other_categories = [filing(n, ALICE, START + timedelta(days=n), category=c) for n, c in enumerate(["unsafe_equipment", "unsafe_behaviour", "unsafe_environment"])]
    assert duplicates.findings([*different_people, *spread_out, *other_categories]) == []
    assert duplicates.findings(spread_out, NearDuplicatesRule(window_days=45)) != []


# --- (d) bursts before a reward period closes ----------------------------------------------


def _steady(reporter: str, first: int, months: int) -> list[Filing]:
    """About one filing a week, at mid-week, for ``months`` months from March."""
    return [filing(first + n, reporter, START + timedelta(days=7 * n), place=f"spot-{n}") for n in range(months * 4)]


def test_a_reporter_filing_far_more_than_usual_in_the_last_days_of_the_month_is_flagged() -> None:
    usual = _steady(ALICE, 0, months=3)
    month_end = datetime(2026, 6, 30, 16, 0, tzinfo=UTC) - timedelta(days=3)  # 27 June, Shanghai time
    burst = [filing(100 + k, ALICE, month_end + timedelta(hours=5 * k), place=f"x-{k}") for k in range(5)]
    [found] = bursts.findings([*usual, *burst])
    assert found.subject == (ALICE, "2026-06") and found.evidence == tuple(sorted(f.report_id for f in burst))
    assert found.figures["reports"] == 5 and found.figures["expected"] < 1


def test_a_steady_reporter_and_a_busy_week_mid_month_raise_no_burst() -> None:
    usual = _steady(BOB, 0, months=4)
    mid_month = [filing(200 + k, BOB, datetime(2026, 5, 12, tzinfo=UTC) + timedelta(hours=k), place=f"m-{k}") for k in range(6)]
    assert bursts.findings([*usual, *mid_month]) == []


def test_the_period_can_be_the_budget_year_in_the_groups_time_zone() -> None:
    usual = [filing(n, ALICE, datetime(2026, 1, 5, tzinfo=UTC) + timedelta(days=7 * n), place=f"s-{n}") for n in range(50)]
    # 31 December 18:00 UTC is already next year in Shanghai: not in 2026's last days there
    late = [filing(300 + k, ALICE, datetime(2026, 12, 28, tzinfo=UTC) + timedelta(hours=k), place=f"y-{k}") for k in range(4)]
    year = PeriodEndBurstRule(period="year")
    [found] = bursts.findings([*usual, *late], year)
    assert found.subject == (ALICE, "2026")
    assert bursts.period_of(datetime(2026, 12, 31, 18, 0, tzinfo=UTC), "year", "Asia/Shanghai")[0] == "2027"


# --- (e) places the reporter never works in --------------------------------------------------


def test_reports_outside_the_reporters_listed_work_places_are_flagged() -> None:
    history = [
        filing(1, ALICE, START, site="North", area="Unit 2"),
        filing(2, ALICE, START, site="South", area="Tank farm"),
        filing(3, ALICE, START, site="Harbour", area="Jetty"),
        filing(4, BOB, START, site="Harbour", area="Jetty"),
        filing(5, ALICE, START, site="East", area="Unit 7"),
        filing(6, ALICE, START, site="East", area="Jetty"),
    ]
    found = places.finding(ALICE, history, ["north", " Unit 7 "])
    assert found is not None and found.evidence == ("r-2", "r-3", "r-6") and found.reporter == ALICE


def test_no_work_places_listed_or_reports_where_they_work_raise_nothing() -> None:
    at_work = [filing(n, ALICE, START, site="North", area=f"Unit {n}") for n in range(5)]
    assert places.finding(ALICE, at_work, ["North"]) is None
    elsewhere = [filing(n, ALICE, START, site="South", area="Tank farm") for n in range(5)]
    assert places.finding(ALICE, elsewhere, []) is None
    assert places.finding(ALICE, elsewhere[:2], ["North"]) is None
    assert places.finding(ALICE, elsewhere[:2], ["North"], UnusualPlaceRule(min_reports=2)) is not None


# --- (f) a team's rewards on a few people ---------------------------------------------------


def test_a_team_whose_rewards_go_mostly_to_two_people_is_flagged_with_their_reports() -> None:
    others = [reward(n, person(20 + n), team="Shift B") for n in range(4)]
    favoured = [reward(100 + k, [ALICE, BOB][k % 2], amount=50_000, team="shift b") for k in range(12)]
    [found] = concentration.findings([*others, *favoured])
    assert found.subject == ("shift b",) and found.figures["top"] == [ALICE, BOB]
    assert found.evidence == tuple(sorted(r.report_id for r in favoured)) and found.figures["share_percent"] > 70


def test_rewards_spread_over_a_team_or_a_team_too_small_to_judge_raise_nothing() -> None:
    spread = [reward(n, person(30 + n % 8), team="Shift C") for n in range(40)]
    small = [reward(100 + n, ALICE if n % 3 else [BOB, CAROL][n % 2], team="Shift D") for n in range(30)]  # Alice: 20 of 30
    assert concentration.findings([*spread, *small]) == []
    assert concentration.findings(small, TeamConcentrationRule(top=1, min_reporters=3, max_share_percent=60)) != []


# --- rules can be switched off --------------------------------------------------------------


def test_a_disabled_rule_raises_nothing() -> None:
    history = [filing(n, ALICE, START + timedelta(days=n)) for n in range(5)]
    assert duplicates.findings(history, NearDuplicatesRule(enabled=False)) == []
