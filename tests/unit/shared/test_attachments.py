"""Deciding what an upload is, from its content alone, without a broker."""

import hashlib
import io

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image

from hazardloop.errors import TooLarge, UnsupportedMedia
from hazardloop.events import MediaKind
from hazardloop.media.attachments import AttachmentLimits, inspect
from hazardloop.web.http import install_error_handlers
from tests import media


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(media.jpeg(), "image/jpeg"), (media.png(), "image/png"), (media.webp(), "image/webp")],
)
def test_images_are_typed_by_content_and_get_a_jpeg_preview(data, content_type):
    accepted = inspect(data)
    ref = accepted.ref
    stored = accepted.data
    assert (ref.content_type, ref.kind, ref.size, ref.digest) == (content_type, MediaKind.IMAGE, len(stored), sha256(stored))
    assert Image.open(io.BytesIO(stored)).format == Image.open(io.BytesIO(data)).format  # re-encoded in its own format
    assert inspect(data) == accepted  # the same upload is the same stored file: stored once, cited by one digest
    preview = accepted.preview
    assert preview is not None and ref.thumbnail == preview.ref.digest == sha256(preview.data)
    assert (preview.ref.content_type, preview.ref.thumbnail) == ("image/jpeg", None)
    assert Image.open(io.BytesIO(preview.data)).format == "JPEG"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (media.mp4(b"\0" * 100), "video/mp4"),
        (media.iso_media(b"mp42", [b"mp42"]), "video/mp4"),
        (media.quicktime(b"\0" * 100), "video/quicktime"),
    ],
)
def test_videos_are_typed_by_their_container(data, content_type):
    accepted = inspect(data)
    assert (accepted.ref.content_type, accepted.ref.kind, accepted.ref.thumbnail) == (content_type, MediaKind.VIDEO, None)
    assert accepted.preview is None


def test_the_preview_is_small_upright_and_free_of_metadata():
    original = media.sideways_photo_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the original has a position

    preview_bytes = inspect(original, AttachmentLimits(thumbnail_px=50)).preview.data

    preview = Image.open(io.BytesIO(preview_bytes))
    assert preview.size == (25, 50)  # 200x100 stored sideways, shown rotated: portrait, longest side 50
    red, blue = preview.getpixel((12, 5)), preview.getpixel((12, 45))
    assert red[0] > 200 > red[2] and blue[2] > 200 > blue[0]  # the left of the sensor is now the top
    assert not preview.getexif() and "exif" not in preview.info and "comment" not in preview.info
    assert b"AcmeCam" not in preview_bytes and b"J. Smith" not in preview_bytes


def test_a_large_photo_previews_within_the_thumbnail_size():
    preview = inspect(media.jpeg((1600, 900))).preview
    assert Image.open(io.BytesIO(preview.data)).size == (320, 180)


@pytest.mark.parametrize("mode", ["1", "L", "LA", "I;16", "P", "RGB", "RGBA"])
def test_any_png_mode_previews_as_an_rgb_jpeg(mode):
    preview = Image.open(io.BytesIO(inspect(media.png(mode=mode)).preview.data))
    assert (preview.format, preview.mode) == ("JPEG", "RGB")


def test_transparency_previews_white_not_black():
    clear = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(clear, "PNG")
    preview = Image.open(io.BytesIO(inspect(clear.getvalue()).preview.data))
    assert min(preview.getpixel((5, 5))) > 245


def test_webm_is_refused_since_its_metadata_cannot_be_removed_reliably():
    with pytest.raises(UnsupportedMedia, match="WebM.*metadata"):
        inspect(media.webm(b"\0" * 100))


@pytest.mark.parametrize(
    "data",
    [
        b"Ladder on the north stair is cracked.\n",  # a text file, whatever name it came under
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
        media.image("GIF"),
        media.image("AVIF"),
        media.matroska(b"matroska"),  # same container family as WebM, not WebM
        media.iso_media(b"avif", [b"avif", b"mif1", b"miaf"]),  # fixed-offset sniffing calls this MP4
        media.iso_media(b"M4A ", [b"M4A ", b"mp42", b"isom"]),  # audio, likewise
        media.iso_media(b"3gp5", [b"3gp5"]),
    ],
)
def test_other_content_is_refused_as_unsupported(data):
    with pytest.raises(UnsupportedMedia) as refused:
        inspect(data)
    assert refused.value.status_code == 415


def test_heic_is_refused_with_advice():
    with pytest.raises(UnsupportedMedia, match="HEIC.*JPEG"):
        inspect(media.heic())


def test_an_empty_file_is_refused_as_empty():
    with pytest.raises(UnsupportedMedia, match="empty"):
        inspect(b"")


def _with_garbage_after_the_header(jpeg: bytes) -> bytes:
    start_of_scan = jpeg.index(b"\xff\xda")
    header_end = start_of_scan + 2 + int.from_bytes(jpeg[start_of_scan + 2 : start_of_scan + 4], "big")
    return jpeg[:header_end] + bytes(range(256)) * 40


@pytest.mark.parametrize(
    "data",
    [
        _with_garbage_after_the_header(media.jpeg((400, 300))),
        b"\xff\xd8\xff\xe0" + b"\x13" * 4000,
        media.jpeg((400, 300))[:600],  # truncated
        media.png((400, 300))[:300],
        media.webp((400, 300))[:60],
        media.png()[:-20] + b"\0" * 20,  # IEND and the end of the pixel data overwritten
    ],
)
def test_images_that_do_not_decode_are_refused(data):
    with pytest.raises(UnsupportedMedia, match="not a valid"):
        inspect(data)


def test_each_kind_has_its_own_size_limit():
    photo, video = media.jpeg(), media.mp4(b"\0" * 2000)
    limits = AttachmentLimits(max_image_bytes=len(photo), max_video_bytes=len(video))
    assert inspect(photo, limits) and inspect(video, limits)
    with pytest.raises(TooLarge, match="image") as refused:
        inspect(photo, limits.model_copy(update={"max_image_bytes": len(photo) - 1}))
    assert refused.value.status_code == 413
    with pytest.raises(TooLarge, match="video"):
        inspect(video, limits.model_copy(update={"max_video_bytes": len(video) - 1}))


def test_pixels_are_limited_before_decoding():
    with pytest.raises(TooLarge, match="64x48 pixels"):
        inspect(media.jpeg((64, 48)), AttachmentLimits(max_image_pixels=64 * 48 - 1))


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [10_000, 100_000])  # past our limit; past Pillow's own bomb error
def test_decompression_bombs_are_refused_as_too_large(side):
    bomb = media.png_declaring(side, side)
    assert len(bomb) < 1000
    with pytest.raises(TooLarge):
        inspect(bomb)


def test_refusals_reach_http_as_413_and_415_with_their_reason():
    app = FastAPI()
    install_error_handlers(app, retry_after=1)

    photo = media.jpeg()

    @app.post("/too-large")
    def too_large() -> None:
        inspect(photo, AttachmentLimits(max_image_bytes=10))

    @app.post("/unsupported")
    def unsupported() -> None:
        inspect(b"plain text")

    with TestClient(app) as client:
        big, odd = client.post("/too-large"), client.post("/unsupported")
    assert big.status_code == 413 and big.json() == {"detail": f"the image is {len(photo)} bytes, over the limit of 10 bytes"}
    assert odd.status_code == 415 and odd.json()["detail"].startswith("unrecognised content is not accepted")


SAMPLES = [
    media.jpeg((80, 60)), media.png((40, 30), "RGBA"), media.png((40, 30), "P"), media.webp(), media.mp4(), media.webm(),
    media.sideways_photo_with_gps(), media.png_with_gps(), media.webp_with_gps(), media.mp4_with_location(),
]


@st.composite
def damaged_samples(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(1, len(data)))])


@pytest.mark.filterwarnings("ignore::UserWarning:PIL")  # Pillow says what it skips in a damaged file's tags: expected here
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096) | damaged_samples())
def test_any_bytes_are_accepted_or_refused_with_a_typed_error(data):
    try:
        accepted = inspect(data)
    except (TooLarge, UnsupportedMedia):
        return
    assert accepted.ref.digest == sha256(accepted.data) and accepted.ref.size == len(accepted.data)
    assert (accepted.preview is None) == (accepted.ref.kind is MediaKind.VIDEO)
