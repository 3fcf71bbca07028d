"""The shipped NATS cluster (deploy/nats/) carries the whole lifecycle at replicas 3 and survives a node's crash.

Services run in-process on the cluster as the ``hazardloop`` user, with the permissions
exactly as shipped: a named report (its data key in the key-value bucket), photos (the
object store), verification, rectification and a paid reward (the event log).
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import uuid
from collections import Counter

import pytest
from nats.errors import Error as NatsError

from hazardloop.events import decode_event
from hazardloop.log.eventstore import EventStore, Subjects
from hazardloop.media.attachments import AttachmentStore
from hazardloop.privacy.identity import IdentityVault
from hazardloop.web.auth import Role
from tests.factories import report_body, report_filed
from tests.integration.deploy.cluster import Cluster
from tests.integration.deploy.on_cluster import STREAM, replay, run, services_as
from tests.media import jpeg, mp4
from tests.waiting import wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(90)]

KEYS, ATTACHMENTS = "KV_HAZARDLOOP-reporter-keys", "OBJ_HAZARDLOOP-attachments"
DIRECTORY = "KV_HAZARDLOOP-reporters"
OFFICER = [Role.CONFIDENTIALITY_OFFICER]


def answered(send):
    """The first answer that is not a 503: a 503 means "not stored, try again", and a
    failover makes a few while the cluster elects new leaders."""
    return wait_for(lambda: (r := send()).status_code != 503 and r, timeout=30, interval=0.2)


def stream_leader(cluster: Cluster) -> str:
    async def leader(connection):
        return (await connection.jetstream(timeout=5).stream_info(STREAM)).cluster.leader

    return run(leader, cluster.urls("admin"))


def replicas(cluster: Cluster) -> dict[str, int]:
    async def read(connection):
        js = connection.jetstream(timeout=5)
        return {name: (await js.stream_info(name)).config.num_replicas for name in (STREAM, KEYS, DIRECTORY, ATTACHMENTS)}

    return run(read, cluster.urls("admin"))


def filed_reports(cluster: Cluster) -> Counter[str]:
    """Every ReportFiled in the log, read as the read-only auditor, by report id."""

    async def read(connection):
        js = connection.jetstream(timeout=5)
        last = (await js.stream_info(STREAM)).state.last_seq
        messages = [await js.get_msg(STREAM, seq) for seq in range(1, last + 1)]
        return Counter(e.aggregate_id for m in messages if (e := decode_event(m.data)).type == "ReportFiled")

    return run(read, cluster.urls("auditor"))


@pytest.fixture
def harness(cluster: Cluster, tmp_path):
    with services_as(cluster, "hazardloop", tmp_path / "services") as running:
        yield running


def test_the_lifecycle_runs_on_the_shipped_cluster_and_survives_a_node_killed_mid_run(cluster, harness, tmp_path):
    intake, verification, rewards = harness.start("intake"), harness.start("verification"), harness.start("rewards")
    verifier = harness.headers("safety-li", roles=[Role.VERIFIER])
    officer, finance = harness.headers("co-chen", roles=OFFICER), harness.headers("finance-zhao", roles=[Role.FINANCE])
    assert replicas(cluster) == {STREAM: 3, KEYS: 3, DIRECTORY: 3, ATTACHMENTS: 3}

    def reporter(number: int) -> dict[str, str]:
        return harness.headers(f"E-{1000 + number}")

    def upload(number: int, data: bytes) -> str:
        response = answered(lambda: intake.post("/attachments", params={"tenant": "refinery"}, content=data, headers=reporter(number)))
        assert response.status_code == 201, response.text
        return response.json()["digest"]

    def file_named(number: int, attachments=()) -> str:
        body = report_body(reporter={"employee_number": f"E-{1000 + number}", "name": f"Worker {number}"},
                           attachments=list(attachments))
        key = {"Idempotency-Key": uuid.uuid4().hex}
        response = answered(lambda: intake.post("/reports", json=body, headers=reporter(number) | key))
        assert response.status_code == 201, response.text
        return response.json()["report_id"]

    photo = upload(1, jpeg())
    acknowledged = [file_named(1, [photo]), file_named(2), file_named(3)]

    victim = cluster.node(stream_leader(cluster))
    cluster.kill(victim)  # the event log's leader, mid-run: the others must elect a new one and lose nothing

    acknowledged += [file_named(4), file_named(5)]
    video = mp4(bytes(range(256)) * 32 * 1024)  # 8 MiB: many chunks, read back under flow control
    clip = upload(6, video)
    acknowledged.append(file_named(6, [clip]))
    assert stream_leader(cluster) != victim.name

    first = acknowledged[0]
    wait_for(lambda: any(c["report_id"] == first for c in verification.get("/queue", params={"tenant": "refinery"}, headers=verifier).json()))
    verify = answered(lambda: verification.post(f"/reports/{first}/verification", headers=verifier,
                      json={"outcome": "confirmed_hazard", "grade": "larger", "rectification": {"owner": "maint-wang"}}))
    assert verify.status_code == 201, verify.text
    rectify = answered(lambda: verification.post(f"/reports/{first}/rectification", json={"measures": "Harness anchor points installed"},
                                                 headers=verifier))
    assert rectify.status_code == 201, rectify.text
    reward = f"/rewards/{first}"
    wait_for(lambda: (r := rewards.get(reward, headers=finance)).status_code == 200 and r.json()["status"] == "proposed")
    head = harness.headers("head-wang", roles=[Role.MANAGER])
    assert answered(lambda: rewards.post(f"{reward}/approval", json={"approve": True}, headers=head)).status_code == 201
    wait_for(lambda: rewards.get(reward, headers=finance).json()["status"] == "approved")
    assert answered(lambda: rewards.post(f"{reward}/payment", json={"payment_reference": "PAY-1"}, headers=finance)).status_code == 201
    wait_for(lambda: rewards.get(reward, headers=finance).json()["status"] == "granted")

    for digest in (photo, clip):  # the object store, read back after the crash
        stored = answered(lambda d=digest: intake.get(f"/attachments/{d}", params={"tenant": "refinery"}, headers=verifier))
        assert stored.status_code == 200 and hashlib.sha256(stored.content).hexdigest() == digest
    assert stored.content == video  # a video without metadata is stored as it came
    disclosed = answered(lambda: intake.post(f"/reports/{first}/identity", json={"tenant": "refinery", "purpose": "reward payout"},
                                             headers=officer))
    assert disclosed.status_code == 200, disclosed.text
    assert disclosed.json()["identity"] == {"employee_number": "E-1001", "name": "Worker 1", "phone": None}
    second = answered(lambda: intake.post(f"/reports/{acknowledged[1]}/identity", json={"tenant": "refinery", "purpose": "erasure request"},
                                          headers=officer)).json()["reporter"]
    erased = answered(lambda: intake.post(f"/reporters/{second}/erasure", json={"tenant": "refinery", "reason": "the reporter asked"},
                                          headers=officer))
    assert erased.status_code == 200, erased.text  # a purge of one key, and of the directory's entries
    gone = intake.post(f"/reports/{acknowledged[1]}/identity", json={"tenant": "refinery", "purpose": "check"}, headers=officer)
    assert gone.status_code == 409, gone.text

    log = filed_reports(cluster)
    assert {report: log[report] for report in acknowledged} == dict.fromkeys(acknowledged, 1)
    for number, report in enumerate(acknowledged, 1):
        if report == acknowledged[1]:  # erased: nothing links the reporter to it any more
            assert intake.get(f"/reports/{report}", headers=reporter(number)).status_code == 404
            continue
        assert wait_for(lambda n=number, r=report: intake.get(f"/reports/{r}", headers=reporter(n)).status_code == 200)

    rebuilt = tmp_path / "intake-rebuilt.db"  # an operator's rebuild, as the services' user: the log reads back whole
    replay(harness, "intake", rebuilt)
    with sqlite3.connect(rebuilt) as db:
        assert sorted(r for (r,) in db.execute("SELECT report_id FROM intake_reports")) == sorted(acknowledged)
    assert cluster.violations() == [], "the services were refused something they need"


def test_the_service_user_can_neither_purge_nor_delete_the_event_log_or_the_keys(cluster):
    """Refused by the permissions themselves (each refusal is logged), not only by the stream's flags."""

    async def attempt(connection):
        js = connection.jetstream(timeout=5)
        store = EventStore(connection, stream=STREAM, subjects=Subjects("hazard"), timeout=5.0)
        await store.ensure_stream(replicas=3)
        await store.append(report_filed(), expected_version=0)
        await IdentityVault(js, lambda tenant: b"k" * 32, bucket="HAZARDLOOP-reporter-keys", replicas=3).ensure()
        await AttachmentStore(js, bucket="HAZARDLOOP-attachments", replicas=3).ensure()
        refused = connection.jetstream(timeout=1)  # a refused request has no answer: it only times out
        outcomes = await asyncio.gather(
            refused.purge_stream(STREAM), refused.delete_msg(STREAM, 1), refused.delete_stream(STREAM),
            refused.purge_stream(KEYS), refused.delete_stream(KEYS), refused.delete_stream(ATTACHMENTS),
            return_exceptions=True,
        )
        # The object store's own cleanup of an upload's chunks stays allowed.
        cleaned = await js.purge_stream(ATTACHMENTS, subject="$O.HAZARDLOOP-attachments.C.an-upload-that-failed")
        return [type(outcome) for outcome in outcomes if not isinstance(outcome, NatsError)], cleaned

    assert run(attempt, cluster.urls("hazardloop")) == ([], True)

    async def held(connection):
        return (await connection.jetstream(timeout=5).stream_info(STREAM)).state.messages

    assert run(held, cluster.urls("admin")) == 1
    denied = {f"$JS.API.STREAM.PURGE.{STREAM}", f"$JS.API.STREAM.MSG.DELETE.{STREAM}", f"$JS.API.STREAM.DELETE.{STREAM}",
              f"$JS.API.STREAM.PURGE.{KEYS}", f"$JS.API.STREAM.DELETE.{KEYS}", f"$JS.API.STREAM.DELETE.{ATTACHMENTS}"}
    violations = wait_for(lambda: len(v := cluster.violations()) >= len(denied) and v)
    assert all('"HAZARDLOOP/user:hazardloop"' in line for line in violations)
    assert {line.rpartition('Subject "')[2].rstrip('"') for line in violations} == denied, "refused by the permissions"
