"""The ``hazardloop`` command: run services, rebuild projections, mint dev tokens."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from hazardloop.projections import storeversion
from hazardloop.tools.audit_cli import audit
from hazardloop.tools.hub_cli import hub
from hazardloop.tools.registry import SERVICES, app_module

cli = typer.Typer(help="hazardloop: internal hazard reporting with rewards, event-sourced on NATS JetStream.", no_args_is_help=True)
console = Console()

ServiceName = StrEnum("ServiceName", {name: name for name in SERVICES})


def _settings(service: str, **overrides):
    module = app_module(service)
    return module, module.Settings(**{k: v for k, v in overrides.items() if v is not None})


@cli.command()
def serve(
    service: ServiceName,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default: the service's setting).")] = None,
    first_worker: Annotated[int | None, typer.Option(hidden=True, help="The first worker's process id (an extra HTTP worker's).")] = None,
) -> None:
    """Run one service: its HTTP API and its projection consumer."""
    import contextlib

    import uvicorn

    from hazardloop.privacy.keyring import KeyringError
    from hazardloop.runtime.logs import configure_logging
    from hazardloop.runtime.server import Server
    from hazardloop.runtime.tracing import configure_tracing
    from hazardloop.runtime.workers import shared_socket, signal_workers, start_extra_workers, stop_when_orphaned, stop_workers

    module, settings = _settings(service.value)
    configure_logging(settings.log_level, settings.log_format)
    configure_tracing(service.value)
    try:
        app = module.build(settings)
    except KeyringError as exc:
        typer.echo(f"hazardloop {service.value} cannot start: {exc}", err=True)
        raise typer.Exit(2) from None
    port = port or settings.port
    # log_config=None: uvicorn's loggers write through the root handler, which redacts credentials.
    # httptools, not h11: each request costs the service less CPU. asyncio's own loop, not uvloop:
    # under uvloop a stop signal during a start-up still waiting for its broker was sometimes
    # never acted on (the service hung until killed; docs/performance.md, "Filing a report").
    config = uvicorn.Config(app, host=host, port=port, log_level=settings.log_level.lower(), log_config=None, loop="asyncio", http="httptools")
    if first_worker is not None:
        stop_when_orphaned(first_worker)
    sockets, extra = None, []
    if settings.http_workers > 1:  # every worker binds the port itself; the first starts the others
        sockets = [shared_socket(host, port)]
        if settings.run_projection:
            extra = start_extra_workers(service.value, host, port, settings.http_workers - 1)
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C, passed on once the service has stopped
            Server(config, app.state.runtime.stop_requested, pass_on=lambda sig: signal_workers(extra, sig)).run(sockets=sockets)
    finally:
        stop_workers(extra)


@cli.command()
def replay(
    service: ServiceName,
    database_url: Annotated[str | None, typer.Option(help="Rebuild into this store instead of the configured one.")] = None,
    until_sequence: Annotated[int | None, typer.Option(help="Stop at this stream sequence (state as of then).")] = None,
) -> None:
    """Drop a service's projection and rebuild it from the log (stop the service first).

    Rebuilt in place, the service also reacts to events its old store had not reached
    (reactions are idempotent). Rebuilt into another store, it is a pure copy.
    """
    import time

    import nats

    from hazardloop.projections.collector import bulk_collection
    from hazardloop.projections.replay import rebuild as rebuild_projection

    module, settings = _settings(service.value, database_url=database_url)
    runtime = module.build(settings).state.runtime

    async def rebuild() -> int:
        connection = await nats.connect(settings.nats_servers, connect_timeout=settings.nats_timeout)
        try:
            store = runtime.make_store(connection)
            await runtime.open_texts(connection.jetstream(timeout=settings.nats_timeout), create=False)
            runner = runtime.make_runner(store, react=database_url is None)
            with bulk_collection:
                applied = await rebuild_projection(runner, connection, until_sequence=until_sequence)
            storeversion.record(runtime.engine, runtime.name, runner.projection.metadata)
            return applied
        finally:
            await connection.close()

    started = time.perf_counter()
    applied = asyncio.run(rebuild())
    elapsed = time.perf_counter() - started
    console.print(f"{service.value}: replayed {applied} events in {elapsed:.2f}s ({applied / max(elapsed, 1e-9):,.0f} events/s)")


@cli.command("dead-letters")
def dead_letters(service: ServiceName) -> None:
    """List events a service's projection could not apply."""
    module, settings = _settings(service.value)
    rows = module.build(settings).state.runtime.dead_letters()
    view = Table("sequence", "subject", "attempts", "recorded at", "error", title=f"{service.value} dead letters")
    for row in rows:
        view.add_row(
            str(row["sequence"]), row["subject"], str(row["attempts"]), row["recorded_at"].isoformat(), row["error"].splitlines()[-1]
        )
    console.print(view)


directory = typer.Typer(help="Each subsidiary's directory of people and endpoints that notifications reach.")
cli.add_typer(directory, name="directory")


@directory.command("load")
def directory_load(
    file: Annotated[Path, typer.Argument(help="YAML or JSON: {tenant: {people: [...], endpoints: [...], prune: false}}.", exists=True, dir_okay=False)],
    tenant: Annotated[str | None, typer.Option(help="The file is one subsidiary's directory (no tenant keys).")] = None,
    actor: Annotated[str, typer.Option(help="Who is recorded as having set the entries.")] = "directory-file",
) -> None:
    """Set every entry of a directory file in the log (unchanged entries add nothing)."""
    from datetime import UTC, datetime

    import nats
    import yaml

    from hazardloop_notifications.commands import load_directory
    from hazardloop_notifications.directory import listed_entries
    from hazardloop_notifications.domain import DirectoryDocument

    module, settings = _settings("notifications")
    document = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    documents = {tenant: document} if tenant else document
    unknown = [t for t in documents if t not in settings.tenants]
    if unknown:
        raise typer.BadParameter(f"unknown subsidiaries: {', '.join(map(str, unknown))}", param_hint="file")
    parsed = {t: DirectoryDocument.model_validate(d or {}) for t, d in documents.items()}
    runtime = module.build(settings).state.runtime

    async def apply() -> dict[str, dict[str, int]]:
        connection = await nats.connect(settings.nats_servers, connect_timeout=settings.nats_timeout)
        try:
            store = runtime.make_store(connection)
            await store.ensure_stream(replicas=settings.stream_replicas)
            results = {}
            for name, doc in parsed.items():
                listed = _listed(runtime.engine, name) if doc.prune else []
                results[name] = await load_directory(store, name, doc, actor=actor, now=datetime.now(UTC), listed=listed)
            return results
        finally:
            await connection.close()

    def _listed(engine, name):
        from sqlalchemy import inspect

        return listed_entries(engine, name) if inspect(engine).has_table("notification_directory") else []

    for name, result in asyncio.run(apply()).items():
        console.print(f"{name}: {result['entries']} entries, {result['changed']} changed, {result['removed']} removed")


@cli.command("rewrap-keys")
def rewrap_keys(
    tenant: Annotated[list[str] | None, typer.Option(help="Subsidiary; repeat for several (default: all).")] = None,
) -> None:
    """After adding a new master key: wrap every reporter's data key and every report's text
    key by the newest one, so that the older master keys can leave HAZARDLOOP_MASTER_KEYS.
    Safe to repeat."""
    import nats

    from hazardloop.privacy.identity import IdentityVault, WrongMasterKey
    from hazardloop.privacy.keyring import KeyringError
    from hazardloop.privacy.sealing import TextVault
    from hazardloop.runtime.settings import CommonSettings

    settings = CommonSettings()

    async def rewrap() -> dict[str, list[int]]:
        connection = await nats.connect(settings.nats_servers, connect_timeout=settings.nats_timeout)
        try:
            js = connection.jetstream(timeout=settings.nats_timeout)
            vaults = [
                IdentityVault(js, settings.keys.master_keys, bucket=settings.bucket("reporter-keys"), replicas=settings.stream_replicas),
                TextVault(js, settings.keys.master_keys, bucket=settings.bucket("text-keys"), replicas=settings.stream_replicas),
            ]
            counts: dict[str, list[int]] = {each: [] for each in tenant or settings.tenants}
            for vault in vaults:
                await vault.ensure()
                for each, done in counts.items():
                    done.append(await vault.rewrap(each))
            return counts
        finally:
            await connection.close()

    try:
        counts = asyncio.run(rewrap())
    except (KeyringError, WrongMasterKey) as exc:
        typer.echo(f"rewrap-keys: {exc}", err=True)
        raise typer.Exit(1) from None
    for name, (identities, texts) in counts.items():
        console.print(f"{name}: {identities} data keys and {texts} text keys re-wrapped by the newest master key", soft_wrap=True)


reconcile = typer.Typer(help="Check the log for what should never happen; prints nothing amiss on a healthy system.")
cli.add_typer(reconcile, name="reconcile")


@reconcile.command("rewards")
def reconcile_rewards_command() -> None:
    """Every verified report without a reward decision, every double payment, every payment
    without approval; exits 1 when anything is found."""
    import nats

    from hazardloop.audit.payouts import REWARD_TYPES, reconcile_rewards
    from hazardloop.log.eventstore import Subjects
    from hazardloop.log.reader import read_log
    from hazardloop.runtime.settings import CommonSettings

    settings = CommonSettings()
    subjects = Subjects(settings.subject_prefix)

    async def check():
        connection = await nats.connect(settings.nats_servers, connect_timeout=settings.nats_timeout)
        try:
            log = [item async for item in read_log(connection, settings.stream_name, [subjects.of_type(t) for t in REWARD_TYPES])]
        finally:
            await connection.close()
        return len(log), reconcile_rewards(log)

    read, findings = asyncio.run(check())
    if not findings:
        console.print(f"rewards reconcile: {read} events read, nothing amiss")
        return
    view = Table("finding", "tenant", "report", "sequence", "detail", title=f"rewards reconcile: {len(findings)} findings")
    for finding in findings:
        view.add_row(finding.kind, finding.tenant, finding.report_id, str(finding.sequence), finding.detail)
    console.print(view)
    raise typer.Exit(1)


cli.add_typer(audit, name="audit")
cli.add_typer(hub, name="hub")


@cli.command()
def token(
    user: Annotated[str, typer.Option(help="Subject (user id).")],
    tenant: Annotated[list[str], typer.Option(help="Subsidiary; repeat for several; * for group HQ.")],
    role: Annotated[list[str], typer.Option(help="Role; repeat for several.")],
    hours: Annotated[float, typer.Option(help="Validity in hours.")] = 8.0,
) -> None:
    """Mint a bearer token signed with the local dev secret (for trying the APIs)."""
    from datetime import timedelta

    from hazardloop.privacy.keyring import KeyringError
    from hazardloop.runtime.settings import CommonSettings
    from hazardloop.web.auth import Authenticator, Role

    settings = CommonSettings()
    if not settings.keys.held("jwt"):
        # A key made up here would sign tokens no service accepts: say where the services' key is looked for.
        typer.echo(
            f"token: no token key: HAZARDLOOP_JWT_SECRET is not set and {settings.state_dir.resolve()} holds no "
            "generated one; run this where `make run` runs, or set HAZARDLOOP_STATE_DIR or HAZARDLOOP_JWT_SECRET",
            err=True,
        )
        raise typer.Exit(2)
    try:
        roles = [Role(r) for r in role]
        typer.echo(Authenticator(settings.secret("jwt"), settings.tenants).issue(user, tenant, roles, ttl=timedelta(hours=hours)))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    except KeyringError as exc:
        typer.echo(f"token: {exc}", err=True)
        raise typer.Exit(2) from None


@cli.command()
def run(
    demo: Annotated[bool, typer.Option(help="Seed a short demo through the real APIs.")] = True,
) -> None:
    """Run everything on one machine: broker (unless NATS_URL is set), four services, demo."""
    from hazardloop.tools.embedded import run_everything

    raise typer.Exit(run_everything(seed_demo=demo))


@cli.command()
def schemas(
    out: Annotated[Path, typer.Option(help="Folder to write into.")] = Path("schemas"),
    check: Annotated[bool, typer.Option(help="Fail if the files on disk are not current.")] = False,
) -> None:
    """Write (or check) the JSON Schema of every event and each service's AsyncAPI document."""
    from hazardloop.tools.contracts import render_contracts

    stale = []
    for path, content in render_contracts().items():
        target = out / path
        if check:
            if not target.exists() or target.read_text() != content:
                stale.append(str(target))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    if stale:
        console.print(f"[red]out of date, run `make schemas`:[/red] {', '.join(stale)}")
        raise typer.Exit(1)
    console.print("event contracts are current" if check else f"event contracts written under {out}/")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
