"""Every stream on the test session's broker, for tests that read the whole of a log.

JetStream lists streams a page (256) at a time, and the session's one server holds far
more than a page by the time the later tests run: a test that read only the first page
would miss its own buckets and pass or fail for the wrong reason.
"""

from __future__ import annotations

from nats.js import JetStreamContext, api


async def every_stream(js: JetStreamContext) -> list[api.StreamInfo]:
    streams: list[api.StreamInfo] = []
    while page := await js.streams_info(offset=len(streams)):
        streams.extend(page)
    return streams
