"""The documentation site: its navigation names only pages that exist, every page is in
it, and the configuration page names every setting the services read."""

from __future__ import annotations

from pathlib import Path

import yaml

from hazardloop.runtime.settings import CommonSettings
from hazardloop.tools.registry import SERVICES, app_module

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"
GENERATED = {"events.md"}
"""Pages the build renders from the code (docs/catalogue_hook.py)."""


def nav_pages(entries: list) -> list[str]:
    pages = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_the_navigation_names_only_existing_pages_and_every_page() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    pages = nav_pages(config["nav"])
    missing = [page for page in pages if page not in GENERATED and not (DOCS / page).is_file()]
    assert missing == []
    written = {str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md")}
    assert written - set(pages) == set()
    assert len(pages) == len(set(pages))


def environment_names(settings: type[CommonSettings]) -> set[str]:
    names = set()
    for name, field in settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, str):
            names.add(alias)
        elif alias is not None:
            names |= {choice for choice in alias.choices if isinstance(choice, str)}
        else:
            names.add(f"HAZARDLOOP_{name.upper()}")
    return names


def test_the_configuration_page_names_every_setting() -> None:
    page = (DOCS / "operations" / "configuration.md").read_text()
    names = set().union(*(environment_names(app_module(service).Settings) for service in SERVICES))
    assert {name for name in names if f"`{name}`" not in page} == set()
