"""The sandbox's command line on click: its defaults are the constructors', a bad option is
click's one ``Error:`` line and exit code 2, and ``--help`` keeps the option groups."""

from __future__ import annotations

import inspect
from dataclasses import fields

import pytest

from twitter_engagement_sandbox import Behaviour, Faults, Sandbox
from twitter_engagement_sandbox.cli import help_text, parse_args


def test_the_defaults_are_the_constructors():
    options = vars(parse_args([]))
    signature = inspect.signature(Sandbox.__init__).parameters
    shared = set(options) & set(signature)
    assert {"host", "port", "seed", "tweets", "accounts", "revision_hours"} <= shared
    assert {name: options[name] for name in shared} == {
        name: signature[name].default for name in shared
    }
    faults = {f.name for f in fields(Faults)} & set(options)
    assert {name: options[name] for name in faults} == {
        name: getattr(Faults(), name) for name in faults
    }
    # --accept-numeric-ids is a no-op kept for old scripts; --strict-ids sets the field.
    behaviour = {f.name for f in fields(Behaviour)} & set(options) - {"accept_numeric_ids"}
    assert {name: options[name] for name in behaviour} == {
        name: getattr(Behaviour(), name) for name in behaviour
    }
    assert options["strict_ids"] is not Behaviour().accept_numeric_ids


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bogus"], "No such option '--bogus'"),
        (["--port", "abc"], "Invalid value for '--port': 'abc' is not a valid integer."),
        (["--accounts", "0"], "Invalid value for '--accounts': 0 is not 1 or more"),
        (["--fail-rate", "2"], "Invalid value for '--fail-rate': 2 is not a fraction between"),
        (["--history-floor", "1999"], "Invalid value for '--history-floor'"),
    ],
)
def test_a_bad_option_is_one_error_line_and_exit_code_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        parse_args(argv)
    assert exited.value.code == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "Error" in line]
    assert len(errors) == 1
    assert errors[0].startswith(f"Error: {message}")


def test_help_keeps_the_groups_and_h(capsys):
    text = help_text()
    for heading in ("Options:", "Faults:", "Hostile 200 answers:", "Behaviour where"):
        assert f"\n{heading}" in text
    assert "-h, --help" in text
    with pytest.raises(SystemExit) as exited:
        parse_args(["-h"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == text + "\n"
