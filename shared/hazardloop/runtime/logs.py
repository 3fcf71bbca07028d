"""Every log line a service writes, its HTTP access log included: one JSON object a line,
tied to its trace, without credentials.

Every logger (the services', the libraries', uvicorn's access log) writes through one
handler at the root, whose structlog ``ProcessorFormatter`` renders the record as JSON
(``timestamp``, ``level``, ``logger``, ``message``; ``trace_id`` and ``span_id`` inside a
span; ``report_id``, ``tenant`` and ``event_type`` where the code handles a report or an
event, bound with ``bound``) or, for a person reading a terminal, as a plain line.

Some credentials travel in URLs: the QR form link's signature (``k=``), tokens some
clients put in a query. The handler's filter rewrites them in every record before it is
formatted, whatever the format.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Literal, TextIO

import structlog
from opentelemetry import trace

if TYPE_CHECKING:
    from hazardloop.events import Event

SECRET_PARAMETERS = re.compile(r"(?i)\b(k|token|access_token|id_token|code|receipt_code|voucher_code|secret|key)=[^&\s\"'#]+")
REDACTED = r"\1=[redacted]"

LogFormat = Literal["json", "console"]


def redact(text: str) -> str:
    """``text`` with the values of credential parameters replaced."""
    return SECRET_PARAMETERS.sub(REDACTED, text)


class RedactSecrets(logging.Filter):
    """Rewrites credentials in a record's message and its arguments (kept as arguments:
    formatters such as uvicorn's read them one by one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redacted(value) for key, value in record.args.items()}
        return True


def _redacted(value: object) -> object:
    if isinstance(value, (int, float)) or value is None:
        return value
    text = str(value)
    cleaned = redact(text)
    return value if cleaned == text else cleaned


# --- context ---------------------------------------------------------------------------


def bound_to(event: Event) -> AbstractContextManager[None]:
    """``bound`` to an event's subsidiary, report (when it is one's) and kind."""
    report_id = event.aggregate_id if event.aggregate_type == "report" else None
    return bound(tenant=event.tenant, report_id=report_id, event_type=event.type)


@contextmanager
def bound(*, tenant: str | None = None, report_id: str | None = None, event_type: str | None = None) -> Iterator[None]:
    """Lines logged inside the block name this report, subsidiary or event kind (ids only:
    never a person or their words)."""
    values = {k: v for k, v in (("tenant", tenant), ("report_id", report_id), ("event_type", event_type)) if v is not None}
    tokens = structlog.contextvars.bind_contextvars(**values)  # tokens restore what was bound before, cheaply
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)


def _add_trace(_: Any, __: str, line: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The current span's ids, in the form trace back ends show them."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        line["trace_id"] = format(context.trace_id, "032x")
        line["span_id"] = format(context.span_id, "016x")
    return line


def _redact_message(_: Any, __: str, line: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog-native line has no record for ``RedactSecrets`` to clean: clean its message."""
    if isinstance(message := line.get("event"), str):
        line["event"] = redact(message)
    return line


_COMMON: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
    _add_trace,
    _redact_message,
]


def _first_things_first(_: Any, __: str, line: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """``timestamp``, ``level``, ``logger``, ``message`` lead every line, for a person scanning them."""
    return {key: line[key] for key in _LEADING if key in line} | line


_LEADING = ("timestamp", "level", "logger", "message")


def handler(stream: TextIO, log_format: LogFormat = "json") -> logging.Handler:
    """A handler rendering every record in ``log_format``, credentials redacted."""
    if log_format == "json":
        ending: list[Any] = [
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            _first_things_first,
            structlog.processors.JSONRenderer(ensure_ascii=False, default=str),
        ]
    else:
        ending = [structlog.dev.ConsoleRenderer(colors=False)]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_COMMON, processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *ending]
    )
    out = logging.StreamHandler(stream)
    out.setFormatter(formatter)
    out.addFilter(RedactSecrets())
    return out


def configure_logging(level: str, log_format: LogFormat = "json") -> None:
    """One handler at the root; libraries' loggers (uvicorn's included) propagate to it,
    and structlog's own loggers end in it too."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(sys.stderr, log_format))
    root.setLevel(level)
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *_COMMON, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
