"""Garbage collection suited to a rebuild's millions of short-lived objects.

CPython's collector passes over every tracked object now and then, the process's
long-lived ones too (modules, SQLAlchemy's and pydantic's schemas: some 100,000
objects); a rebuild allocates fast enough to set off such a full pass about twice a
second, which cost it an eighth of its time. Under ``bulk_collection`` those objects
are frozen out of the collector, and young objects are collected less often.

The setting is the whole process's, so the code that starts a rebuild chooses it
(``hazardloop replay``, a service rebuilding a changed store at start-up, an audit's
replay, the benchmark), not the replay itself, which may share its process with
other work.
"""

from __future__ import annotations

import gc


class _BulkCollection:
    """Reentrant: rebuilds that overlap share the setting, and the last one to finish
    gives the process its own back."""

    def __init__(self) -> None:
        self._users = 0
        self._threshold: tuple[int, ...] = ()
        """The process's own thresholds, kept while a rebuild runs."""

    def __enter__(self) -> None:
        if self._users == 0:
            self._threshold = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(max(self._threshold[0], 10_000), *self._threshold[1:])
        self._users += 1

    def __exit__(self, *_: object) -> None:
        self._users -= 1
        if self._users == 0:
            gc.set_threshold(*self._threshold)
            gc.unfreeze()


bulk_collection = _BulkCollection()
"""``with bulk_collection:`` around a rebuild."""
