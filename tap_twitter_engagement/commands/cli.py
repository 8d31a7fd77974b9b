"""What the companion commands share: click, with a bad command line as one line that shows no
value."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

#: Both commands answer ``-h`` as well as ``--help``.
CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"]}
#: click quotes stray arguments ("Got unexpected extra argument (...)"): one may be a secret.
STRAY = "Got an unexpected argument (not shown: it may be a secret)."


def run(
    command: click.Command,
    argv: Sequence[str] | None,
    report: Callable[[str], object],
    obj: object = None,
) -> int:
    """``command`` on ``argv`` (default: the process's arguments): its exit code.

    Not click's standalone mode, which prints the usage and exits 2, quotes stray arguments and
    turns Ctrl-C into "Aborted!": here a usage mistake is one line given to ``report`` and exit
    code 1. Stray arguments are refused without being shown; click's other messages name an
    option, not its value, as long as no option has a type that refuses values (a choice or a
    number would quote the value refused). The command's own exceptions, KeyboardInterrupt
    included, reach the caller.
    """
    args = list(sys.argv[1:] if argv is None else argv)  # click consumes the list it is given
    name = command.name or ""
    try:
        with command.make_context(name, args, obj=obj, allow_extra_args=True) as ctx:
            if ctx.args:
                raise click.UsageError(STRAY, ctx)
            return int(command.invoke(ctx))
    except click.exceptions.Exit as exc:  # --help, printed
        return exc.exit_code
    except click.UsageError as exc:
        report(f"{exc.format_message()} See {name} --help.")
        return 1
