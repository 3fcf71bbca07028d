"""The hub's group stream: a read-only stream sourcing every site's stream.

The group stream has no subjects of its own (nothing is ever published into it; sourcing
into a stream with subjects of its own has open server bugs, nats-server #7530), and
sources each site's stream through that site's JetStream domain
(``external.api = $JS.<domain>.API``). The server copies each site's messages in that
site's order, exactly once, with new sequences and a ``Nats-Stream-Source`` header naming
the origin stream and sequence; it resumes after a cut link or a restart by itself.

Streams are not declared in server configuration, so ``hazardloop hub sources`` makes or
updates this one. It is idempotent, only ever adds sources, and records when each site's
stream was created: a site stream deleted and made again restarts its sequences, which
the server's source would not notice (nats-server #6206), so such a site is refused until
an operator decides what the group stream is to hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nats.aio.client import Client
from nats.js import api
from nats.js.errors import NotFoundError

from hazardloop.log.eventstore import broker_errors

CREATED = "hazardloop.site-stream-created."
"""Group stream metadata: the creation time of each site's stream when it was first sourced."""


class HubRefusal(Exception):
    """The group stream cannot safely source as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class Sourced:
    stream: str
    added: tuple[str, ...]
    """The sites sourced by this call (none: it was already so)."""
    sites: tuple[str, ...]
    """Every site the group stream sources."""


def site_api(domain: str) -> str:
    return f"$JS.{domain}.API"


def domain_of(source: api.StreamSource) -> str | None:
    """The site (JetStream domain) of a source, None for a source of another kind."""
    prefix = source.external.api if source.external else ""
    if prefix.startswith("$JS.") and prefix.endswith(".API"):
        return prefix[len("$JS.") : -len(".API")]
    return None


async def source_sites(
    nc: Client, stream: str, sites: Sequence[str], *, site_stream: str = "HAZARDLOOP", replicas: int = 1, timeout: float = 5.0
) -> Sourced:
    """Make the group stream ``stream`` source ``site_stream`` of each of ``sites`` (domains).

    Each site must be reachable (its stream's creation time is read through its domain).
    Refused: a group stream with subjects of its own, and a site whose stream was made
    again since it was first sourced.
    """
    js = nc.jetstream(timeout=timeout)
    async with broker_errors():
        try:
            config = (await js.stream_info(stream)).config
        except NotFoundError:
            config = None
        if config is not None and config.subjects:
            raise HubRefusal(f"{stream} has subjects of its own ({', '.join(config.subjects)}): a group stream only sources")
        sources = list(config.sources or []) if config else []
        metadata = dict(config.metadata or {}) if config else {}
        present = {domain_of(source) for source in sources}
        added = []
        for site in dict.fromkeys(sites):
            try:
                created = (await nc.jetstream(timeout=timeout, domain=site).stream_info(site_stream)).created
            except NotFoundError:
                raise HubRefusal(f"site {site} has no stream {site_stream}: start its services first") from None
            stamp = created.isoformat() if created else ""
            recorded = metadata.get(CREATED + site)
            if recorded is not None and recorded != stamp:
                raise HubRefusal(
                    f"site {site}'s stream {site_stream} was made again ({stamp}, first sourced as made {recorded}): "
                    "its sequences restarted, so the group stream would not take its new messages (nats-server #6206); "
                    "see docs/operations/sites-and-hub.md"
                )
            metadata[CREATED + site] = stamp
            if site not in present:
                sources.append(api.StreamSource(name=site_stream, external=api.ExternalStream(api=site_api(site))))
                added.append(site)
        if config is None:
            await js.add_stream(api.StreamConfig(
                name=stream, subjects=[], sources=sources, metadata=metadata, storage=api.StorageType.FILE,
                retention=api.RetentionPolicy.LIMITS, num_replicas=replicas, deny_delete=True, deny_purge=True,
                description="hazardloop group log: every site's stream, sourced, read-only",
            ))  # fmt: skip
        elif added or metadata != (config.metadata or {}):
            config.sources, config.metadata = sources, metadata
            await js.update_stream(config)
    every = tuple(site for site in (domain_of(source) for source in sources) if site)
    return Sourced(stream, tuple(added), every)
