"""The tap's inputs read with one clear line per mistake: config files or ENV, state, catalog.

The SDK reads these with ``json.load`` and lets every mistake out as a traceback; a user who
passes an empty state file or a config list deserves one line naming the file, the cause and
the fix. Nothing here echoes a value from a file: values may be secrets.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from tap_twitter_engagement.coverage import Coverage, CoverageError
from tap_twitter_engagement.errors import ConfigError, InputError, StateError

#: The prefix of every setting's variable (Meltano's naming): read here, written by
#: ``tap-twitter-engagement-auth --meltano``.
ENV_PREFIX = "TAP_TWITTER_ENGAGEMENT_"
_TRUE = {"true", "1", "yes", "on", "t", "y"}
_FALSE = {"false", "0", "no", "off", "f", "n", ""}


def read_json(path: str | Path, what: str) -> Any:
    """A JSON document from a file, or an :class:`InputError` saying why it cannot be read."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(what, f"{file} does not exist; pass the path of a JSON file") from None
    except IsADirectoryError:
        raise InputError(what, f"{file} is a directory; pass the path of a JSON file") from None
    except PermissionError:
        raise InputError(what, f"{file} cannot be read (permission denied)") from None
    except UnicodeDecodeError:
        raise InputError(what, f"{file} is not UTF-8 text; pass a JSON file") from None
    if not text.strip():
        raise InputError(what, f"{file} is empty; it must hold a JSON object")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            what, f"{file} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None


def read_json_object(path: str | Path, what: str) -> dict[str, Any]:
    value = read_json(path, what)
    if not isinstance(value, dict):
        raise InputError(what, f"{path} holds a JSON {_kind(value)}, not an object")
    return value


def _kind(value: Any) -> str:
    kinds = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


# --- config --------------------------------------------------------------------------------------


def read_config(paths: Sequence[str], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Config files merged in order; ``ENV`` merges ``TAP_TWITTER_ENGAGEMENT_*`` variables
    (and a ``.env`` file in the current directory) at that point."""
    config: dict[str, Any] = {}
    for path in paths:
        if path == "ENV":
            config.update(config_from_env(schema))
        else:
            config.update(read_json_object(path, "config"))
    return config


def config_from_env(
    schema: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    dotenv: str | Path | None = ".env",
) -> dict[str, Any]:
    """Settings from ``TAP_TWITTER_ENGAGEMENT_<SETTING>`` variables, typed by the schema.

    Numbers may be written as text (``"30"``, ``"0.5"``), booleans as true/false/1/0/yes/no;
    anything else is a :class:`ConfigError` naming the variable. A ``.env`` file in the current
    directory is read too (the environment wins), as Meltano projects keep credentials there.
    """
    values: dict[str, str] = {}
    if dotenv is not None and Path(dotenv).is_file():
        values.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    config: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        variable = ENV_PREFIX + name.upper().replace("-", "_")
        if variable in values:
            config[name] = _typed(variable, values[variable], prop)
    return config


def _types(prop: Mapping[str, Any]) -> set[str]:
    kinds = prop.get("type", [])
    found = {kinds} if isinstance(kinds, str) else set(kinds)
    for option in prop.get("anyOf", []) + prop.get("oneOf", []):
        found |= _types(option)
    return found - {"null"}


def _typed(variable: str, text: str, prop: Mapping[str, Any]) -> Any:
    kinds = _types(prop)
    value = text.strip()
    if "integer" in kinds:
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(variable, "is not a whole number; write digits, e.g. 30") from None
        if not number.is_integer():
            raise ConfigError(variable, "is not a whole number; write digits, e.g. 30")
        return int(number)
    if "number" in kinds:
        try:
            return float(value)
        except ValueError:
            raise ConfigError(variable, "is not a number; write e.g. 0.5 or 30") from None
    if "boolean" in kinds:
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ConfigError(variable, "is neither true nor false; write true or false")
    if "array" in kinds or "object" in kinds:
        of_objects = "object" in _types(prop.get("items", {}))
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            plain_list = "array" in kinds and "object" not in kinds and not of_objects
            if plain_list and not value.startswith("["):
                return [item.strip() for item in value.split(",") if item.strip()]
            example = (
                '[{"name": "brand", "access_token": "...", "access_token_secret": "..."}]'
                if of_objects
                else '["a", "b"]'
            )
            raise ConfigError(
                variable, f"is not valid JSON; write a JSON array such as {example}"
            ) from None
        return parsed
    return text


# --- state ---------------------------------------------------------------------------------------


def read_state(path: str | Path) -> dict[str, Any]:
    """A state file, checked by :func:`check_state`."""
    value = read_json(path, "state")
    if isinstance(value, dict) and set(value) == {"singer_state"}:  # `meltano state get`
        value = value["singer_state"]
    return check_state(value)


def check_state(state: Any) -> dict[str, Any]:
    """The state's structure, and what ``historical_engagement`` keeps in it, are usable.

    A state is an object; ``bookmarks`` an object of objects. For ``historical_engagement``
    the coverage must decode and ``replication_key_value`` must be a ``YYYY-MM-DD`` day; a day
    in the future is not refused here: the stream ignores it with a WARNING.
    """
    if not isinstance(state, dict):
        raise StateError(f"it holds a JSON {_kind(state)}, not an object")
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        raise StateError(f"'bookmarks' is a JSON {_kind(bookmarks)}, not an object")
    for stream, bookmark in bookmarks.items():
        if not isinstance(bookmark, dict):
            raise StateError(f"the bookmark of {stream} is a JSON {_kind(bookmark)}, not an object")
        partitions = bookmark.get("partitions", [])
        if not isinstance(partitions, list) or not all(isinstance(p, dict) for p in partitions):
            raise StateError(f"the partitions of {stream} are not a list of objects")
    for stream, bookmark in bookmarks.items():  # every shape of the historical stream
        if stream.startswith("historical_engagement"):
            for part in [bookmark, *bookmark.get("partitions", [])]:
                _check_historical(stream, part)
    return state


def account_state(state: Mapping[str, Any], stream: str, account_id: str) -> dict[str, Any]:
    """A copy of one account's partition state of ``stream`` in a (checked) Singer state, as
    the SDK keeps it (``bookmarks.<stream>.partitions[].context.account_id``); empty when the
    account has none, or when the stream's state is from before accounts (a sync then reads
    the whole period once)."""
    bookmark = state.get("bookmarks", {}).get(stream, {})
    for partition in bookmark.get("partitions", []):
        if partition.get("context", {}).get("account_id") == account_id:
            return copy.deepcopy(partition)
    return {}


def _check_historical(stream: str, bookmark: Mapping[str, Any]) -> None:
    value = bookmark.get("replication_key_value")
    if value is not None:
        ok = isinstance(value, str) and len(value) == 10
        try:
            ok = ok and bool(date.fromisoformat(value))
        except ValueError:
            ok = False
        if not ok:
            raise StateError(f"{stream}'s replication_key_value {value!r} is not a YYYY-MM-DD day")
    if "coverage" in bookmark:
        try:
            Coverage.decode(bookmark["coverage"])
        except CoverageError as exc:
            raise StateError(f"{stream}: {exc}") from None


# --- catalog -------------------------------------------------------------------------------------


def read_catalog(path: str | Path) -> dict[str, Any]:
    """A catalog file, checked by :func:`check_catalog`."""
    return check_catalog(read_json(path, "catalog"))


def check_catalog(catalog: Any) -> dict[str, Any]:
    """A catalog is an object whose ``streams`` each have a ``tap_stream_id`` and a schema."""
    fix = "rediscover it with --discover"
    if not isinstance(catalog, dict):
        raise InputError("catalog", f"it holds a JSON {_kind(catalog)}, not an object; {fix}")
    streams = catalog.get("streams")
    if not isinstance(streams, list):
        raise InputError("catalog", f"it has no 'streams' list; {fix}")
    for index, entry in enumerate(streams):
        if not isinstance(entry, dict) or not isinstance(entry.get("tap_stream_id"), str):
            raise InputError("catalog", f"stream {index + 1} has no tap_stream_id; {fix}")
        name = entry["tap_stream_id"]
        if not isinstance(entry.get("schema"), dict):
            raise InputError("catalog", f"stream {name} has no schema object; {fix}")
        metadata = entry.get("metadata", [])
        if not isinstance(metadata, list) or not all(isinstance(m, dict) for m in metadata):
            raise InputError("catalog", f"the metadata of stream {name} is not a list; {fix}")
    return catalog
