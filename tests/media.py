"""Sample photos and videos for tests: images from Pillow's real encoders, videos as real container boxes.

Nothing here decodes video, so a video sample is the boxes a muxer writes around a payload.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterable

from PIL import ExifTags, Image, PngImagePlugin


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


CAMERA_MAKE, CAMERA_MODEL, OWNER = "AcmeCam", "Pocket X9", "J. Smith"
"""What the camera writes into a photo's metadata: none of it may be stored."""
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description exif:GPSLatitude="31,14.08N"/></x:xmpmeta>'


def camera_exif(orientation: int = 1) -> Image.Exif:
    """EXIF as a phone writes it: make, model, owner and a GPS position (31°14'5"N 121°28'25"E)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = CAMERA_MAKE
    exif[ExifTags.Base.Model] = CAMERA_MODEL
    exif[ExifTags.Base.Artist] = OWNER
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (31.0, 14.0, 5.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (121.0, 28.0, 25.0),
    }
    return exif


def sideways_photo_with_gps() -> bytes:
    """A landscape JPEG, red left and blue right, that EXIF says to show rotated 90° clockwise.

    It also carries the camera's make and model, a GPS position, XMP and a comment.
    """
    picture = Image.new("RGB", (200, 100), "red")
    picture.paste("blue", (100, 0, 200, 100))
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=camera_exif(orientation=6), comment=f"shot by {OWNER}".encode(), xmp=XMP)
    return out.getvalue()


def png_with_gps() -> bytes:
    """A PNG with the camera's EXIF (eXIf chunk), XMP and a text chunk naming its owner."""
    picture = Image.linear_gradient("L").resize((60, 40)).convert("RGB")
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", OWNER)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    out = io.BytesIO()
    picture.save(out, "PNG", exif=camera_exif(), pnginfo=info)
    return out.getvalue()


def webp_with_gps() -> bytes:
    out = io.BytesIO()
    Image.linear_gradient("L").resize((60, 40)).convert("RGB").save(out, "WEBP", exif=camera_exif(), xmp=XMP)
    return out.getvalue()


def jpeg_with_huge_exif(segments: int = 20) -> bytes:
    """A small JPEG carrying ``segments`` full 64 KiB APP1 segments: megabytes of metadata for a parser to chew."""
    plain = jpeg()
    filler = b"\xff\xe1" + struct.pack(">H", 65535) + b"Exif\0\0" + b"\x41" * (65533 - 6)
    return plain[:2] + filler * segments + plain[2:]


def png_with_text_bomb(chunks: int = 8) -> bytes:
    """A little PNG whose compressed text chunks unpack to about a megabyte each."""
    picture = png()
    text = b"".join(_png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"A" * 1_000_000, 9)) for _ in range(chunks))
    return picture[:33] + text + picture[33:]  # after the signature and IHDR


def pdf() -> bytes:
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("photo.jpg", b"not really")
    return out.getvalue()


ISO6709 = b"+31.2347+121.4736+010.000/"
"""A position as cameras write it in ``©xyz`` and Apple's location key."""


def mp4_with_location(payload: bytes = b"\x11" * 512, gps_samples: bytes = b"$GPRMC,3114.08,N,12128.42,E*00") -> bytes:
    """An MP4 as a phone writes it: a video track, a GPS metadata track, and the position, make and
    model in ``udta/©xyz`` and Apple's ``meta`` keys; both tracks' samples sit in ``mdat``."""

    def full(kind: bytes, version_flags: bytes, body: bytes) -> bytes:
        return _box(kind, version_flags + body)

    created = struct.pack(">II", 3_800_000_000, 3_800_000_001)  # creation and modification times
    mvhd = full(b"mvhd", b"\0\0\0\0", created + struct.pack(">II", 1000, 1000) + b"\0" * 80)
    udta = _box(b"udta", _box(b"\xa9xyz", struct.pack(">HH", len(ISO6709), 0x15C7) + ISO6709) + _box(b"\xa9mak", struct.pack(">HH", len(CAMERA_MAKE), 0) + CAMERA_MAKE.encode()))
    keys = full(b"keys", b"\0\0\0\0", struct.pack(">I", 2) + _box(b"mdta", b"com.apple.quicktime.location.ISO6709") + _box(b"mdta", b"com.apple.quicktime.model"))
    ilst = _box(b"ilst", _box(struct.pack(">I", 1), _box(b"data", b"\0\0\0\1\0\0\0\0" + ISO6709)) + _box(struct.pack(">I", 2), _box(b"data", b"\0\0\0\1\0\0\0\0" + CAMERA_MODEL.encode())))
    meta = full(b"meta", b"\0\0\0\0", full(b"hdlr", b"\0\0\0\0", b"\0\0\0\0mdta" + b"\0" * 13) + keys + ilst)

    def track(handler: bytes, offset: int, size: int) -> bytes:
        tkhd = full(b"tkhd", b"\0\0\0\3", created + b"\0" * 72)
        mdhd = full(b"mdhd", b"\0\0\0\0", created + struct.pack(">II", 1000, 1000) + b"\0\0\0\0")
        hdlr = full(b"hdlr", b"\0\0\0\0", b"\0\0\0\0" + handler + b"\0" * 13)
        stbl = _box(
            b"stbl",
            full(b"stsd", b"\0\0\0\0", struct.pack(">I", 0))
            + full(b"stts", b"\0\0\0\0", struct.pack(">III", 1, 1, 1000))
            + full(b"stsc", b"\0\0\0\0", struct.pack(">IIII", 1, 1, 1, 1))
            + full(b"stsz", b"\0\0\0\0", struct.pack(">III", 0, 1, size))
            + full(b"stco", b"\0\0\0\0", struct.pack(">II", 1, offset)),
        )
        return _box(b"trak", tkhd + _box(b"mdia", mdhd + hdlr + _box(b"minf", stbl)))

    ftyp = _box(b"ftyp", b"isom\0\0\x02\0isomiso2avc1mp41")
    # Sizes do not depend on the offsets, so lay out once to learn where mdat's payload starts.
    def movie(video_at: int, gps_at: int) -> bytes:
        return _box(b"moov", mvhd + track(b"vide", video_at, len(payload)) + track(b"meta", gps_at, len(gps_samples)) + udta + meta)

    start = len(ftyp) + len(movie(0, 0)) + 8
    return ftyp + movie(start, start + len(payload)) + _box(b"mdat", payload + gps_samples)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A valid little PNG whose header declares ``width`` x ``height``: a decompression bomb's opening."""
    chunk = _png_chunk
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
