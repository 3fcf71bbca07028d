"""Recognition: teams on the leaderboard, and the public notice naming a reporter only with
their consent, on a real broker."""

from __future__ import annotations

from hazardloop.web.auth import Role
from hazardloop_rewards.api.views import notice_reference
from tests.integration.services.reward_desk import RewardDesk, confirmed, this_month
from tests.waiting import wait_for


def notice(desk: RewardDesk, report_id: str, reader: dict) -> dict:
    rows = desk.api.get("/notices", params={"tenant": "refinery", "period": this_month()}, headers=reader).json()
    return next(row for row in rows if row["reference"] == notice_reference(report_id))


def test_teams_rank_and_the_notice_names_a_reporter_only_with_their_consent(harness):
    desk = RewardDesk(harness)
    ours = [desk.proposed(confirmed("general"), reporter=f"emp-{n}", team="Maintenance shift B") for n in (1, 2)]
    theirs = desk.proposed(confirmed("larger"), reporter="emp-3", team="Boiler house")
    anonymous, _ = desk.file("emp-4", anonymous=True, team="Boiler house")
    filed = next(e for e in desk.events(anonymous, aggregate="report") if e["type"] == "ReportFiled")
    assert filed["team"] is None, "an anonymous report never names a team: a small team could name its reporter"
    for n, report_id in enumerate([*ours, theirs]):
        desk.paid(report_id, f"PAY-{n}")

    anyone = desk.headers("emp-9")
    board = wait_for(lambda: (b := desk.api.get("/leaderboard", params={"tenant": "refinery", "period": this_month()}, headers=anyone).json()) and b)
    assert [(row["name"], row["rewarded_reports"]) for row in board] == [("Maintenance shift B", 2), ("Boiler house", 1)]

    assert notice(desk, ours[0], anyone)["named"] is None, "nobody is named until the reporter consents"
    stranger = desk.api.post(f"/rewards/{ours[0]}/recognition", json={"consent": True, "display_name": "Li Si"}, headers=desk.headers("emp-2"))
    assert stranger.status_code == 409
    missing = desk.api.post(f"/rewards/{ours[0]}/recognition", json={"consent": True}, headers=desk.headers("emp-1"))
    assert missing.status_code == 422 and "display_name" in missing.text
    consented = desk.api.post(f"/rewards/{ours[0]}/recognition", json={"consent": True, "display_name": "Wang Wei"}, headers=desk.headers("emp-1"))
    assert consented.status_code == 201 and consented.json()["event"] == "RecognitionConsented"
    wait_for(lambda: notice(desk, ours[0], anyone)["named"] == "Wang Wei")
    assert notice(desk, ours[1], anyone)["named"] is None, "only the one who consented is named"
    desk.api.post(f"/rewards/{ours[0]}/recognition", json={"consent": False}, headers=desk.headers("emp-1")).raise_for_status()
    wait_for(lambda: notice(desk, ours[0], anyone)["named"] is None)
    assert desk.api.post(f"/rewards/{ours[0]}/recognition", json={"consent": True, "display_name": "X"}, headers=desk.headers("emp-1", roles=[Role.FINANCE])).status_code == 403


def test_a_reporter_named_on_one_entry_is_not_linked_to_their_other_entries(harness):
    desk = RewardDesk(harness)
    named, other = (desk.proposed(confirmed("general"), reporter="emp-5", team="Tank farm") for _ in range(2))
    for n, report_id in enumerate((named, other)):
        desk.paid(report_id, f"PAY-5{n}")
    anyone = desk.headers("emp-9")
    before = wait_for(lambda: len(rows := desk.api.get("/notices", params={"tenant": "refinery", "period": this_month()}, headers=anyone).json()) == 2 and rows)
    consented = desk.api.post(f"/rewards/{named}/recognition", json={"consent": True, "display_name": "Zhao Lei"}, headers=desk.headers("emp-5"))
    assert consented.status_code == 201, consented.text
    wait_for(lambda: notice(desk, named, anyone)["named"] == "Zhao Lei")
    after = desk.api.get("/notices", params={"tenant": "refinery", "period": this_month()}, headers=anyone).json()
    assert notice(desk, other, anyone)["named"] is None
    pseudonym = desk.events(named)[0]["reporter"]
    assert all(pseudonym not in str(entry) and named not in str(entry) and other not in str(entry) for entry in before + after)
    first, second = notice(desk, named, anyone), notice(desk, other, anyone)
    assert {key for key, value in first.items() if second[key] == value} <= {"place", "grade", "amount_fen"}  # the hazard's, not the person's
    refused = desk.api.get("/leaderboard", params={"tenant": "refinery", "period": this_month(), "by": "reporter"}, headers=anyone)
    assert refused.status_code == 403
