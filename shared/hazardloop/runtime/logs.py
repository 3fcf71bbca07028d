"""Every log line a service writes, its HTTP access log included, without credentials.

Some credentials travel in URLs: the QR form link's signature (``k=``), tokens some
clients put in a query. The filter sits on the root handler, which every logger
(uvicorn's access log too) writes through, and rewrites them before any line is formatted.
"""

from __future__ import annotations

import logging
import re

SECRET_PARAMETERS = re.compile(r"(?i)\b(k|token|access_token|id_token|code|receipt_code|voucher_code|secret|key)=[^&\s\"'#]+")
REDACTED = r"\1=[redacted]"


class RedactSecrets(logging.Filter):
    """Rewrites credentials in a record's message and its arguments (kept as arguments:
    formatters such as uvicorn's read them one by one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = SECRET_PARAMETERS.sub(REDACTED, record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redacted(value) for key, value in record.args.items()}
        return True


def _redacted(value: object) -> object:
    if isinstance(value, (int, float)) or value is None:
        return value
    text = str(value)
    cleaned = SECRET_PARAMETERS.sub(REDACTED, text)
    return value if cleaned == text else cleaned


def configure_logging(level: str) -> None:
    """One handler at the root, redacting; libraries' loggers (uvicorn's included) propagate to it."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s", force=True)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecrets())
