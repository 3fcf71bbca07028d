"""Videos kept without their metadata, and without re-encoding.

MP4 and QuickTime (ISO base media) files keep what the camera wrote about the recording
in boxes of their own: ``udta`` (with ``©xyz``, the position), ``meta`` (Apple's keys,
with the location, make and model), ``uuid`` (XMP), and in timed metadata tracks (a GPS
track). Each such box is overwritten by a ``free`` box of the same size, and the samples
of every track that is neither picture nor sound are zeroed, so every offset in the
file stays valid and the picture and sound are untouched. Creation and modification
times in the movie, track and media headers are zeroed too.

A fragmented file with such a track is refused: its samples are spread over fragments
this walk does not follow. WebM is refused: its tags can sit in clusters of unknown size that cannot be walked
without parsing the whole stream, so their removal could not be guaranteed.
"""

from __future__ import annotations

import struct

from hazardloop.media.refusals import MediaUnsupported

_CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"moof", b"traf", b"mvex", b"mfra"})
"""Boxes made of boxes, walked to find the metadata inside them."""
_TOP_LEVEL = frozenset({b"ftyp", b"moov", b"mdat", b"moof", b"mfra", b"sidx", b"ssix", b"styp", b"prft", b"free", b"skip", b"wide", b"pnot"})
"""Top-level boxes kept; any other (vendors' trailers, XMP, top-level metadata) is blanked."""
_METADATA = frozenset({b"udta", b"meta", b"uuid", b"XMP_", b"\xa9xyz", b"free", b"skip", b"wide"})
"""Boxes blanked wherever they are: what describes the recording, and free space that may hold old metadata."""
_TIMED = frozenset({b"mvhd", b"tkhd", b"mdhd"})
_PICTURE_AND_SOUND = frozenset({b"vide", b"soun"})
_MAX_DEPTH = 12
"""moov/trak/mdia/minf/stbl is five deep; a file nesting far deeper is an attack on the walk."""


def clean_iso_media(data: bytes, format_name: str) -> bytes:
    """The same file with its metadata blanked; MediaUnsupported when its structure does not hold together."""
    out = bytearray(data)
    try:
        tracks = _walk(out, 0, len(out), top=True)
        if tracks and any(kind == b"moof" for kind, *_ in _boxes(out, 0, len(out))):
            raise MediaUnsupported("fragmented_data_track", format=format_name)
        for track in tracks:
            _zero_samples(out, track)
    except (struct.error, ValueError, IndexError) as exc:
        raise MediaUnsupported("broken_video", format=format_name) from exc
    return bytes(out)


def _boxes(data: bytearray, start: int, end: int):
    """(type, box start, body start, box end) of each box in ``data[start:end]``; ValueError when they do not fit."""
    at = start
    while at < end:
        size, kind = struct.unpack_from(">I4s", data, at)
        body = at + 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, body)
            body += 8
        elif size == 0:
            size = end - at
        if size < body - at or at + size > end:
            raise ValueError(f"box {kind!r} at {at} does not fit")
        yield kind, at, body, at + size
        at += size


def _walk(data: bytearray, start: int, end: int, *, top: bool = False, depth: int = 0) -> list[tuple[int, int]]:
    """Blank the metadata in ``data[start:end]``; the (start, end) of each track that is neither picture nor sound."""
    if depth > _MAX_DEPTH:
        raise ValueError("boxes nested deeper than any muxer writes them")
    tracks: list[tuple[int, int]] = []
    for kind, at, body, box_end in list(_boxes(data, start, end)):
        if kind in _METADATA or (top and kind not in _TOP_LEVEL):
            _blank(data, at, body, box_end)
        elif kind in _TIMED:
            _zero_times(data, body, box_end)
        elif kind in _CONTAINERS:
            tracks += _walk(data, body, box_end, depth=depth + 1)
            if kind == b"trak" and _handler(data, body, box_end) not in _PICTURE_AND_SOUND:
                tracks.append((body, box_end))
    return tracks


def _blank(data: bytearray, at: int, body: int, end: int) -> None:
    data[at + 4 : at + 8] = b"free"
    data[body:end] = bytes(end - body)


def _zero_times(data: bytearray, body: int, end: int) -> None:
    """Creation and modification time: after version and flags, 32-bit each in version 0, 64-bit in version 1."""
    width = 16 if data[body] == 1 else 8
    if body + 4 + width > end:
        raise ValueError("a header box too short for its times")
    data[body + 4 : body + 4 + width] = bytes(width)


def _child(data: bytearray, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    return next(((body, box_end) for k, _, body, box_end in _boxes(data, start, end) if k == kind), None)


def _handler(data: bytearray, start: int, end: int) -> bytes:
    """The track's handler type (``vide``, ``soun``, ``meta``, ``text``...), from ``mdia/hdlr``."""
    mdia = _child(data, start, end, b"mdia")
    hdlr = mdia and _child(data, *mdia, b"hdlr")
    if not hdlr or hdlr[1] - hdlr[0] < 12:
        raise ValueError("a track without a handler")
    return bytes(data[hdlr[0] + 8 : hdlr[0] + 12])  # after version, flags and pre_defined


def _zero_samples(data: bytearray, track: tuple[int, int]) -> None:
    """Zero every sample of the track, located through its sample table (sizes, chunks, chunk offsets)."""
    stbl = None
    if (mdia := _child(data, *track, b"mdia")) and (minf := _child(data, *mdia, b"minf")):
        stbl = _child(data, *minf, b"stbl")
    if stbl is None:
        raise ValueError("a track without a sample table")
    sizes = _sample_sizes(data, *stbl)
    offsets = _chunk_offsets(data, *stbl)
    per_chunk = _samples_per_chunk(data, *stbl, len(offsets))
    sample = 0
    for offset, count in zip(offsets, per_chunk, strict=True):
        for size in sizes[sample : sample + count]:
            if offset + size > len(data):
                raise ValueError("a sample beyond the end of the file")
            data[offset : offset + size] = bytes(size)
            offset += size
        sample += count


def _table(data: bytearray, box: tuple[int, int], header: int, count: int, width: int) -> int:
    """Where a box's table of ``count`` entries starts; ValueError unless the whole table lies inside the box."""
    start = box[0] + header
    if start + count * width > box[1]:
        raise ValueError("a table longer than its box")
    return start


def _sample_sizes(data: bytearray, start: int, end: int) -> list[int]:
    stsz = _child(data, start, end, b"stsz")
    if stsz is None:
        return []
    uniform, count = struct.unpack_from(">II", data, stsz[0] + 4)
    if uniform:
        if uniform * count > len(data):
            raise ValueError("more sample bytes than the file holds")
        return [uniform] * count
    return list(struct.unpack_from(f">{count}I", data, _table(data, stsz, 12, count, 4)))


def _chunk_offsets(data: bytearray, start: int, end: int) -> list[int]:
    for kind, width in ((b"stco", "I"), (b"co64", "Q")):
        if box := _child(data, start, end, kind):
            (count,) = struct.unpack_from(">I", data, box[0] + 4)
            return list(struct.unpack_from(f">{count}{width}", data, _table(data, box, 8, count, struct.calcsize(width))))
    return []


def _samples_per_chunk(data: bytearray, start: int, end: int, chunks: int) -> list[int]:
    """Samples in each chunk, from ``stsc``'s runs (first chunk, samples per chunk, description)."""
    stsc = _child(data, start, end, b"stsc")
    if stsc is None:
        return [0] * chunks
    (count,) = struct.unpack_from(">I", data, stsc[0] + 4)
    table = _table(data, stsc, 8, count, 12)
    runs = [struct.unpack_from(">III", data, table + 12 * i)[:2] for i in range(count)]
    per_chunk: list[int] = []
    for index, (first, samples) in enumerate(runs):
        last = min(runs[index + 1][0] - 1, chunks) if index + 1 < len(runs) else chunks
        per_chunk += [samples] * max(0, last - first + 1)
    if len(per_chunk) != chunks:
        raise ValueError("the sample-to-chunk table does not match the chunk offsets")
    return per_chunk
