"""The README's first command: everything starts, the demo goes through, Ctrl-C stops it all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

from hazardloop.log.natsserver import free_port
from hazardloop.runtime.settings import CommonSettings
from hazardloop.tools.registry import SERVICES
from hazardloop.web.auth import Authenticator
from tests.waiting import wait_for


def test_run_seeds_the_demo_and_stops_every_process_on_ctrl_c_even_pressed_twice(nats_url, tmp_path, stream_names):
    stream, prefix = stream_names
    env = {
        **os.environ,
        "NATS_URL": nats_url,
        "HAZARDLOOP_STATE_DIR": str(tmp_path / "state"),
        "HAZARDLOOP_STREAM_NAME": stream,
        "HAZARDLOOP_SUBJECT_PREFIX": prefix,
        **{f"HAZARDLOOP_{service.upper()}_PORT": str(free_port()) for service in SERVICES},
    }
    output = tmp_path / "run.out"
    with open(output, "wb") as sink:
        run = subprocess.Popen([sys.executable, "-m", "hazardloop.tools.cli", "run"], env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while "Running" not in output.read_text():
            assert run.poll() is None, output.read_text()
            assert time.monotonic() < deadline, output.read_text()
            time.sleep(0.2)
        text = output.read_text()
        assert text.count("rectified") >= 2 and "3600.00 yuan" in text and "20.00 yuan" in text and "granted" in text
        exported = re.search(r"^  export REPORTER=(\S+)$", text, re.MULTILINE)  # one line, whatever the width: pastable
        assert exported, text
        settings = CommonSettings(state_dir=tmp_path / "state")
        assert Authenticator(settings.secret("jwt"), settings.tenants).verify(exported.group(1)).subject == "emp-10482"
        children = subprocess.run(["pgrep", "-P", str(run.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) == len(SERVICES)
        run.send_signal(signal.SIGINT)
        wait_for(lambda: "stopping..." in output.read_text())
        run.send_signal(signal.SIGINT)  # pressed again while stopping: the stop still finishes
        assert run.wait(timeout=30) == 0
        assert "stopped." in output.read_text()
        for child in children:
            assert not os.path.exists(f"/proc/{child}") or open(f"/proc/{child}/stat").read().split()[2] == "Z"
    finally:
        if run.poll() is None:
            run.kill()
