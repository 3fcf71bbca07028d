"""Attachments in the object store of a real nats-server: round trips, tenants, refusals, outages."""

import asyncio
import contextlib
import hashlib
import os
import uuid
from collections.abc import AsyncIterator

import nats
import pytest
from nats.js import api
from nats.js.errors import NotFoundError

from hazardloop.errors import NotFound, TooLarge, UnsupportedMedia
from hazardloop.log.eventstore import EventStoreUnavailable
from hazardloop.log.natsserver import NatsServer
from hazardloop.media.attachments import AttachmentLimits, AttachmentStore
from tests import media


@pytest.fixture
async def bucket(nc: nats.NATS) -> AsyncIterator[str]:
    """A bucket of this test's own, removed afterwards."""
    name = f"hl-{uuid.uuid4().hex[:10]}"
    yield name
    with contextlib.suppress(NotFoundError):
        await nc.jetstream().delete_object_store(name)


@pytest.fixture
def attachments(nc: nats.NATS, bucket: str) -> AttachmentStore:
    return AttachmentStore(nc.jetstream(), bucket=bucket, limits=AttachmentLimits(max_video_bytes=400_000))


async def stored_messages(nc: nats.NATS, bucket: str) -> int:
    return (await nc.jetstream().stream_info(f"OBJ_{bucket}")).state.messages


async def test_a_photo_and_its_preview_round_trip(attachments):
    ref = await attachments.put("refinery", media.sideways_photo_with_gps())
    assert ref.content_type == "image/jpeg"
    assert await attachments.find("refinery", ref.digest) == ref
    stored, content_type = await attachments.read("refinery", ref.digest)
    assert content_type == "image/jpeg" and hashlib.sha256(stored).hexdigest() == ref.digest  # the cleaned photo
    assert media.CAMERA_MODEL.encode() not in stored
    preview, content_type = await attachments.read("refinery", ref.thumbnail)
    assert content_type == "image/jpeg" and hashlib.sha256(preview).hexdigest() == ref.thumbnail


async def test_a_video_of_several_chunks_round_trips(attachments):
    video = media.mp4(os.urandom(300_000))  # nats-py stores 128 KiB chunks: three here
    ref = await attachments.put("refinery", video)
    assert (ref.kind, ref.thumbnail, ref.size) == ("video", None, len(video))
    assert await attachments.read("refinery", ref.digest) == (video, "video/mp4")


async def test_the_same_bytes_twice_are_stored_once(attachments, nc, bucket):
    first = await attachments.put("refinery", media.jpeg())
    written = (await nc.jetstream().stream_info(f"OBJ_{bucket}")).state.last_seq
    assert await attachments.put("refinery", media.jpeg()) == first
    assert (await nc.jetstream().stream_info(f"OBJ_{bucket}")).state.last_seq == written  # not one message more


async def test_a_digest_from_one_tenant_finds_nothing_in_another(attachments):
    ref = await attachments.put("refinery", media.png())
    assert await attachments.find("mine", ref.digest) is None
    with pytest.raises(NotFound):
        await attachments.read("mine", ref.digest)
    assert await attachments.put("mine", media.png()) == ref  # its own copy, found under its own name
    assert await attachments.find("mine", ref.digest) == ref


async def test_malformed_digests_name_nothing(attachments):
    await attachments.put("refinery", media.jpeg())
    for digest in ("", "../refinery", "A" * 64, "0" * 63, "0" * 64 + "/x"):
        assert await attachments.find("refinery", digest) is None
        with pytest.raises(NotFound):
            await attachments.read("refinery", digest)


async def test_refused_content_stores_nothing(attachments, nc, bucket):
    await attachments.ensure()
    refused = {
        b"just text": UnsupportedMedia,
        media.jpeg((400, 300))[:700]: UnsupportedMedia,
        media.heic(): UnsupportedMedia,
        media.webm(b"\0" * 100): UnsupportedMedia,
        media.jpeg_with_huge_exif(): TooLarge,
        media.png_declaring(100_000, 100_000): TooLarge,
        media.mp4(b"\0" * 400_000): TooLarge,
    }
    for data, error in refused.items():
        with pytest.raises(error):
            await attachments.put("refinery", data)
    assert await stored_messages(nc, bucket) == 0


async def test_references_are_rebuilt_from_headers_other_clients_can_read(attachments, nc, bucket):
    ref = await attachments.put("refinery", media.webp())
    info = await (await nc.jetstream().object_store(bucket)).get_info(f"refinery/{ref.digest}")
    assert info.headers == {
        "Content-Type": ["image/webp"],
        "Hazardloop-Kind": ["image"],
        "Hazardloop-Thumbnail": [ref.thumbnail],
    }
    assert info.size == ref.size


async def test_attachments_outlive_the_connection_that_stored_them(attachments, nats_url, bucket):
    ref = await attachments.put("refinery", media.quicktime(b"\1" * 1000))
    other = await nats.connect(nats_url)
    try:
        elsewhere = AttachmentStore(other.jetstream(), bucket=bucket)
        assert await elsewhere.find("refinery", ref.digest) == ref
        assert await elsewhere.read("refinery", ref.digest) == (media.quicktime(b"\1" * 1000), "video/quicktime")
    finally:
        await other.close()


async def test_racing_processes_create_the_bucket_once(nats_url, bucket):
    connections = [await nats.connect(nats_url) for _ in range(4)]
    try:
        await asyncio.gather(*(AttachmentStore(c.jetstream(), bucket=bucket).ensure() for c in connections))
        config = (await connections[0].jetstream().stream_info(f"OBJ_{bucket}")).config
        assert (config.storage, config.num_replicas) == (api.StorageType.FILE, 1)
    finally:
        for connection in connections:
            await connection.close()


async def test_a_bucket_an_operator_configured_otherwise_is_kept_as_it_is(nc, bucket):
    js = nc.jetstream()
    await js.create_object_store(bucket, storage=api.StorageType.FILE, max_bytes=10 * 1024 * 1024)
    attachments = AttachmentStore(js, bucket=bucket)
    await attachments.ensure()
    ref = await attachments.put("refinery", media.jpeg())
    assert await attachments.find("refinery", ref.digest) == ref
    assert (await js.stream_info(f"OBJ_{bucket}")).config.max_bytes == 10 * 1024 * 1024


async def test_a_dead_broker_is_a_typed_bounded_unavailability(tmp_path):
    server = NatsServer(tmp_path / "nats").start()

    async def quiet(_):
        pass

    connection = await nats.connect(server.url, max_reconnect_attempts=-1, reconnect_time_wait=0.2, error_cb=quiet)
    attachments = AttachmentStore(connection.jetstream(), bucket="down", timeout=0.5)
    ref = await attachments.put("refinery", media.jpeg())
    server.kill()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(EventStoreUnavailable):
        await attachments.put("refinery", media.png())
    with pytest.raises(EventStoreUnavailable):
        await attachments.find("refinery", ref.digest)
    with pytest.raises(EventStoreUnavailable):
        await attachments.read("refinery", ref.digest)
    with pytest.raises(EventStoreUnavailable):
        await attachments.ensure()
    assert loop.time() - started < 5
    with contextlib.suppress(ConnectionError):  # closing flushes onto a dead socket
        await connection.close()
