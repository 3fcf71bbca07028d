"""What a camera writes about a photo or video never reaches the store, and hostile files are refused."""

import io
import struct

import pytest
from PIL import ExifTags, Image, ImageCms

from hazardloop.media.attachments import AttachmentLimits, inspect
from hazardloop.media.refusals import MediaTooLarge, MediaUnsupported
from tests import media

CAMERA_WORDS = [media.CAMERA_MAKE.encode(), media.CAMERA_MODEL.encode(), media.OWNER.encode(), b"Exif", b"xmpmeta", b"GPS"]


def no_metadata(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    assert not image.getexif() and not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert not {"exif", "xmp", "icc_profile", "comment", "Author", "XML:com.adobe.xmp"} & set(image.info)
    assert not [word for word in CAMERA_WORDS if word in data]


@pytest.mark.parametrize("photo", [media.sideways_photo_with_gps(), media.png_with_gps(), media.webp_with_gps()])
def test_photos_are_stored_without_exif_gps_xmp_or_text(photo):
    assert Image.open(io.BytesIO(photo)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the original has a position
    assert media.CAMERA_MODEL.encode() in photo
    accepted = inspect(photo)
    no_metadata(accepted.data)
    no_metadata(accepted.preview.data)


def test_the_stored_photo_is_turned_upright_in_its_pixels():
    stored = Image.open(io.BytesIO(inspect(media.sideways_photo_with_gps()).data))
    assert stored.size == (100, 200)  # 200x100 stored sideways, shown rotated: portrait
    red, blue = stored.getpixel((50, 20)), stored.getpixel((50, 180))
    assert red[0] > 200 > red[2] and blue[2] > 200 > blue[0]  # the left of the sensor is now the top


def test_png_stays_lossless():
    original = Image.open(io.BytesIO(media.png_with_gps())).convert("RGB")
    stored = Image.open(io.BytesIO(inspect(media.png_with_gps()).data)).convert("RGB")
    assert stored.tobytes() == original.tobytes()


def test_colours_are_carried_into_srgb_before_the_profile_is_dropped():
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(out, "PNG", icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    stored = inspect(out.getvalue()).data
    assert "icc_profile" not in Image.open(io.BytesIO(stored)).info
    assert Image.open(io.BytesIO(stored)).convert("RGB").getpixel((4, 4)) == (200, 40, 40)


def test_a_video_keeps_its_picture_and_loses_position_make_model_times_and_gps_track():
    original = media.mp4_with_location(payload=b"\x11" * 512)
    assert media.ISO6709 in original and media.CAMERA_MODEL.encode() in original
    stored = inspect(original).data
    assert len(stored) == len(original)  # nothing moved: every chunk offset still points at its sample
    assert b"\x11" * 512 in stored  # the picture, untouched
    for word in (media.ISO6709, b"+31.23", media.CAMERA_MAKE.encode(), media.CAMERA_MODEL.encode(), b"GPRMC", b"location"):
        assert word not in stored
    assert struct.pack(">I", 3_800_000_000) not in stored  # creation times zeroed
    assert stored.count(b"free") >= 2 and stored.startswith(original[:32])


def test_a_truncated_video_is_refused():
    with pytest.raises(MediaUnsupported, match="not a valid MP4"):
        inspect(media.mp4_with_location()[:-100])


@pytest.mark.parametrize(
    ("data", "declared_type", "filename"),
    [
        (media.pdf(), "image/jpeg", "leak.jpg"),
        (media.zip_archive(), None, "leak.jpg"),
        (media.png(), "image/jpeg", None),
        (media.jpeg(), None, "clip.mp4"),
        (media.mp4(), "image/png", None),
    ],
)
def test_content_that_contradicts_its_declared_type_or_name_is_refused(data, declared_type, filename):
    with pytest.raises(MediaUnsupported, match="claims to be") as refused:
        inspect(data, declared_type=declared_type, filename=filename)
    assert refused.value.status_code == 415
    assert "声称" in refused.value.in_language("zh-CN")


@pytest.mark.parametrize(
    ("data", "declared_type", "filename"),
    [
        (media.jpeg(), "image/jpeg", "IMG_0001.JPG"),
        (media.jpeg(), "application/octet-stream", "photo"),
        (media.jpeg(), "image/jpg", "photo.jpeg"),
        (media.quicktime(), "video/mp4", "clip.mov"),
        (media.mp4(), "video/quicktime", "clip.mp4"),
    ],
)
def test_honest_or_generic_claims_are_accepted(data, declared_type, filename):
    assert inspect(data, declared_type=declared_type, filename=filename)


def test_megabytes_of_exif_are_refused_before_decoding():
    with pytest.raises(MediaTooLarge, match="metadata") as refused:
        inspect(media.jpeg_with_huge_exif())
    assert refused.value.status_code == 413 and "元数据" in refused.value.in_language("zh")


def test_compressed_text_that_unpacks_to_megabytes_is_refused():
    bomb = media.png_with_text_bomb()
    assert len(bomb) < 20_000
    with pytest.raises(MediaTooLarge, match="metadata"):
        inspect(bomb)


def test_a_small_metadata_limit_is_held_to():
    with pytest.raises(MediaTooLarge):
        inspect(media.sideways_photo_with_gps(), AttachmentLimits(max_metadata_bytes=100))


def test_animated_images_are_refused():
    frames = [Image.new("RGB", (20, 20), colour) for colour in ("red", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:])
    with pytest.raises(MediaUnsupported, match="animated"):
        inspect(out.getvalue())


def test_refusals_are_worded_in_both_languages():
    with pytest.raises(MediaTooLarge) as refused:
        inspect(media.jpeg(), AttachmentLimits(max_image_bytes=10))
    assert refused.value.in_language("en").startswith("the image is")
    assert refused.value.in_language("zh-CN").startswith("照片大小")
    assert refused.value.in_language(None).startswith("照片大小")  # Chinese by default


def test_boxes_nested_without_end_are_refused_not_recursed_into():
    nested = b"\0" * 16
    for _ in range(2000):
        nested = struct.pack(">I", 8 + len(nested)) + b"moov" + nested
    with pytest.raises(MediaUnsupported, match="not a valid MP4"):
        inspect(media.iso_media(b"isom", [b"isom"]) + nested)


@pytest.mark.parametrize("table", [b"stsc", b"stsz", b"stco"])
def test_a_sample_table_claiming_more_entries_than_its_box_holds_is_refused(table):
    original = media.mp4_with_location()
    gps_track = original.rindex(table)  # the GPS track's table: its samples are the ones zeroed
    count_at = gps_track + 4 + 4 + (4 if table == b"stsz" else 0)  # after type, version and flags (and stsz's uniform size)
    hostile = original[:count_at] + struct.pack(">I", 0x0FFFFFFF) + original[count_at + 4 :]
    with pytest.raises(MediaUnsupported, match="not a valid MP4"):
        inspect(hostile)


def test_a_phone_jpeg_with_extra_pictures_keeps_only_the_photo():
    photo, depth_map = Image.new("RGB", (40, 30), "red"), Image.new("RGB", (20, 15), "blue")
    out = io.BytesIO()
    photo.save(out, "MPO", save_all=True, append_images=[depth_map], exif=media.camera_exif())
    stored = Image.open(io.BytesIO(inspect(out.getvalue()).data))
    assert (stored.format, stored.size, getattr(stored, "n_frames", 1)) == ("JPEG", (40, 30), 1)
    no_metadata(inspect(out.getvalue()).data)


def test_a_header_box_too_short_for_its_times_is_refused_not_written_past():
    short_header = struct.pack(">I", 12) + b"mvhd" + b"\0\0\0\0"
    moov = struct.pack(">I", 8 + len(short_header)) + b"moov" + short_header
    with pytest.raises(MediaUnsupported, match="not a valid MP4"):
        inspect(media.iso_media(b"isom", [b"isom"]) + moov)
