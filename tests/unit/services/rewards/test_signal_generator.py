"""The generated subsidiary the signal rules are measured on: at a small size, every rule
catches every case planted for it (the documentation's table counts the false alarms)."""

from __future__ import annotations

from bench.signals import quality, signals_raised
from bench.signals_data import generate
from hazardloop.events import SignalRule


def test_each_rule_catches_the_cases_planted_for_it(tmp_path) -> None:
    generated = generate(1, seed=3)
    table = quality(generated, signals_raised(generated, tmp_path))
    for rule in SignalRule:
        assert table[rule.value]["planted"] > 0, rule
        assert table[rule.value]["caught"] == table[rule.value]["planted"], (rule, table[rule.value])


def test_the_generator_is_deterministic() -> None:
    one, two = generate(1, seed=9), generate(1, seed=9)
    assert [e.event_id for e in one.events] == [e.event_id for e in two.events] and one.truth == two.truth
