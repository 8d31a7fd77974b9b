"""No credential in any output: the secret values of a run, and a logging filter that masks them.

The tap's own messages never name a secret's value; this is the net under them, for what a
library puts in an exception or a log line (a header with a malformed token, a URL, a
traceback), whatever the value holds (spaces, line breaks, quotes).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from typing_extensions import override

MASK = "***"
#: Shorter values are not masked: masking every "ab" in the logs would hide everything else.
MIN_LENGTH = 4
_secrets: set[str] = set()


def register(values: Iterable[Any]) -> None:
    """Remember secret values, with the forms they take when quoted, escaped or encoded."""
    for value in values:
        if not isinstance(value, str):
            continue
        forms = {
            value,
            value.strip(),
            repr(value)[1:-1],
            json.dumps(value)[1:-1],
            quote(value, safe=""),
            quote_plus(value),
        }
        _secrets.update(form for form in forms if len(form) >= MIN_LENGTH)


def redact(text: str) -> str:
    """``text`` with every known secret value replaced by ``***``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message and traceback before any handler formats it."""

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        if not _secrets:
            return True
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(text)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class OneLineFilter(logging.Filter):
    """Drops the SDK's "An unhandled error occurred while syncing" line: the tap always ends a
    failed run with its own line naming the cause and the fix, and one line is what a user
    should read (the SDK also logs it for the record limit of ``--test``, which is no error)."""

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("An unhandled error occurred while syncing")


_FILTERS = (RedactingFilter(), OneLineFilter())


def install() -> None:
    """Put the filters on every handler configured so far (the SDK's console handlers)."""
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            for log_filter in _FILTERS:
                if log_filter not in handler.filters:
                    handler.addFilter(log_filter)
