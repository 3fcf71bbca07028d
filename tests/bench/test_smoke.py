"""``make bench`` with tiny parameters (``python -m bench.run --smoke``): every part runs end to
end and reports figures that make sense. Timings against targets are the full run's business;
at these sizes, on a shared machine, they say nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
PARTS = ("appends", "replay", "http", "latency", "reads", "archive", "console", "similar")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    results = tmp_path_factory.mktemp("bench-results")
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--results", str(results)],
        cwd=REPOSITORY, capture_output=True, text=True, timeout=540, check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    [written] = results.glob("*.json")
    return json.loads(written.read_text()), done.stdout


def positive(*values: float) -> bool:
    return all(value > 0 for value in values)


@pytest.mark.timeout(600)
def test_every_part_is_reported_with_its_baseline(smoke):
    document, printed = smoke
    assert document["smoke"] is True
    assert set(PARTS) <= document.keys()
    assert document["elapsed_seconds"] > 0
    for label in "abcdefgh":
        assert f"({label})" in printed
    assert "elapsed" in printed


@pytest.mark.timeout(600)
def test_broker_figures_count_what_was_asked(smoke):
    document, _ = smoke
    p = document["parameters"]
    appends, replay = document["appends"], document["replay"]
    assert appends["events"] == p["appends"] and positive(appends["store"]["median"], appends["raw"]["median"])
    assert replay["events"] == 4 * p["replay_reports"]
    for name, figures in replay["projections"].items():
        assert figures["ok"], name
        assert positive(figures["median"])


@pytest.mark.timeout(600)
def test_filing_over_http_is_measured_beside_the_minimal_app_and_the_broker(smoke):
    http = smoke[0]["http"]
    for side in ("service", "baseline_app", "raw"):
        assert http[side]["errors"] == 0, side
        assert positive(http[side]["requests"], http[side]["per_second"], http[side]["p50_ms"]), side
        assert http[side]["p99_ms"] >= http[side]["p50_ms"], side
    assert positive(http["service"]["service_cpu_ms_per_request"], http["baseline_app"]["service_cpu_ms_per_request"])
    assert http["ratio"] == pytest.approx(http["service"]["per_second"] / http["baseline_app"]["per_second"], rel=0.01)


@pytest.mark.timeout(600)
def test_every_filed_report_reaches_the_inbox_and_the_webhook(smoke):
    latency = smoke[0]["latency"]
    assert latency["failed"] == 0
    assert latency["filed"] == latency["offered"] > 0
    for place in ("inbox", "webhook"):
        figures = latency[place]
        assert figures["arrived"] == latency["filed"] and figures["missing"] == 0, place
        assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"], place


@pytest.mark.timeout(600)
def test_read_paths_are_timed_over_filled_stores_beside_each_services_baseline(smoke):
    reads = smoke[0]["reads"]
    assert reads["reports"] == smoke[0]["parameters"]["reads_reports"]
    assert reads["events"] == reads["reports"] * 10 // 4  # a quarter of the reports at each of four stages
    assert list(reads["reads"]) == [
        "report page", "intake /healthz (baseline)", "reporter's inbox", "notifications /healthz (baseline)",
        "officer's queue", "verification /healthz (baseline)",
    ]
    for name, figures in reads["reads"].items():
        assert figures["requests"] > 0 and 0 < figures["p50_ms"] <= figures["p95_ms"], name


@pytest.mark.timeout(600)
def test_archive_console_and_similar_reports_complete(smoke):
    document = smoke[0]
    archive = document["archive"]
    assert archive["ok"], archive["problems"]
    assert archive["events"] >= document["parameters"]["archive_events"]
    assert set(archive["projections"]) == {"intake", "verification", "rewards", "notifications", "console"}
    assert all(figures["applied"] > 0 for figures in archive["projections"].values())
    for name, figures in document["console"]["pages"].items():
        assert figures["requests"] > 0 and positive(figures["p95_ms"]), name
    for name, figures in document["similar"]["lookups"].items():
        assert figures["lookups"] > 0 and positive(figures["p95_ms"]), name
