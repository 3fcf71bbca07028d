"""The collector settings a rebuild runs under are its own: the process gets its own back."""

from __future__ import annotations

import gc

import pytest

from hazardloop.projection import bulk_collection


def test_a_rebuild_collects_young_objects_less_often_and_leaves_long_lived_ones_alone():
    before = gc.get_threshold()
    with bulk_collection():
        assert gc.get_threshold()[0] >= 10_000
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_a_failed_rebuild_gives_the_process_its_collector_back():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), bulk_collection():
        raise RuntimeError("the log went away")
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
