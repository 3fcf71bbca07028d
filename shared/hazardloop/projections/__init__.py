"""Checkpointed projections: read models that always equal a clean replay of the log.

``runner`` feeds one live, ``replay`` rebuilds one in bulk, ``bookkeeping`` keeps its
checkpoint and dead letters in its own store, and handlers write through ``writer``.
"""

from hazardloop.projections.bookkeeping import bookkeeping_tables
from hazardloop.projections.definition import Projection
from hazardloop.projections.runner import ProjectionRunner
from hazardloop.projections.writer import RowView, Writer

__all__ = ["Projection", "ProjectionRunner", "RowView", "Writer", "bookkeeping_tables"]
