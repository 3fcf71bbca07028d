"""Photos and videos of hazards, kept in the NATS JetStream object store.

Events carry an ``AttachmentRef``; the bytes live here, so the whole system needs only
NATS and a database. What a file is comes from its content; a name or declared type that
says otherwise is refused. Everything is checked, and every file stripped of the
metadata its camera wrote (device, position, time), before anything is stored.

Objects are named ``<tenant>/<sha256>``: the same bytes are stored once per tenant, and
a digest known in one subsidiary finds nothing in another. Each object's headers hold
its content type, kind and preview, so a reference is rebuilt without a download.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import puremagic
from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError, ObjectNotFoundError
from nats.js.object_store import ObjectStore
from pydantic import BaseModel, ConfigDict, PositiveInt, TypeAdapter

from hazardloop.errors import NotFound
from hazardloop.events import AttachmentRef, MediaKind, TenantId
from hazardloop.log.eventstore import broker_errors
from hazardloop.media.images import DECODERS, clean_image, size_text
from hazardloop.media.refusals import MediaTooLarge, MediaUnsupported
from hazardloop.media.video import clean_iso_media

MiB = 1024 * 1024

_VIDEO_FORMATS = {"video/mp4": "MP4", "video/quicktime": "QuickTime"}
"""Accepted video types, each cleaned of its metadata without re-encoding (see media_video)."""
_HEIF_TYPES = frozenset({"image/heic", "image/heif"})

_ISO_BRANDS = {
    b"qt  ": "video/quicktime",
    **dict.fromkeys(
        (b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"MSNV", b"mmp4", b"dash"),
        "video/mp4",
    ),
    **dict.fromkeys((b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"), "image/heic"),
    **dict.fromkeys((b"mif1", b"msf1"), "image/heif"),
    **dict.fromkeys((b"avif", b"avis"), "image/avif"),
}
"""Major brand of an ISO media file's ``ftyp`` box -> the content type it declares."""
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_WEBM_DOCTYPE = b"\x42\x82\x84webm"
"""EBML DocType element, as every WebM muxer writes it: ID 0x4282, size 4, "webm"."""

_EXTENSIONS = {
    **dict.fromkeys(("jpg", "jpeg", "jpe", "jfif"), "image/jpeg"),
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    **dict.fromkeys(("heic", "heif"), "image/heic"),
    "avif": "image/avif",
    **dict.fromkeys(("mp4", "m4v"), "video/mp4"),
    **dict.fromkeys(("mov", "qt"), "video/quicktime"),
    "webm": "video/webm",
}
"""File-name extensions that claim a picture or video type; other names claim nothing."""
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "video/x-m4v": "video/mp4", "image/heif": "image/heic"}
_SAME_FAMILY = {"video/quicktime": "video/mp4"}
"""MP4 and QuickTime share one container and phones label them loosely: either claim fits either."""

_DIGEST = re.compile(r"[0-9a-f]{64}")
_TENANT: TypeAdapter[str] = TypeAdapter(TenantId)

_CONTENT_TYPE = "Content-Type"
_KIND = "Hazardloop-Kind"
_THUMBNAIL = "Hazardloop-Thumbnail"

_STREAM_NAME_IN_USE = 10058
"""JetStream: a stream of that name exists with a different configuration."""


class AttachmentLimits(BaseModel):
    """What one upload may be."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_image_bytes: PositiveInt = 10 * MiB
    max_video_bytes: PositiveInt = 50 * MiB
    max_count_per_report: PositiveInt = 6
    """Checked by whoever files a report: a store sees one file at a time."""
    max_image_pixels: PositiveInt = 80_000_000
    """Checked before decoding, since a few kilobytes of PNG can declare gigapixels.

    A 50-megapixel phone photo fits, and the bound stays below Pillow's own
    decompression-bomb warning threshold (about 89.5 megapixels).
    """
    max_metadata_bytes: PositiveInt = 1 * MiB
    """EXIF, XMP, colour profile and text a photo may carry (compressed text counted unpacked).

    A phone's EXIF fits in one 64 KiB segment; megabytes of metadata are an attack on the
    parser, not a photo.
    """
    thumbnail_px: PositiveInt = 320
    """Longest side of an image's JPEG preview."""


@dataclass(frozen=True, slots=True)
class Upload:
    """A file as sent: its bytes, and the type and name the sender gave it (either may be absent)."""

    data: bytes
    declared_type: str | None = None
    filename: str | None = None


@dataclass(frozen=True, slots=True)
class Accepted:
    """Bytes cleaned of metadata and the reference events will carry; an image brings its preview."""

    ref: AttachmentRef
    data: bytes
    preview: Accepted | None = None


def inspect(
    data: bytes,
    limits: AttachmentLimits = AttachmentLimits(),
    *,
    declared_type: str | None = None,
    filename: str | None = None,
) -> Accepted:
    """Decide what ``data`` is from its content, hold it to ``limits`` and strip its metadata; CPU only, no I/O.

    Raises MediaUnsupported (415) or MediaTooLarge (413) and nothing else, whatever the
    bytes. A declared picture or video type, or a file name's extension, that the content
    contradicts is a disguise and refused. Images are decoded and encoded afresh from
    their pixels; MP4 and QuickTime videos have their metadata boxes blanked. What is
    stored, and what the digest names, is the cleaned file.
    """
    if not data:
        raise MediaUnsupported("empty")
    content_type = _sniff(data)
    _check_claims(content_type, declared_type, filename)
    if content_type in _HEIF_TYPES:
        raise MediaUnsupported("heic")
    if content_type == "video/webm":
        raise MediaUnsupported("webm")
    if content_type not in DECODERS and content_type not in _VIDEO_FORMATS:
        raise MediaUnsupported("unsupported", found=_describe(content_type))
    kind = MediaKind.IMAGE if content_type in DECODERS else MediaKind.VIDEO
    limit = limits.max_image_bytes if kind is MediaKind.IMAGE else limits.max_video_bytes
    if len(data) > limit:
        raise MediaTooLarge("too_big", kind=kind.value, size=size_text(len(data)), limit=size_text(limit))
    if kind is MediaKind.VIDEO:
        return _accept(clean_iso_media(data, _VIDEO_FORMATS[content_type]), content_type, kind)
    clean = clean_image(
        data,
        content_type,
        max_pixels=limits.max_image_pixels,
        max_metadata=limits.max_metadata_bytes,
        thumbnail_px=limits.thumbnail_px,
    )
    return _accept(clean.data, content_type, kind, _accept(clean.preview, "image/jpeg", MediaKind.IMAGE))


def _sniff(data: bytes) -> str | None:
    """The content type the bytes declare by their structure; None when unrecognised.

    ISO media (MP4, QuickTime, HEIC, AVIF) names its type by the major brand of its
    ``ftyp`` box and Matroska its flavour by the EBML DocType, so both are read there:
    puremagic's fixed-offset rules take some AVIF, HEIC and M4A files for MP4, miss
    some MP4s, and cannot tell WebM from Matroska.
    """
    if data[4:8] == b"ftyp":
        return _ISO_BRANDS.get(data[8:12])
    if data.startswith(_EBML_MAGIC):
        return "video/webm" if _WEBM_DOCTYPE in data[:64] else "video/x-matroska"
    try:
        return puremagic.from_string(data, mime=True) or None
    except puremagic.PureError:
        return None


def _check_claims(found: str | None, declared_type: str | None, filename: str | None) -> None:
    """Refuse content that a picture or video type, declared or in the file's name, says it is not.

    Generic declarations (``application/octet-stream``, ``text/plain`` from a careless
    client) claim nothing: the content decides.
    """
    declared = (declared_type or "").partition(";")[0].strip().lower()
    extension = (filename or "").rpartition(".")[2].lower() if "." in (filename or "") else ""
    claims = [(declared, declared)] if declared.startswith(("image/", "video/")) else []
    if extension in _EXTENSIONS:
        claims.append((f".{extension}", _EXTENSIONS[extension]))
    for said, claimed in claims:
        if _family(claimed) != _family(found):
            raise MediaUnsupported("disguised", claimed=said, found=_describe(found))


def _family(content_type: str | None) -> str | None:
    canonical = _ALIASES.get(content_type or "", content_type)
    return _SAME_FAMILY.get(canonical or "", canonical)


def _describe(content_type: str | None) -> str:
    return content_type or "unrecognised content"


def _accept(data: bytes, content_type: str, kind: MediaKind, preview: Accepted | None = None) -> Accepted:
    ref = AttachmentRef(
        digest=hashlib.sha256(data).hexdigest(),
        content_type=content_type,
        size=len(data),
        kind=kind,
        thumbnail=preview.ref.digest if preview else None,
    )
    return Accepted(ref, data, preview)


class AttachmentStore:
    """Every tenant's photos and videos in one object-store bucket.

    ``timeout`` bounds each call's whole exchange with the broker, a transfer included
    (reading 50 MiB takes over a second from a local server); past it, or with the
    broker down, a call raises EventStoreUnavailable. The bucket is created on first use, or by
    ``ensure`` at startup to fail early.
    """

    def __init__(
        self,
        js: JetStreamContext,
        *,
        bucket: str = "hazardloop-attachments",
        limits: AttachmentLimits = AttachmentLimits(),
        replicas: int = 1,
        timeout: float = 5.0,
    ) -> None:
        self._js = js
        self.bucket = bucket
        self.limits = limits
        self._replicas = replicas
        self._timeout = timeout
        self._objects: ObjectStore | None = None

    async def ensure(self) -> None:
        """Create the bucket (file storage, ``replicas``) unless it exists; safe when processes race.

        An existing bucket is used as it stands, even when configured otherwise (say, a
        quota an operator set): changing it is an operator's decision, not a deploy's.
        """
        self._objects = await self._open()

    async def put(
        self, tenant: str, data: bytes, *, declared_type: str | None = None, filename: str | None = None
    ) -> AttachmentRef:
        """Store ``data``, cleaned, if it is an accepted photo or video; the same file again is stored once.

        Refused content raises MediaUnsupported or MediaTooLarge with nothing stored.
        """
        (ref,) = await self.put_all(tenant, [Upload(data, declared_type, filename)])
        return ref

    async def put_all(self, tenant: str, uploads: Sequence[Upload]) -> list[AttachmentRef]:
        """Store every upload, or none: all are inspected and cleaned before the first is stored."""
        accepted = [
            await asyncio.to_thread(inspect, upload.data, self.limits, declared_type=upload.declared_type, filename=upload.filename)
            for upload in uploads
        ]
        objects = await self._bucket()
        refs = []
        async with self._broker():
            for item in accepted:
                if item.preview is not None:  # first, so that a stored original never lacks its preview
                    await _store_once(objects, tenant, item.preview)
                refs.append(await _store_once(objects, tenant, item))
        return refs

    async def find(self, tenant: str, digest: str) -> AttachmentRef | None:
        """The reference of this tenant's attachment ``digest``, from its headers alone."""
        if not _DIGEST.fullmatch(digest):
            return None
        objects = await self._bucket()
        async with self._broker():
            return await _stored(objects, _name(tenant, digest))

    async def read(self, tenant: str, digest: str) -> tuple[bytes, str]:
        """This tenant's attachment ``digest``: its bytes and content type (NotFound when absent)."""
        if not _DIGEST.fullmatch(digest):
            raise NotFound("no such attachment")
        objects = await self._bucket()
        buffer = io.BytesIO()  # without a writer, nats-py joins chunks with bytes +=: quadratic for a video
        async with self._broker():
            try:
                result = await objects.get(_name(tenant, digest), writeinto=buffer)
            except ObjectNotFoundError:
                raise NotFound("no such attachment") from None
        return buffer.getvalue(), result.info.headers[_CONTENT_TYPE][0]

    async def _bucket(self) -> ObjectStore:
        if self._objects is None:
            self._objects = await self._open()
        return self._objects

    async def _open(self) -> ObjectStore:
        async with self._broker():
            try:
                return await self._js.create_object_store(
                    self.bucket,
                    storage=api.StorageType.FILE,
                    replicas=self._replicas,
                    description="hazardloop attachments: photos and videos named <tenant>/<sha256>",
                )
            except BadRequestError as exc:
                if exc.err_code != _STREAM_NAME_IN_USE:
                    raise
                return await self._js.object_store(self.bucket)

    @contextlib.asynccontextmanager
    async def _broker(self) -> AsyncIterator[None]:
        """Bound the call by ``timeout``; broker trouble becomes EventStoreUnavailable, as in the event log."""
        async with broker_errors(), asyncio.timeout(self._timeout):
            yield


def _name(tenant: str, digest: str) -> str:
    return f"{_TENANT.validate_python(tenant)}/{digest}"


async def _stored(objects: ObjectStore, name: str) -> AttachmentRef | None:
    try:
        info = await objects.get_info(name)
    except ObjectNotFoundError:
        return None
    headers = info.headers
    return AttachmentRef(
        digest=name.rpartition("/")[2],
        content_type=headers[_CONTENT_TYPE][0],
        size=info.size,
        kind=headers[_KIND][0],
        thumbnail=headers.get(_THUMBNAIL, [None])[0],
    )


async def _store_once(objects: ObjectStore, tenant: str, item: Accepted) -> AttachmentRef:
    """Store ``item`` unless it is there already; the stored reference either way.

    nats-py's put replaces an existing object (new chunks, the old ones purged even
    under a concurrent reader), so a stored object is never written again.
    """
    name = _name(tenant, item.ref.digest)
    if (stored := await _stored(objects, name)) is not None:
        return stored
    # Headers take NATS's cross-client shape (name -> list of values), so other clients and the CLI read them.
    headers = {_CONTENT_TYPE: [item.ref.content_type], _KIND: [item.ref.kind.value]}
    if item.ref.thumbnail is not None:
        headers[_THUMBNAIL] = [item.ref.thumbnail]
    await objects.put(name, item.data, meta=api.ObjectMeta(headers=headers))
    return item.ref
