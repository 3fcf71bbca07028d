"""The identity vault on a real nats-server: sealed identities open only with the reporter's live key."""

import asyncio
import os

import nats
import pytest

from hazardloop.events import SealedIdentity
from hazardloop.privacy.identity import Identity, IdentityErased, IdentityVault, WrongMasterKey

REPORTER = "p-" + "cd" * 16
PERSON = Identity(employee_number="E-10482", name="Li Wei", phone="+86 138 0000 0000")


@pytest.fixture
async def vault(nc: nats.NATS, stream_names: tuple[str, str]) -> IdentityVault:
    keys = {"refinery": [os.urandom(32)], "mine": [os.urandom(32)]}
    vault = IdentityVault(nc.jetstream(timeout=2), keys.__getitem__, bucket=f"{stream_names[0]}-keys")
    await vault.ensure()
    return vault


async def test_a_sealed_identity_holds_nothing_readable_and_opens_for_its_report(vault: IdentityVault):
    sealed = await vault.seal("refinery", REPORTER, "report-1", PERSON)
    document = sealed.model_dump_json()
    assert "Li Wei" not in document and "10482" not in document and sealed.key_id == REPORTER
    assert await vault.open("refinery", "report-1", sealed) == PERSON


async def test_one_reporter_has_one_data_key_even_when_sealing_races(vault: IdentityVault):
    sealed = await asyncio.gather(*(vault.seal("refinery", REPORTER, f"report-{i}", PERSON) for i in range(8)))
    for index, each in enumerate(sealed):
        assert await vault.open("refinery", f"report-{index}", each) == PERSON


async def test_a_ciphertext_moved_to_another_report_or_tenant_does_not_open(vault: IdentityVault):
    sealed = await vault.seal("refinery", REPORTER, "report-1", PERSON)
    with pytest.raises(IdentityErased):
        await vault.open("refinery", "report-2", sealed)
    other_first = "B" if sealed.ciphertext.startswith("A") else "A"  # always a change: the ciphertext may start with A
    tampered = SealedIdentity(key_id=REPORTER, nonce=sealed.nonce, ciphertext=other_first + sealed.ciphertext[1:])
    with pytest.raises(IdentityErased):
        await vault.open("refinery", "report-1", tampered)


async def test_shredding_the_key_makes_every_earlier_identity_unreadable_for_good(vault: IdentityVault, nc: nats.NATS, stream_names):
    first = await vault.seal("refinery", REPORTER, "report-1", PERSON)
    second = await vault.seal("refinery", REPORTER, "report-2", PERSON)
    await vault.shred("refinery", REPORTER)
    await vault.shred("refinery", REPORTER)  # idempotent
    for report, sealed in (("report-1", first), ("report-2", second)):
        with pytest.raises(IdentityErased):
            await vault.open("refinery", report, sealed)
    kv = await nc.jetstream().key_value(f"{stream_names[0]}-keys")
    assert [entry.value for entry in await kv.history(f"refinery.{REPORTER}")] in ([], [b""])  # no old key left behind
    later = await vault.seal("refinery", REPORTER, "report-3", PERSON)  # a new report after erasure works
    assert await vault.open("refinery", "report-3", later) == PERSON
    with pytest.raises(IdentityErased):
        await vault.open("refinery", "report-1", first)


async def test_data_keys_are_stored_wrapped_by_the_tenant_master_key(vault: IdentityVault, nc: nats.NATS, stream_names):
    sealed = await vault.seal("mine", REPORTER, "report-1", PERSON)
    kv = await nc.jetstream().key_value(f"{stream_names[0]}-keys")
    wrapped = (await kv.get(f"mine.{REPORTER}")).value
    assert len(wrapped) == 12 + 32 + 16  # nonce, key, tag: never the bare key
    other_master = IdentityVault(nc.jetstream(timeout=2), lambda _: [os.urandom(32)], bucket=f"{stream_names[0]}-keys")
    await other_master.ensure()
    with pytest.raises(WrongMasterKey):
        await other_master.open("mine", "report-1", sealed)


@pytest.fixture
def vault_with(nc: nats.NATS, stream_names):
    """A vault on one test's own key bucket, holding the given master keys (newest first)."""

    async def make(*master_keys: bytes) -> IdentityVault:
        vault = IdentityVault(nc.jetstream(timeout=2), lambda _: list(master_keys), bucket=f"{stream_names[0]}-keys")
        await vault.ensure()
        return vault

    return make


async def test_after_a_master_key_rotation_new_keys_are_wrapped_by_the_newest_and_old_ones_still_open(vault_with):
    old, new = os.urandom(32), os.urandom(32)

    sealed_before = await (await vault_with(old)).seal("mine", REPORTER, "report-1", PERSON)
    rotated = await vault_with(new, old)
    assert await rotated.open("mine", "report-1", sealed_before) == PERSON
    sealed_after = await rotated.seal("mine", "p-" + "ef" * 16, "report-2", PERSON)
    assert await (await vault_with(new)).open("mine", "report-2", sealed_after) == PERSON
    with pytest.raises(WrongMasterKey):
        await (await vault_with(old)).open("mine", "report-2", sealed_after)


async def test_rewrapping_moves_every_data_key_to_the_newest_master_key_so_the_old_one_can_go(vault_with):
    old, new = os.urandom(32), os.urandom(32)

    before = await vault_with(old)
    sealed = [await before.seal("mine", f"p-{i:032x}", f"report-{i}", PERSON) for i in range(3)]
    other_tenant = await before.seal("refinery", REPORTER, "report-r", PERSON)
    await before.shred("mine", "p-" + f"{2:032x}")
    rotated = await vault_with(new, old)
    assert await rotated.rewrap("mine") == 2  # the erased reporter stays erased
    assert await rotated.rewrap("mine") == 0  # done: repeating changes nothing

    after = await vault_with(new)
    for i in range(2):
        assert await after.open("mine", f"report-{i}", sealed[i]) == PERSON
    with pytest.raises(IdentityErased):
        await after.open("mine", "report-2", sealed[2])
    with pytest.raises(WrongMasterKey):  # another subsidiary's keys are its own business
        await after.open("refinery", "report-r", other_tenant)
