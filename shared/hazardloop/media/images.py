"""Photos kept as their pixels alone: decoded, turned upright and encoded afresh.

A camera writes far more than the picture: the device, the owner's name, where and when
it was taken (EXIF, XMP, IPTC, comments, maker notes). Rather than hunting for each, the
picture is re-encoded from its pixels, so nothing else can survive. Colours are carried
over into sRGB before the colour profile is dropped, and the EXIF orientation is applied
to the pixels, so the photo looks as it did on the phone.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps

from hazardloop.media.refusals import MediaTooLarge, MediaUnsupported

DECODERS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
"""Accepted image types, each with the one Pillow decoder allowed to open it (and the encoder that rewrites it)."""

JPEG_QUALITY = 92
WEBP_QUALITY = 90
_LOSSLESS_PNG_MODES = frozenset({"1", "L", "LA", "I;16", "RGB", "RGBA"})


@dataclass(frozen=True, slots=True)
class CleanImage:
    data: bytes
    """The photo as stored: the same format, no metadata."""
    preview: bytes
    """A JPEG whose longest side is at most the thumbnail size."""


def clean_image(data: bytes, content_type: str, *, max_pixels: int, max_metadata: int, thumbnail_px: int) -> CleanImage:
    """Re-encode the photo from its pixels; refuse it (MediaTooLarge, MediaUnsupported) when that cannot be done safely.

    The metadata is measured in the file before anything decodes it, since a few
    kilobytes of compressed text can unpack into megabytes (an "EXIF bomb"); the pixel
    count is checked from the header before the pixels are decoded.
    """
    decoder = DECODERS[content_type]
    metadata = metadata_size(data, decoder, max_metadata)
    if metadata > max_metadata:
        raise MediaTooLarge("metadata_too_large", limit=size_text(max_metadata))
    try:
        with Image.open(io.BytesIO(data), formats=[decoder]) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise MediaTooLarge("too_many_pixels", width=width, height=height, limit=f"{max_pixels:,}")
            if decoder != "JPEG" and getattr(image, "is_animated", False):
                raise MediaUnsupported("animated")  # a phone JPEG's extra pictures (depth, gain maps) are not animation: dropped
            image.load()
            upright = _upright(image)
    except (MediaTooLarge, MediaUnsupported):
        raise
    except Image.DecompressionBombError as exc:
        raise MediaTooLarge("bomb") from exc
    except Exception as exc:  # hostile input fails a decoder in many ways: OSError, SyntaxError, struct.error...
        raise MediaUnsupported("undecodable", format=decoder) from exc
    pixels = _in_srgb(upright)
    try:
        return CleanImage(_encode(pixels, decoder), _jpeg(_fitted(pixels, thumbnail_px)))
    except (OSError, ValueError) as exc:  # pixels in a mode no encoder takes: refused, never a server error
        raise MediaUnsupported("undecodable", format=decoder) from exc


def _fitted(image: Image.Image, longest: int) -> Image.Image:
    """``image`` scaled down so that its longest side is at most ``longest`` (never a full-size copy)."""
    width, height = image.size
    if max(width, height) <= longest:
        return image
    scale = longest / max(width, height)
    return image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.LANCZOS)


def _upright(image: Image.Image) -> Image.Image:
    """The pixels turned as EXIF says; a photo whose EXIF cannot be read is taken as it is."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # a damaged EXIF block loses only the orientation, not the photo
        return image.copy()


def _in_srgb(image: Image.Image) -> Image.Image:
    """The pixels converted from the photo's colour profile into sRGB, which is what a profile-less file means."""
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # an unreadable profile: the pixels as they are
    return converted or image


def _encode(image: Image.Image, encoder: str) -> bytes:
    """The pixels alone in a fresh file of the same format (PNG stays lossless)."""
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    if encoder == "PNG":
        if image.mode in _LOSSLESS_PNG_MODES and "transparency" not in image.info:
            target = image.mode
        else:
            target = "I;16" if image.mode == "I" else "RGBA" if has_alpha else "RGB"
        options: dict[str, object] = {}
    elif encoder == "WEBP":
        target, options = ("RGBA" if has_alpha else "RGB"), {"quality": WEBP_QUALITY}
    else:
        target, options = (image.mode if image.mode in ("L", "RGB") else "RGB"), {"quality": JPEG_QUALITY}
    fresh = image.convert(target) if image.mode != target else image.copy()
    fresh.info.clear()  # nothing read from the original goes back out
    out = io.BytesIO()
    fresh.save(out, encoder, **options)
    return out.getvalue()


def _jpeg(image: Image.Image, quality: int = 80) -> bytes:
    """``image`` painted onto a fresh white canvas and saved as JPEG (transparent pixels turn white, not black)."""
    rgba = image.convert("RGBA")
    canvas = Image.new("RGB", rgba.size, "white")
    canvas.paste(rgba, mask=rgba)
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=quality)
    return out.getvalue()


def metadata_size(data: bytes, decoder: str, limit: int) -> int:
    """Bytes of metadata the file carries (compressed text counted unpacked, up to just past ``limit``).

    Structure that does not parse counts nothing here: the decoder then refuses the file.
    """
    try:
        if decoder == "JPEG":
            return _jpeg_metadata(data)
        if decoder == "PNG":
            return _png_metadata(data, limit)
        return _webp_metadata(data)
    except (struct.error, IndexError, ValueError, zlib.error):
        return 0


_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


def _jpeg_metadata(data: bytes) -> int:
    """Application segments (EXIF, XMP, ICC, IPTC, maker data) and comments before the first scan."""
    total, at = 0, 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return total
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _JPEG_STANDALONE:
            at += 2
            continue
        if marker in (0xDA, 0xD9):  # start of scan, end of image
            return total
        (length,) = struct.unpack_from(">H", data, at + 2)
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            total += length
        at += 2 + length
    return total


_PNG_PIXELS = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"acTL", b"fcTL", b"fdAT"})
_PNG_COMPRESSED = frozenset({b"zTXt", b"iCCP", b"iTXt"})


def _png_metadata(data: bytes, limit: int) -> int:
    """Every chunk that is not the picture, compressed text and profiles counted as they unpack."""
    total, at = 0, 8
    while at + 8 <= len(data) and total <= limit:
        length, kind = struct.unpack_from(">I4s", data, at)
        body = data[at + 8 : at + 8 + length]
        if kind == b"IEND":
            break
        if kind not in _PNG_PIXELS:
            total += _unpacked(kind, body, limit - total + 1) if kind in _PNG_COMPRESSED else length
        at += 12 + length
    return total


def _unpacked(kind: bytes, body: bytes, budget: int) -> int:
    """Size of a compressed chunk's text once inflated, stopping once ``budget`` is passed."""
    keyword_end = body.find(b"\0")
    start = keyword_end + 2  # zTXt and iCCP: keyword, NUL, method
    if kind == b"iTXt":
        if body[keyword_end + 1] == 0:  # not compressed
            return len(body)
        # keyword NUL flag method language NUL translated-keyword NUL text
        start = body.index(b"\0", body.index(b"\0", keyword_end + 3) + 1) + 1
    inflater = zlib.decompressobj()
    size, pending = 0, body[start:]
    while pending and size <= budget:
        size += len(inflater.decompress(pending, 64 * 1024))
        pending = inflater.unconsumed_tail
    return max(size, len(body))


def _webp_metadata(data: bytes) -> int:
    """The RIFF chunks that describe rather than show: EXIF, XMP and the colour profile."""
    total, at = 0, 12
    while at + 8 <= len(data):
        kind, length = struct.unpack_from("<4sI", data, at)
        if kind in (b"EXIF", b"XMP ", b"ICCP"):
            total += length
        at += 8 + length + (length & 1)
    return total


def size_text(n: int) -> str:
    mib = 1024 * 1024
    return f"{n / mib:.1f} MiB" if n >= mib else f"{n:,} bytes"
