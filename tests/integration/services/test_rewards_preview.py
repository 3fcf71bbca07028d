"""The reward preview a verifier asks for before saving a grading: the very proposal the
verification then produces, by the policy in force; strict about what it is sent; and it
records nothing."""

from __future__ import annotations

import pytest

from tests.integration.services.reward_desk import RewardDesk, confirmed

POLICY = {
    "name": "refinery-2026",
    "base": {"valid_not_hazard": 3_000, "general": 15_000, "larger": 60_000, "major": 250_000},
    "factors": {"at_height": {"multiplier_percent": 130, "bonus_fen": 1_000}, "at_night": {"multiplier_percent": 115}},
    "cap_fen": 400_000,
    "routine_duty_percent": 40,
}


@pytest.fixture
def desk(harness) -> RewardDesk:
    return RewardDesk(harness)


def preview(desk: RewardDesk, grading: dict, headers: dict | None = None):
    return desk.api.post("/rewards/preview", json={"tenant": "refinery", **grading}, headers=headers or desk.verifier)


@pytest.mark.parametrize(
    "grading",
    [
        {**confirmed("general", at_height=True, at_night=True), "within_routine_duties": True},
        confirmed("major", at_height=True, at_night=True, high_risk=True),  # beyond the cap: capped
        {"outcome": "valid_not_hazard"},
    ],
)
def test_the_preview_is_the_proposal_the_verification_then_makes(desk, grading):
    assert desk.set_policy(**POLICY).status_code == 200
    shown = preview(desk, grading)
    assert shown.status_code == 200, shown.text
    assert desk.types() == []  # a preview records nothing

    report_id, _ = desk.file()
    verdict = {"risk_colour": "yellow", **grading} if grading["outcome"] == "confirmed_hazard" else grading
    proposal = desk.verify(report_id, verdict)
    assert proposal["status"] == "proposed"
    expected = {key: proposal[key] for key in ("amount_fen", "breakdown", "policy", "cap_fen")}
    assert {key: shown.json()[key] for key in expected} == expected
    assert shown.json()["above_cap"] == (proposal["breakdown"][-1]["rule"] == "cap")


def test_a_preview_beyond_the_cap_says_so(desk):
    shown = preview(desk, confirmed("major", at_height=True, high_risk=True, hard_to_handle=True, at_night=True, bad_weather=True))
    body = shown.json()
    assert (body["amount_fen"], body["cap_fen"], body["above_cap"], body["policy"]) == (500_000, 500_000, True, "default")
    assert [line["rule"] for line in body["breakdown"]] == ["base", "at_height", "high_risk", "at_night", "bad_weather", "hard_to_handle", "cap"]


@pytest.mark.parametrize(
    ("grading", "field"),
    [
        ({"outcome": "confirmed_hazard"}, "grade"),
        ({"outcome": "valid_not_hazard", "grade": "general"}, "grade"),
        ({"outcome": "not_confirmed"}, "outcome"),
        ({"outcome": "duplicate"}, "outcome"),
        ({**confirmed("general"), "factors": {"at_height": "yes"}}, "at_height"),
        ({**confirmed("general"), "factors": {"on_a_sunday": True}}, "on_a_sunday"),
        ({**confirmed("general"), "within_routine_duties": 1}, "within_routine_duties"),
        ({**confirmed("general"), "comment": "extra"}, "comment"),
    ],
)
def test_a_wrong_grading_is_refused_naming_the_field(desk, grading, field):
    refused = preview(desk, grading)
    assert refused.status_code == 422, refused.text
    assert any(field in problem["loc"] for problem in refused.json()["detail"]), refused.json()


def test_only_those_who_grade_or_approve_preview_and_only_in_their_subsidiaries(desk):
    grading = confirmed("general")
    assert preview(desk, grading, desk.finance).status_code == 403
    assert preview(desk, grading, desk.headers("emp-1")).status_code == 403
    assert preview(desk, grading, desk.head).status_code == 200
    elsewhere = desk.api.post("/rewards/preview", json={"tenant": "mine", **grading}, headers=desk.verifier)
    assert elsewhere.status_code == 403
    assert desk.api.post("/rewards/preview", json={"tenant": "refinery", **grading}).status_code == 401
    assert preview(desk, grading, desk.leader).status_code == 200
