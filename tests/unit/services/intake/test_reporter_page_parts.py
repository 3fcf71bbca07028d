"""The parts of the reporter's page that need no broker: the guard against guessing,
the sealed receipt sessions, and messages refused in the reporter's words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select

from hazardloop_intake.i18n_report import REPORT_TEXT
from hazardloop_intake.lookups import LookupLimiter, TooManyLookups
from hazardloop_intake.receipt_sessions import ReceiptSessions, receipt_sessions
from hazardloop_intake.report_page import message_error, words
from hazardloop_intake.store import kept

CODE = "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY"


class Ticking:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_wrong_codes_from_one_address_stop_it_for_the_window_only():
    clock = Ticking()
    limiter = LookupLimiter(per_address=3, overall=100, window_seconds=60, clock=clock)
    for n in range(3):
        limiter.check("10.0.0.1")
        limiter.wrong("10.0.0.1", f"AAAAA-AAAAA-AAAAA-AAAAA-AAAA{n + 2}")
    with pytest.raises(TooManyLookups) as busy:
        limiter.check("10.0.0.1")
    assert busy.value.retry_after == 60
    limiter.check("10.0.0.2")  # another address is not held up
    clock.now += 61
    limiter.check("10.0.0.1")


def test_wrong_codes_from_many_addresses_together_stop_everyone():
    limiter = LookupLimiter(per_address=3, overall=5, window_seconds=60, clock=Ticking())
    for n in range(5):
        limiter.wrong(f"10.0.0.{n}", f"AAAAA-AAAAA-AAAAA-AAAAA-AAAA{n + 2}")
    with pytest.raises(TooManyLookups):
        limiter.check("10.9.9.9")


def test_the_same_wrong_code_asked_again_counts_once():
    limiter = LookupLimiter(per_address=2, overall=2, window_seconds=60, clock=Ticking())
    for typed in (CODE, CODE.lower(), CODE.replace("-", " "), CODE):
        limiter.wrong("10.0.0.1", typed)
        limiter.check("10.0.0.1")


def test_a_session_holds_the_code_only_sealed_under_the_cookies_secret(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'sessions.db'}")
    sessions = ReceiptSessions(engine, idle=timedelta(minutes=15))
    kept.create_all(engine)
    secret = sessions.open(CODE)
    assert sessions.find(secret).receipt_code == CODE
    with engine.connect() as db:
        (row,) = db.execute(select(receipt_sessions)).all()
    assert CODE.encode() not in row.sealed and secret not in row.id_hash
    assert sessions.find(secret[:-2] + "xx") is None and sessions.find(None) is None
    sessions.close(secret)
    assert sessions.find(secret) is None


def test_an_idle_session_ends(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'sessions.db'}")
    sessions = ReceiptSessions(engine, idle=timedelta(seconds=0))
    kept.create_all(engine)
    assert sessions.find(sessions.open(CODE)) is None


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_messages_that_cannot_be_kept_are_refused_in_the_reporters_words(lang):
    t = words(lang)
    assert message_error("好" * 2000, t) is None
    assert "2001" in message_error("好" * 2001, t)
    assert message_error("   ", t) == t["message_empty"]
    assert message_error("a\x00b", t) == t["message_invalid"]


def test_both_languages_have_every_word():
    assert REPORT_TEXT["zh"].keys() == REPORT_TEXT["en"].keys()
