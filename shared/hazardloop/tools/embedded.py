"""``hazardloop run``: the whole system on one machine, stopped cleanly by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
from rich.console import Console

from hazardloop.log.natsserver import NatsServer, port_is_open
from hazardloop.privacy.keyring import VARIABLES
from hazardloop.runtime.settings import DEFAULT_NATS_PORT, CommonSettings
from hazardloop.tools.registry import SERVICES, app_module

console = Console()


def _interrupt(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt


def run_everything(*, seed_demo: bool) -> int:
    # Ctrl-C, `kill` and container stops all mean: stop everything, cleanly.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    settings = CommonSettings()
    state = settings.state_dir.resolve()
    state.mkdir(parents=True, exist_ok=True, mode=0o700)  # keys, stores and logs: the owner's alone
    (state / "logs").mkdir(exist_ok=True, mode=0o700)
    settings.keys.require([*VARIABLES, "master"], tenants=settings.tenants)  # generated once, before four processes start
    broker: NatsServer | None = None
    env = {**os.environ, "HAZARDLOOP_STATE_DIR": str(state)}
    if "NATS_URL" not in os.environ:
        if port_is_open(DEFAULT_NATS_PORT):
            console.print(f"[red]port {DEFAULT_NATS_PORT} is taken: is hazardloop already running?[/red]")
            return 1
        broker = NatsServer(state / "nats", port=DEFAULT_NATS_PORT).start(log_file=state / "logs" / "nats-server.log")
        console.print(f"broker: nats-server with JetStream on {broker.url} (data in {state / 'nats'})")
        env["NATS_URL"] = broker.url
    else:
        console.print(f"broker: using {os.environ['NATS_URL']}")
    urls = {service: f"http://127.0.0.1:{app_module(service).Settings().port}" for service in SERVICES}
    env |= {f"HAZARDLOOP_{service.upper()}_URL": url for service, url in urls.items()}
    env.setdefault("HAZARDLOOP_LOG_FORMAT", "console")  # its logs are files a person reads
    env.setdefault("HAZARDLOOP_DEV_SIGNIN", "true")  # the demo's people sign in without a provider; production never sets it
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for service in SERVICES:
            log = open(state / "logs" / f"{service}.log", "ab")  # noqa: SIM115 - the child owns it
            processes[service] = subprocess.Popen(
                [sys.executable, "-m", "hazardloop.tools.cli", "serve", service], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        _wait_ready(urls, processes)
        console.print(f"[bold]console: {urls['console']}[/bold] (open it in a browser; sign in as one of the demo people)")
        console.print("services: " + ", ".join(f"{s} {u}" for s, u in urls.items()) + f" (logs in {state / 'logs'})")
        if seed_demo:
            from hazardloop.tools.demo import seed

            seed(urls, settings)
        console.print(f"\n[bold]Open the console: {urls['console']}[/bold]")
        console.print("[bold]Running. Press Ctrl-C to stop.[/bold]")
        while all(p.poll() is None for p in processes.values()):
            time.sleep(0.5)
        died = [s for s, p in processes.items() if p.poll() is not None]
        console.print(f"[red]stopped unexpectedly: {', '.join(died)} (see the logs)[/red]")
        return 1
    except KeyboardInterrupt:
        console.print("stopping...")
        return 0
    finally:
        # A second Ctrl-C (or a signal a wrapper passes on to the whole group) must not cut
        # the stop short: that would leave services or the broker running. Each step is bounded.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _stop(processes)
        if broker is not None:
            broker.stop()
        console.print("stopped.")


def _wait_ready(urls: dict[str, str], processes: dict[str, subprocess.Popen[bytes]], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    pending = dict(urls)
    while pending:
        for service, url in list(pending.items()):
            if processes[service].poll() is not None:
                raise RuntimeError(f"{service} exited during start-up; see its log")
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    del pending[service]
            except httpx.HTTPError:
                pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"not ready after {timeout}s: {', '.join(pending)}")
        time.sleep(0.2)


def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
