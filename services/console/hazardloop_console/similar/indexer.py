"""Keeping the blind index from the log: each filed report's description, opened just long
enough to take its tokens' digests, and nothing of it once its text is erased.

The projection's handlers are synchronous and never wait on the broker, so ``prepare``
opens a batch's descriptions beforehand (one text-key look-up per report, all at once) and
keeps their digests until the handler of each ``ReportFiled`` takes them. Replayed after
its text was erased, a report has no text to open, so it gets no rows, as it had none left.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

from hazardloop.events import ReportFiled
from hazardloop.privacy.sealing import TextVault, text_token
from hazardloop.projections.definition import Delivery
from hazardloop_console.similar.tokens import digest, tokens


class DescriptionIndexer:
    """What the console's projection indexes descriptions with: the log's text keys (``texts``,
    bound once the service is connected) and each subsidiary's index key (``key_of``)."""

    def __init__(self, texts: Callable[[], TextVault], key_of: Callable[[str], bytes]) -> None:
        self._texts = texts
        self.key = key_of
        self._prepared: dict[str, list[str]] = {}
        self._digest = lru_cache(maxsize=1 << 16)(digest)  # a subsidiary's reports share most of their words

    async def prepare(self, deliveries: Sequence[Delivery]) -> None:
        filed = [d.event for d in deliveries if isinstance(d.event, ReportFiled)]
        if not filed:
            return
        opened = await self._texts().reveal([text_token(e.tenant, e.description) for e in filed], erased="")
        self._prepared = {
            str(e.event_id): list(dict.fromkeys(self._digest(self.key(e.tenant), word) for word in tokens(text)))
            for e, text in zip(filed, opened, strict=True)
        }

    def take(self, event: ReportFiled) -> list[str]:
        """The digests of the filed report's description (prepared for its batch)."""
        try:
            return self._prepared.pop(str(event.event_id))
        except KeyError:
            raise RuntimeError(f"the description of report {event.aggregate_id} was not prepared for indexing") from None
