"""Erasure, attacked: after a reporter is erased, someone holding every key of the state folder
(master keys included) and reading everything the system keeps (every message of the event
stream, of every key-value bucket and of the object store, raw through JetStream, and every
row of every service's store) tries to link the erased pseudonym back to the person.

The attack recomputes every keyed hash and lookup key the code ever made of a person, for
candidate employee numbers that include the real ones, and tries to open every sealed
identity with every data key it can unwrap. It must find nothing of the erased reporter,
and must still find the reporter who was not erased (the legitimate way back is the same
look-up), so that the test can fail.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import sqlite3
from dataclasses import dataclass, field

import nats
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nats.js.errors import NotFoundError

from hazardloop.privacy.keyring import KeyRing
from hazardloop.web.auth import Role
from tests.factories import report_body
from tests.integration.services.conftest import TENANTS
from tests.integration.services.reward_desk import RewardDesk, confirmed
from tests.streams import every_stream
from tests.waiting import wait_for

ERASED = {"employee_number": "E-10001", "name": "Chen Jing", "phone": "+86 138 0000 1111"}
KEPT = {"employee_number": "E-10002", "name": "Liu Yang", "phone": "+86 138 0000 2222"}
CANDIDATES = [f"E-{n}" for n in range(9990, 10012)]
"""Employee numbers the attacker tries: the real two among them."""
PSEUDONYM = re.compile(rb"p-[0-9a-f]{32}")


@dataclass
class Holdings:
    """Everything the system keeps, as records, and every key of the state folder."""

    records: list[bytes] = field(default_factory=list)
    keys: list[bytes] = field(default_factory=list)
    master_keys: dict[str, list[bytes]] = field(default_factory=dict)
    wrapped: list[tuple[str, bytes]] = field(default_factory=list)
    """(key-value key, value) of every message of every bucket."""
    documents: list[dict] = field(default_factory=list)
    """Every message body that is a JSON object (the events)."""


def gather(harness) -> Holdings:
    held = Holdings()
    secrets = harness.tmp_path / "secrets"
    held.keys = [harness.common["jwt_secret"].encode(), harness.common["pseudonym_key"].encode()]
    held.keys += [path.read_bytes().strip() for path in sorted(secrets.iterdir()) if path.is_file()]
    ring = KeyRing({}, {}, state_dir=harness.tmp_path, production=False)
    held.master_keys = {tenant: ring.master_keys(tenant) for tenant in TENANTS}

    async def read() -> None:
        connection = await nats.connect(harness.nats_url)
        try:
            js = connection.jetstream()
            names = [name for name in await every_stream(js) if harness.stream in name.config.name]
            for info in names:
                stream = info.config.name
                for sequence in range(max(info.state.first_seq, 1), info.state.last_seq + 1):
                    try:
                        message = await js.get_msg(stream, sequence)
                    except NotFoundError:
                        continue  # purged
                    headers = json.dumps(message.headers or {}).encode()
                    held.records.append(message.subject.encode() + b"\n" + headers + b"\n" + (message.data or b""))
                    if stream.startswith("KV_"):
                        key = message.subject.split(".", 2)[2]
                        held.wrapped.append((key, message.data or b""))
                    try:
                        document = json.loads(message.data or b"")
                    except ValueError:
                        continue
                    if isinstance(document, dict):
                        held.documents.append(document)
        finally:
            await connection.close()

    asyncio.run(read())
    for database in sorted(harness.tmp_path.glob("*.db")):
        with sqlite3.connect(database) as db:
            tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                for row in db.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - names from the file itself
                    held.records.append(repr(row).encode())
    return held


def hashes_of(key: bytes, tenant: str, person: str) -> set[bytes]:
    """Every keyed hash of a person the code has ever made, in the forms it stored them."""
    made = set()
    for message in (f"{tenant}\x1f{person}", f"directory\x1f{tenant}\x1f{person}"):
        digest = hmac.new(key, message.encode(), hashlib.sha256).hexdigest()
        made |= {digest.encode(), digest[:40].encode(), digest[:32].encode()}
    return made


def traces(held: Holdings, person: str) -> list[bytes]:
    """Every record holding any keyed hash of ``person``: even one without a pseudonym in it
    (a purge marker named by the hash, say) tells that the person had an erased record."""
    made = {h for key in held.keys for tenant in TENANTS for h in hashes_of(key, tenant, person)}
    return [record for record in held.records if any(h in record for h in made)]


def linked_by_hashes(held: Holdings, person: str) -> set[bytes]:
    """Pseudonyms that share a record with any keyed hash of ``person``, or are one."""
    return {pseudonym for record in traces(held, person) for pseudonym in PSEUDONYM.findall(record)}


def unwrapped_data_keys(held: Holdings) -> list[bytes]:
    """Every data key any master key unwraps, whatever bucket or key it was found under."""
    data_keys = []
    for name, value in held.wrapped:
        tenant, _, reporter = name.partition(".")
        for master in held.master_keys.get(tenant, []):
            context = f"hazardloop data key\x1f{tenant}\x1f{reporter}".encode()
            try:
                data_keys.append(AESGCM(master).decrypt(value[:12], value[12:], context))
            except (InvalidTag, ValueError):
                continue
    return data_keys


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def opened_identities(held: Holdings) -> dict[str, set[bytes]]:
    """Employee number -> pseudonyms, from every sealed identity that opens with any key held."""
    keys = unwrapped_data_keys(held) + [k for ks in held.master_keys.values() for k in ks]
    keys += [hashlib.sha256(k).digest() for k in held.keys]
    opened: dict[str, set[bytes]] = {}
    for event in held.documents:
        sealed = event.get("identity")
        if event.get("type") != "ReportFiled" or not sealed:
            continue
        context = f"hazardloop identity\x1f{event['tenant']}\x1f{event['aggregate_id']}".encode()
        for key in keys:
            try:
                identity = json.loads(AESGCM(key).decrypt(unb64(sealed["nonce"]), unb64(sealed["ciphertext"]), context))
            except (InvalidTag, ValueError):
                continue
            opened.setdefault(identity["employee_number"], set()).add(event["reporter"].encode())
    return opened


def attack(harness) -> tuple[dict[str, set[bytes]], Holdings]:
    """(candidate employee number -> the pseudonyms the attacker links to them, what was read)."""
    held = gather(harness)
    opened = opened_identities(held)
    return {person: linked_by_hashes(held, person) | opened.get(person, set()) for person in CANDIDATES}, held


def test_nothing_held_links_an_erased_pseudonym_back_to_the_person(harness):
    desk = RewardDesk(harness)
    notifications = harness.start("notifications")
    erased, kept = (harness.headers(p["employee_number"]) for p in (ERASED, KEPT))
    officer = harness.headers("officer-li", roles=[Role.VERIFIER])
    theirs = []
    for body, headers in ((report_body(reporter=ERASED), erased), (report_body(channel="hotline", reporter=ERASED), officer)):
        filed = desk.intake.post("/reports", json=body, headers=headers)
        assert filed.status_code == 201, filed.text
        theirs.append(filed.json()["report_id"])
    ours = desk.intake.post("/reports", json=report_body(reporter=KEPT), headers=kept)
    assert ours.status_code == 201, ours.text
    assert desk.intake.post("/reports", json=report_body(anonymous=True), headers=erased).status_code == 201
    wait_for(lambda: desk.verification.get(f"/reports/{theirs[0]}", headers=desk.verifier).status_code == 200)
    desk.verify(theirs[0], confirmed("general"))
    desk.paid(theirs[0], "PAY-1001")
    payout = desk.intake.post(f"/reports/{theirs[0]}/identity", json={"tenant": "refinery", "purpose": "payroll payout"}, headers=desk.finance)
    assert payout.status_code == 200, payout.text
    wait_for(lambda: len(notifications.get("/inbox", headers=erased).json()) >= 3)
    pseudonym = desk.events(theirs[0])[0]["reporter"].encode()
    survivor = desk.intake.get("/reports", headers=kept).json()[0]["reporter"].encode()

    before, _ = attack(harness)
    assert before[ERASED["employee_number"]] == {pseudonym}, "before erasure the attack must find the reporter, or it proves nothing"

    co = harness.headers("co-chen", roles=[Role.CONFIDENTIALITY_OFFICER])
    done = desk.intake.post(f"/reporters/{pseudonym.decode()}/erasure", json={"tenant": "refinery", "reason": "erasure request"}, headers=co)
    assert done.status_code == 200, done.text

    after, held = attack(harness)
    assert all(pseudonym not in found for found in after.values()), after
    assert after[ERASED["employee_number"]] == set() and traces(held, ERASED["employee_number"]) == []
    assert after[KEPT["employee_number"]] == {survivor}, "the reporter not erased stays linkable: the attack works"
    assert desk.intake.get("/reports", headers=erased).json() == [] and desk.intake.get("/reports", headers=kept).json()
    assert notifications.get("/inbox", headers=erased).json() == [] and notifications.get("/inbox", headers=kept).json()
    for clear in (ERASED["name"], ERASED["phone"], ERASED["employee_number"]):
        assert not any(clear.encode() in record for record in held.records), clear
