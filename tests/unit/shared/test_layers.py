"""The shared library's layers, read from its source (nothing of it is imported): only the
command line (``hazardloop.tools``) knows the services, and the in-memory log for tests
(``hazardloop.testing``) never reaches production code."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "shared" / "hazardloop"

Rule = Callable[[str, str], bool]
"""(importing module, imported module) -> whether the import breaks the layers."""


def module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, package: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in ``path``, those inside functions and relative ones
    included; ``from a.b import c`` counts as importing ``a.b.c``, which is the module
    itself when ``c`` is one (``from hazardloop import tools``)."""
    home = module_name(path, package).split(".")
    if path.name != "__init__.py":
        home = home[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = home[: len(home) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def knows_the_services(module: str, imported: str) -> bool:
    """A module outside the command line importing a service or the command line."""
    return not within(module, "hazardloop.tools") and (
        imported.startswith("hazardloop_") or within(imported, "hazardloop.tools")
    )


def uses_the_test_log(module: str, imported: str) -> bool:
    """A production module importing what only tests may use."""
    return not within(module, "hazardloop.testing") and within(imported, "hazardloop.testing")


def offences(rule: Rule, package: Path = PACKAGE) -> list[str]:
    return [
        f"{module_name(path, package)} (line {line}) imports {imported}"
        for path in sorted(package.rglob("*.py"))
        for line, imported in imports(path, package)
        if rule(module_name(path, package), imported)
    ]


def test_the_whole_library_is_read():
    names = {module_name(path, PACKAGE) for path in PACKAGE.rglob("*.py")}
    assert {"hazardloop.audit.replay", "hazardloop.tools.cli", "hazardloop.testing"} <= names


@pytest.mark.parametrize("rule", [knows_the_services, uses_the_test_log])
def test_the_layers_hold(rule: Rule):
    found = offences(rule)
    assert not found, f"{rule.__doc__}\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("name", "source", "rule", "expected"),
    [
        ("audit/replay.py", "import hazardloop_intake.app\n", knows_the_services,
         "hazardloop.audit.replay (line 1) imports hazardloop_intake.app"),
        ("audit/replay.py", "def rebuild():\n    from ..tools import registry\n", knows_the_services,
         "hazardloop.audit.replay (line 2) imports hazardloop.tools.registry"),
        ("log/__init__.py", "from hazardloop import testing\n", uses_the_test_log,
         "hazardloop.log (line 1) imports hazardloop.testing"),
        ("tools/cli.py", "from hazardloop.testing import InMemoryEventStore\n", uses_the_test_log,
         "hazardloop.tools.cli (line 1) imports hazardloop.testing.InMemoryEventStore"),
    ],
)
def test_an_offence_names_the_module_and_the_import(tmp_path: Path, name: str, source: str, rule: Rule, expected: str):
    """Imports inside functions, relative imports and names taken from a package all count."""
    path = tmp_path / "hazardloop" / name
    path.parent.mkdir(parents=True)
    path.write_text(source)
    assert expected in offences(rule, tmp_path / "hazardloop")


def test_the_command_line_and_the_tests_own_modules_may_cross(tmp_path: Path):
    package = tmp_path / "hazardloop"
    (package / "tools").mkdir(parents=True)
    (package / "testing").mkdir()
    (package / "tools" / "registry.py").write_text("import hazardloop_intake.projection\nfrom hazardloop.tools import cli\n")
    (package / "testing" / "__init__.py").write_text("from hazardloop.testing.memory_store import InMemoryEventStore\n")
    assert offences(knows_the_services, package) == offences(uses_the_test_log, package) == []
