"""What intake keeps for one browser (a form kept across a sign-in, a reporter's session):
readable only with the value the reporter's cookie holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, select, update

from hazardloop_intake.drafts import Drafts, drafts
from hazardloop_intake.reporter_session import ReporterSessions
from hazardloop_intake.store import kept

DRAFT = {"tenant": "refinery", "place_id": "bay-3", "url": "/f/refinery/bay-3?k=x&lang=zh",
         "form": {"description": "王工人看到三号管廊护栏松动", "phone": "139 0000 1234"}, "attachments": ["ab" * 32]}


def store(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'intake.db'}")
    kept.create_all(engine)
    return engine


def test_the_store_alone_reveals_nothing_of_a_draft(tmp_path):
    engine = store(tmp_path)
    secret = Drafts(engine).keep(DRAFT)
    raw = (tmp_path / "intake.db").read_bytes()
    for typed in ("王工人", "护栏", "139 0000 1234", "bay-3", secret):
        assert typed.encode() not in raw
    with engine.connect() as db:
        (row,) = db.execute(select(drafts)).all()
    assert secret not in row.id_hash
    assert Drafts(engine).open(secret) == DRAFT
    assert Drafts(engine).open(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None


def test_a_draft_is_gone_once_dropped_or_out_of_time(tmp_path):
    engine = store(tmp_path)
    kept_draft, dropped = Drafts(engine).keep(DRAFT), Drafts(engine).keep(DRAFT)
    Drafts(engine).drop(dropped)
    assert Drafts(engine).open(dropped) is None
    with engine.begin() as db:
        db.execute(update(drafts).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert Drafts(engine).open(kept_draft) is None
    assert Drafts(engine).open(None) is None


def test_a_reporters_session_names_nobody_in_the_store_and_opens_only_with_its_cookie(tmp_path):
    engine = store(tmp_path)
    sessions = ReporterSessions(engine, idle=timedelta(minutes=30))
    session_id = sessions.open(
        subject="emp-10482", name="王工人", tenants=["refinery"], token="access-token-of-wang", id_token="id-token-of-wang",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    raw = (tmp_path / "intake.db").read_bytes()
    for typed in ("emp-10482", "王工人", "access-token-of-wang", "id-token-of-wang", session_id):
        assert typed.encode() not in raw
    found = sessions.find(session_id)
    assert (found.subject, found.name, found.tenants, found.token) == ("emp-10482", "王工人", ("refinery",), "access-token-of-wang")
    assert Drafts(engine).open(session_id) is None  # a secret of one kind opens nothing of another
    assert sessions.find(session_id[:-1] + ("A" if session_id[-1] != "A" else "B")) is None
    sessions.close(session_id)
    assert sessions.find(session_id) is None
