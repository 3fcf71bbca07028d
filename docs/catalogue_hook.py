"""MkDocs hook: adds the event catalogue, rendered from the code, to the site as events.md.

Rendered at every build and stored nowhere, so it cannot fall behind the code."""

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files


def on_files(files: Files, config: MkDocsConfig) -> Files:
    from hazardloop.tools.eventcatalogue import render_catalogue

    files.append(File.generated(config, "events.md", content=render_catalogue()))
    return files
