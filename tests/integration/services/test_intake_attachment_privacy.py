"""Photos and videos on a real broker: stored and served without what the camera wrote; hostile files refused, nothing stored."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re

import nats
import pytest
from PIL import ExifTags, Image

from hazardloop.web.auth import Role
from tests import media
from tests.integration.services.conftest import Harness

CAMERA_WORDS = [media.CAMERA_MAKE.encode(), media.CAMERA_MODEL.encode(), media.OWNER.encode(), media.ISO6709, b"Exif", b"GPS"]


@pytest.fixture
def intake(harness):
    return harness.start("intake")


def stored_objects(harness: Harness) -> int:
    """Messages in the attachments bucket's stream: chunks and metadata of every stored file."""

    async def count() -> int:
        connection = await nats.connect(harness.nats_url)
        try:
            return (await connection.jetstream().stream_info(f"OBJ_{harness.stream}-attachments")).state.messages
        finally:
            await connection.close()

    return asyncio.run(count())


def free_of_camera_data(data: bytes) -> None:
    assert not [word for word in CAMERA_WORDS if word in data]
    if not data[4:8] == b"ftyp":
        image = Image.open(io.BytesIO(data))
        assert not image.getexif() and not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert not {"exif", "xmp", "comment", "Author"} & set(image.info)


@pytest.mark.parametrize(
    ("original", "content_type"),
    [
        (media.sideways_photo_with_gps(), "image/jpeg"),
        (media.png_with_gps(), "image/png"),
        (media.webp_with_gps(), "image/webp"),
        (media.mp4_with_location(), "video/mp4"),
    ],
)
def test_what_is_stored_and_served_carries_no_position_device_or_owner(harness, intake, original, content_type):
    reporter = harness.headers("emp-1")
    upload = intake.post("/attachments", params={"tenant": "refinery"}, content=original, headers=reporter | {"Content-Type": content_type})
    assert upload.status_code == 201, upload.text
    ref = upload.json()
    verifier = harness.headers("v", roles=[Role.VERIFIER])
    served = intake.get(f"/attachments/{ref['digest']}", params={"tenant": "refinery"}, headers=verifier)
    assert served.status_code == 200 and served.headers["content-type"] == content_type
    assert hashlib.sha256(served.content).hexdigest() == ref["digest"] and len(served.content) == ref["size"]
    free_of_camera_data(served.content)
    if ref["thumbnail"]:
        preview = intake.get(f"/attachments/{ref['digest']}", params={"tenant": "refinery", "thumbnail": True}, headers=verifier)
        free_of_camera_data(preview.content)


@pytest.mark.parametrize(
    ("hostile", "filename", "status", "reason"),
    [
        (media.jpeg((400, 300))[:600], "IMG_1.jpg", 415, "media.undecodable"),
        (media.png_declaring(9_000, 9_500), "IMG_2.png", 413, "media.too_many_pixels"),
        (media.pdf(), "IMG_3.jpg", 415, "media.disguised"),
        (media.zip_archive(), "IMG_4.jpg", 415, "media.disguised"),
        (media.jpeg_with_huge_exif(), "IMG_5.jpg", 413, "media.metadata_too_large"),
        (media.png_with_text_bomb(), "IMG_6.png", 413, "media.metadata_too_large"),
        (media.webm(b"\0" * 100), None, 415, "media.webm"),
    ],
)
def test_hostile_files_are_refused_naming_the_body_in_the_senders_language_and_nothing_is_stored(
    harness, intake, hostile, filename, status, reason
):
    reporter = harness.headers("emp-1")
    params = {"tenant": "refinery"} | ({"filename": filename} if filename else {})
    chinese = intake.post("/attachments", params=params, content=hostile, headers=reporter)
    english = intake.post("/attachments", params=params, content=hostile, headers=reporter | {"Accept-Language": "en-GB,en;q=0.8"})
    assert (chinese.status_code, english.status_code) == (status, status)
    (said,) = chinese.json()["detail"]
    assert said["loc"] == ["body"] and said["type"] == reason and re.search(r"[\u4e00-\u9fff]", said["msg"])
    assert not re.search(r"[\u4e00-\u9fff]", english.json()["detail"][0]["msg"])
    assert stored_objects(harness) == 0


def form_path(harness, intake) -> str:
    manager = harness.headers("safety-manager", roles=[Role.MANAGER])
    link = intake.get("/places/bay-3/form-link", params={"tenant": "refinery"}, headers=manager).json()["url"]
    return "/" + link.split("://", 1)[1].partition("/")[2]


FORM = {"kind": "unsafe_behaviour:no_protective_equipment", "observed_at": "2026-06-01T08:30", "who": "anonymous",
        "description": "Harness not clipped on"}


def test_a_photo_sent_with_the_qr_form_is_stored_without_its_gps(harness, intake):
    path = form_path(harness, intake)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', intake.get(path).text).group(1)
    sent = intake.post(path, data=FORM | {"idempotency_key": key, "lang": "zh"},
                       files=[("photos", ("IMG_0042.JPG", media.sideways_photo_with_gps(), "image/jpeg"))])
    assert sent.status_code == 201, sent.text
    (filed,) = [json.loads(data) for _, data in harness.raw_log("report")]
    (ref,) = filed["attachments"]
    served = intake.get(f"/attachments/{ref['digest']}", params={"tenant": "refinery"}, headers=harness.headers("v", roles=[Role.VERIFIER]))
    free_of_camera_data(served.content)
    assert Image.open(io.BytesIO(served.content)).size == (100, 200)  # upright, as the phone showed it


@pytest.mark.parametrize(("lang", "words"), [("zh", "声称是 image/jpeg"), ("en", "claims to be image/jpeg")])
def test_the_qr_form_refuses_a_disguised_file_in_the_page_language_and_stores_nothing(harness, intake, lang, words):
    path = form_path(harness, intake)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', intake.get(path).text).group(1)
    refused = intake.post(path, data=FORM | {"idempotency_key": key, "lang": lang},
                          files=[("photos", ("IMG_0042.jpg", media.jpeg(), "image/jpeg")), ("photos", ("IMG_0043.jpg", media.pdf(), "image/jpeg"))])
    assert refused.status_code == 415
    assert words in refused.text and "Harness not clipped on" in refused.text  # what was typed is kept
    assert harness.raw_log("report") == [] and stored_objects(harness) == 0  # not even the good photo sent with it
