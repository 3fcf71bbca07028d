"""Sample photos and videos for tests: images from Pillow's real encoders, videos as real container headers.

Nothing here decodes video, so a video sample is the header a muxer writes and a payload.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterable

from PIL import ExifTags, Image


def image(image_format: str = "JPEG", size: tuple[int, int] = (64, 48), mode: str = "RGB", **save) -> bytes:
    """A gradient (not a flat colour, so encoders have something to encode)."""
    picture = Image.linear_gradient("L").resize(size).convert(mode)
    out = io.BytesIO()
    picture.save(out, image_format, **save)
    return out.getvalue()


def jpeg(size: tuple[int, int] = (64, 48), **save) -> bytes:
    return image("JPEG", size, **save)


def png(size: tuple[int, int] = (64, 48), mode: str = "RGB") -> bytes:
    return image("PNG", size, mode)


def webp(size: tuple[int, int] = (64, 48)) -> bytes:
    return image("WEBP", size)


def sideways_photo_with_gps() -> bytes:
    """A landscape JPEG, red left and blue right, that EXIF says to show rotated 90° clockwise.

    It also carries a camera make, a GPS position and a comment: what a preview must drop.
    """
    picture = Image.new("RGB", (200, 100), "red")
    picture.paste("blue", (100, 0, 200, 100))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "AcmeCam"
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (31.0, 14.0, 5.0)}
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif, comment=b"shot by J. Smith")
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A valid little PNG whose header declares ``width`` x ``height``: a decompression bomb's opening."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    rows = zlib.compress(b"\0" * 4096, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def iso_media(major: bytes, compatible: Iterable[bytes] = (), payload: bytes = b"") -> bytes:
    """ISO base media (MP4, QuickTime, HEIC...): an ``ftyp`` box naming the brands, then ``mdat``."""
    return _box(b"ftyp", major + b"\0\0\x02\0" + b"".join(compatible)) + _box(b"mdat", payload)


def mp4(payload: bytes = b"") -> bytes:
    return iso_media(b"isom", [b"isom", b"iso2", b"avc1", b"mp41"], payload)


def quicktime(payload: bytes = b"") -> bytes:
    return iso_media(b"qt  ", [b"qt  "], payload)


def heic() -> bytes:
    return iso_media(b"heic", [b"mif1", b"heic", b"miaf"])


def _ebml(element_id: bytes, body: bytes) -> bytes:
    return element_id + bytes([0x80 | len(body)]) + body  # one-byte size: bodies here are short


def matroska(doc_type: bytes = b"webm", payload: bytes = b"") -> bytes:
    """An EBML header as muxers write it, then a Segment of unknown size."""
    header = b"".join(
        _ebml(element_id, body)
        for element_id, body in [
            (b"\x42\x86", b"\x01"),  # EBMLVersion
            (b"\x42\xf7", b"\x01"),  # EBMLReadVersion
            (b"\x42\xf2", b"\x04"),  # EBMLMaxIDLength
            (b"\x42\xf3", b"\x08"),  # EBMLMaxSizeLength
            (b"\x42\x82", doc_type),  # DocType
            (b"\x42\x87", b"\x04"),  # DocTypeVersion
            (b"\x42\x85", b"\x02"),  # DocTypeReadVersion
        ]
    )
    return _ebml(b"\x1a\x45\xdf\xa3", header) + b"\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff" + payload


def webm(payload: bytes = b"") -> bytes:
    return matroska(b"webm", payload)
