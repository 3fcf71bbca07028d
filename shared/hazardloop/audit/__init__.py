"""Audit tooling: prove the whole history from the log alone, read-only.

Every module here reads the log (a live stream or an offline archive) and never
appends to it; only ``seal`` (an operator's command, with the services' credentials)
and ``archive.import_archive`` (into an empty stream the caller names) write.
"""
