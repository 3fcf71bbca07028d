"""``hazardloop hub``: the group hub's stream, which sources every site's stream.

Streams are not declared in nats-server configuration, so the group stream and its
sources are made here (``hazardloop.log.hub``); run it again with a new site to add one.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

hub = typer.Typer(help="The group hub: a read-only group stream sourcing every site's stream.", no_args_is_help=True)


@hub.command()
def sources(
    site: Annotated[list[str], typer.Option("--site", help="A site's JetStream domain; repeat for each site.")],
    stream: Annotated[str | None, typer.Option("--stream", help="The group stream (default: HAZARDLOOP_STREAM_NAME).")] = None,
    site_stream: Annotated[str | None, typer.Option(help="Each site's stream (default: HAZARDLOOP_SITE_STREAM_NAME).")] = None,
    nats_url: Annotated[str | None, typer.Option("--nats-url", help="The hub's broker, as an administrator (default: NATS_URL).")] = None,
) -> None:
    """Make or update the group stream so that it sources each --site's stream (idempotent; only adds)."""
    import nats

    from hazardloop.log.eventstore import EventStoreUnavailable
    from hazardloop.log.hub import HubRefusal, source_sites
    from hazardloop.runtime.settings import CommonSettings

    settings = CommonSettings(**({"nats_url": nats_url} if nats_url else {}))
    name, origin = stream or settings.stream_name, site_stream or settings.site_stream_name
    if name == origin:
        raise typer.BadParameter(f"the group stream must not be named like the sites' streams ({origin})", param_hint="--stream")

    async def run():
        connection = await nats.connect(settings.nats_servers, connect_timeout=settings.nats_timeout)
        try:
            return await source_sites(connection, name, site, site_stream=origin, replicas=settings.stream_replicas)
        finally:
            await connection.close()

    try:
        sourced = asyncio.run(run())
    except HubRefusal as refusal:
        typer.echo(f"refused: {refusal}", err=True)
        raise typer.Exit(1) from None
    except EventStoreUnavailable as exc:
        typer.echo(f"{exc}: is every site linked to the hub?", err=True)
        raise typer.Exit(2) from None
    added = ", ".join(sourced.added) or "none (already so)"
    typer.echo(f"{sourced.stream} sources {', '.join(sourced.sites)}; added: {added}")
