"""Errors the user can fix: one line on stderr, exit code 1, no traceback, no secret.

They are ``click`` exceptions because click's ``main()`` catches those on every CLI path (a sync,
``--discover`` and ``--test``, which the SDK runs as option callbacks) and exits with their code;
``show`` routes the line through logging so it looks like every other tap message.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import IO, Any

import click
from typing_extensions import override

LOGGER_NAME = "tap-twitter-engagement"


class TapError(click.ClickException):
    """A failure with one actionable sentence; ``str()`` is what the user reads."""

    exit_code = 1

    @override
    def show(self, file: IO[Any] | None = None) -> None:
        logging.getLogger(LOGGER_NAME).error("%s", self.format_message())


class ConfigError(TapError, ValueError):
    """A setting has a value the tap cannot use.

    ``message`` must say both what is wrong and what to do instead. It must never echo a
    credential: the text ends up in logs and CI output.
    """

    def __init__(self, setting: str, reason: str) -> None:
        super().__init__(f"{setting}: {reason}")
        self.setting = setting
        self.reason = reason

    @override
    def __str__(self) -> str:
        return f"{self.setting}: {self.reason}"

    @override
    def format_message(self) -> str:
        return f"Invalid setting {self}"


class StateError(TapError):
    """The state passed with ``--state`` (or stored by Meltano) cannot be used as it is."""

    @override
    def format_message(self) -> str:
        return (
            f"Invalid state: {self.message}. Fix the state file, or clear it (for Meltano: "
            "`meltano state clear <state id>`) to read the configured range again."
        )


class InputError(TapError):
    """A file given on the command line (config, state, catalog) cannot be used."""

    def __init__(self, what: str, message: str) -> None:
        super().__init__(f"Invalid {what}: {message}")


class TapHTTPError(TapError):
    """A request the API refused, or one the tap gave up on; ``str()`` is the line to show."""


class AccessRefused(TapHTTPError):  # noqa: N818 - reads as what happened
    """The API refused an account's own credentials or access (401, or a 403 that is not about
    some tweets): a failure of that account, which the run reports while the others go on.

    ``str()`` is the line for the single-account form; ``status`` and ``text`` let the run
    name an ``accounts`` entry instead.
    """

    def __init__(self, message: str, status: int, text: str) -> None:
        super().__init__(message)
        self.status = status
        self.text = text


class AccountsFailed(TapError):  # noqa: N818 - reads as what happened
    """Some accounts failed while the others completed: one line per failed account."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines

    @override
    def show(self, file: IO[Any] | None = None) -> None:
        for line in self.lines:
            logging.getLogger(LOGGER_NAME).error("%s", line)


class OutputClosed(TapError):  # noqa: N818 - reads as what happened
    """stdout cannot take the output: its reader stopped reading (a broken pipe: the target
    exited, or ``| head`` had enough), or it was closed (``>&-``) before the start.

    Left alone, click turns a broken pipe into a silent exit 1 and Python adds "Exception
    ignored ... BrokenPipeError" at exit; this is one line saying what happened and what it
    means for the data.
    """


#: The line for a stdout closed before the start: Python then sets ``sys.stdout`` to None,
#: print() drops everything silently and the msgspec writer fails on ``.buffer``.
STDOUT_CLOSED = (
    "stdout is closed, so nothing was written; run again with stdout open (piped to a target "
    "or redirected to a file)."
)


def broken_pipe(meaning: str) -> OutputClosed:
    """The error for a broken pipe on stdout, after pointing fd 1 at the null device (as Python's
    docs recommend) so that flushing what is still buffered, at exit, cannot fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):  # no fd 1 to redirect
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    return OutputClosed(meaning)


class RefusedTweets(Exception):  # noqa: N818 - a condition the streams handle, not a bug
    """The API refused a whole batch because of some of its ids (other author, protected).

    ``ids`` are the ids it named, empty when it named none (the caller then bisects).
    """

    def __init__(self, reason: str, ids: list[str], message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.ids = ids


class Interrupted(Exception):  # noqa: N818 - the run was asked to stop, not a failure
    """The run is stopping (SIGTERM or SIGINT): every wait ends at once."""


class WaitTooLong(Exception):  # noqa: N818 - turned into a one-line give-up by the client
    """A wait longer than ``max_wait_seconds`` was asked for."""

    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(f"{reason} asks to wait {seconds:.0f} s")
        self.seconds = seconds
        self.reason = reason
