"""Why an upload was refused, in words the reporter reads: Simplified Chinese and English.

A refusal keeps its reason and the facts behind it, so each boundary (the QR form, the
API) says it in the language of the person who sent the file.
"""

from __future__ import annotations

from hazardloop.errors import TooLarge, UnsupportedMedia
from hazardloop.events import Language
from hazardloop.web.labels import language_of

WORDS: dict[str, tuple[str, str]] = {
    "empty": ("文件是空的。", "the file is empty"),
    "unsupported": (
        "不接受此类文件（{found}）：请发送 JPEG、PNG、WebP 照片或 MP4、MOV 视频。",
        "{found} is not accepted; send JPEG, PNG or WebP photos and MP4 or QuickTime videos",
    ),
    "heic": (
        "不接受 HEIC/HEIF 照片：请把相机格式设为“兼容性最佳”，或以 JPEG 分享照片。",
        "HEIC/HEIF photos are not accepted: set the camera to 'Most Compatible' or share the photo as JPEG",
    ),
    "webm": (
        "不接受 WebM 视频：无法可靠去除其中的元数据，请发送手机相机拍摄的 MP4 或 MOV 视频。",
        "WebM videos are not accepted: their metadata cannot be removed reliably; send the MP4 or MOV your camera recorded",
    ),
    "disguised": (
        "文件声称是 {claimed}，实际内容却是 {found}，已拒收。",
        "the file claims to be {claimed} but its content is {found}",
    ),
    "undecodable": ("文件不是有效的 {format} 图片（可能已损坏或不完整）。", "the content is not a valid {format} image"),
    "broken_video": ("文件不是有效的 {format} 视频（可能已损坏或不完整）。", "the content is not a valid {format} video"),
    "fragmented_data_track": (
        "此 {format} 视频分段录制并带有数据轨道（如 GPS 轨迹），无法去除，已拒收：请关闭定位后重新录制。",
        "this {format} video is fragmented and carries a data track (such as a GPS track) that cannot be removed; record it again with location off",
    ),
    "animated": ("不接受动图：请发送单张照片或视频。", "animated images are not accepted: send a still photo or a video"),
    "too_big": ("{kind_zh}大小 {size}，超过上限 {limit}。", "the {kind} is {size}, over the limit of {limit}"),
    "too_many_pixels": (
        "图片尺寸 {width}x{height} 像素，超过上限 {limit} 像素。",
        "the image is {width}x{height} pixels, over the limit of {limit} pixels",
    ),
    "bomb": ("图片声明的像素过多，无法安全解码。", "the image declares too many pixels to decode safely"),
    "metadata_too_large": (
        "文件附带的元数据（EXIF 等）超过上限 {limit}。",
        "the file's metadata (EXIF and the like) is over the limit of {limit}",
    ),
}
"""Reason -> (Chinese, English); the English is also the message logs and tests read."""

_KINDS_ZH = {"image": "照片", "video": "视频"}


class _Worded:
    """A refusal that can say itself in either language."""

    def __init__(self, reason: str, **facts: object) -> None:
        self.reason = reason
        self.facts = {"kind_zh": _KINDS_ZH.get(str(facts.get("kind")), "文件")} | facts
        super().__init__(WORDS[reason][1].format(**self.facts))  # type: ignore[call-arg]

    def in_language(self, language: str | None) -> str:
        """The reason in ``language`` (a tag or an Accept-Language header); Chinese by default."""
        chinese, english = WORDS[self.reason]
        return (english if language_of(language) == Language.EN else chinese).format(**self.facts)


class MediaTooLarge(_Worded, TooLarge):
    """An upload over a limit: bytes, pixels or metadata (413)."""


class MediaUnsupported(_Worded, UnsupportedMedia):
    """An upload that is not what it claims, does not decode, or is of a type not accepted (415)."""


MediaRefused = (MediaTooLarge, MediaUnsupported)
