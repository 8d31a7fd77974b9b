"""The tap: its settings read once, the run they drive, the streams, and the command line.

Every input a user gives (config files or ENV, state, catalog) is read with one clear line per
mistake (``inputs``), the settings are checked and typed once (``settings``), and one
:class:`~tap_twitter_engagement.run.Run` holds what the streams share. ``main`` is the console
script: whatever fails ends in one line, exit code 1, with every credential masked.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import signal
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePath
from types import FrameType, TracebackType
from typing import IO, TYPE_CHECKING, Any, ClassVar

import click
from singer_sdk import Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import MappingError
from singer_sdk.plugin_base import _ConfigInput as ConfigInput  # the SDK's --config value
from singer_sdk.singerlib import (
    Catalog,
    Message,
    MetadataMapping,
    Schema,
    SingerMessageType,
    StateMessage,
)
from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR, extend_validator_with_defaults
from typing_extensions import override

from tap_twitter_engagement import redact
from tap_twitter_engagement.errors import (
    LOGGER_NAME,
    STDOUT_CLOSED,
    ConfigError,
    OutputClosed,
    broken_pipe,
)
from tap_twitter_engagement.inputs import (
    check_catalog,
    check_state,
    config_from_env,
    read_catalog,
    read_config,
    read_state,
)
from tap_twitter_engagement.pipeline import one_malloc_arena
from tap_twitter_engagement.run import Run
from tap_twitter_engagement.settings import (
    CONFIG_SCHEMA,
    Settings,
    check,
    schema_error,
    secret_values,
)
from tap_twitter_engagement.streams import (
    AccountsStream,
    Engagement28hrStream,
    EngagementTotalsStream,
    HistoricalEngagementStream,
    SkippedTweetsStream,
    TrackedStream,
    TweetsStream,
    historical_schema_for,
)
from tap_twitter_engagement.streams.historical import DEFAULT_STREAM

if TYPE_CHECKING:
    from singer_sdk import Stream

_VALIDATOR = extend_validator_with_defaults(DEFAULT_JSONSCHEMA_VALIDATOR)

#: What a broken pipe on stdout means, by what was being written.
TARGET_STOPPED = (
    "The target stopped reading (broken pipe on stdout): the last STATE it received covers "
    "what it has; run again from that state to resume."
)
CATALOG_CUT = (
    "The reader of stdout stopped reading (broken pipe) before the catalog was complete; "
    "read all of it (e.g. --discover > catalog.json)."
)
ABOUT_CUT = (
    "The reader of stdout stopped reading (broken pipe) before the --about output was "
    "complete; read all of it."
)


class MessageWriter(MsgSpecWriter):
    """The msgspec writer, but a target that stops reading ends the run with one line, and
    RECORD messages are not flushed one by one.

    Every Singer message (a sync, ``--test``) goes through here, so this is the one place that
    knows a broken pipe means the target stopped reading, and not a socket of the client.
    A flush per record was a system call per record; records now go out as the buffer fills,
    and every other message (SCHEMA, STATE, BATCH) flushes what is buffered: STATE still
    reaches the target after its records, in the same stream, and never before them.
    """

    @override
    def write_message(self, message: Message) -> None:
        try:
            sys.stdout.buffer.write(self.format_message(message))
            if message.type != SingerMessageType.RECORD:
                sys.stdout.flush()
        except BrokenPipeError:
            raise broken_pipe(TARGET_STOPPED) from None


@contextlib.contextmanager
def writing_stdout(meaning: str) -> Iterator[None]:
    """Print to stdout in the block, flushed at its end: a reader that stops reading is one
    line saying ``meaning``, not click's silent exit 1 nor an "Exception ignored" at exit."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        raise broken_pipe(meaning) from None


class Stopped(SystemExit):
    """The run was stopped by a signal: exit 128 + the signal's number, after one line."""

    def __init__(self, signal_name: str, code: int) -> None:
        super().__init__(code)
        self.signal_name = signal_name


class TapTwitterEngagement(Tap):
    """Singer tap for X (Twitter) engagement metrics (``__doc__`` is set below)."""

    name = "tap-twitter-engagement"
    package_name = "tap-twitter-engagement"
    # A copy: the SDK adds its built-in settings (stream maps, ...) to this dict in place.
    config_jsonschema: ClassVar[dict[str, Any]] = copy.deepcopy(CONFIG_SCHEMA)
    message_writer_class = MessageWriter
    #: The catalog depends on the settings (group_by, metrics_layout).
    dynamic_catalog = True

    def __init__(
        self,
        *,
        config: dict[str, Any] | PurePath | str | list[PurePath | str] | None = None,
        catalog: PurePath | str | dict[str, Any] | Catalog | None = None,
        state: PurePath | str | dict[str, Any] | None = None,
        parse_env_config: bool = False,
        validate_config: bool = True,
        credentials_required: bool = True,
        **kwargs: Any,
    ) -> None:
        """Read and check every input first, so that any mistake is one clear line.

        ``credentials_required=False`` is for discovery: the catalog depends on ``group_by``
        and ``metrics_layout``, never on the credentials, so it works before they are set.
        """
        schema = self.full_config_schema()
        if config is None or isinstance(config, dict):
            values = dict(config or {})
        else:
            paths = config if isinstance(config, list) else [config]
            values = read_config([str(p) for p in paths], schema)
        if parse_env_config:
            values.update(config_from_env(schema))
        redact.register(secret_values(values))
        if validate_config:
            values = validated(
                values, schema, datetime.now(UTC), credentials_required=credentials_required
            )
        self.settings = Settings.from_config(values)
        self.run = Run(self.settings, logging.getLogger(LOGGER_NAME))
        if isinstance(catalog, str | PurePath):
            catalog = read_catalog(Path(catalog))
        elif isinstance(catalog, dict):
            catalog = check_catalog(catalog)
        if isinstance(state, str | PurePath):
            state = read_state(Path(state))
        super().__init__(
            config=values,
            catalog=catalog,
            state=state,
            parse_env_config=False,
            validate_config=False,
            **kwargs,
        )

    # Private, but the only way to stop the SDK validating a second time (with its own
    # messages, and warnings for a discovery without credentials): ours ran in __init__.
    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        return []

    @classmethod
    def full_config_schema(cls) -> dict[str, Any]:
        """The settings schema with the SDK's built-in settings (stream maps, flattening)."""
        schema = copy.deepcopy(cls.config_jsonschema)
        cls.append_builtin_config(schema)
        return schema

    @override
    def load_state(self, state: dict[str, Any]) -> None:
        """Check the state before the SDK merges it: a wrong shape is one clear line. The SDK
        keeps the partitions' dicts and updates them in place: work on a copy, never on the
        caller's state."""
        super().load_state(copy.deepcopy(check_state(state)))

    @override
    def setup_mapper(self) -> None:
        """Make a catalog from another configuration follow this one, before the SDK reads it."""
        if self.input_catalog is not None:
            reconcile_catalog(self.input_catalog, self.settings, self.logger)
        super().setup_mapper()

    @property
    @override
    def streams(self) -> dict[str, Stream]:
        """The SDK's streams, in its order (by name), but ``skipped_tweets`` last, in the very
        mapping the SDK caches and syncs in order: it reports what every other stream met."""
        streams = super().streams
        if list(streams)[-1:] != [SkippedTweetsStream.name] and SkippedTweetsStream.name in streams:
            skipped = streams.pop(SkippedTweetsStream.name)
            streams[SkippedTweetsStream.name] = skipped
        return streams

    @override
    def discover_streams(self) -> list[Stream]:
        return [
            HistoricalEngagementStream(self, self.run),
            EngagementTotalsStream(self, self.run),
            Engagement28hrStream(self, self.run),
            TweetsStream(self, self.run),
            SkippedTweetsStream(self, self.run),
            AccountsStream(self, self.run),
            TrackedStream(self, self.run),
        ]

    def sync_and_report(self) -> None:
        """``sync_all`` (final in the SDK), the last STATE once more, then, if some accounts
        failed while the others completed with their state, one line each and exit code 1.

        The SDK writes a STATE only when it changed, so a run whose last streams (``tracked``,
        ``tweets``, ``accounts``) write records and no new state would end on records; a target
        that emits only a STATE no record followed (target-jsonl) would then hand Meltano none
        of the run's state, and the next run would start from an older one.

        When the sync fails (the target stops reading, the API gives up, anything), the
        requests still in flight are of no use: stopping the run ends their waits and retries at
        once, so nothing more is asked and the exit does not wait for them.
        """
        self._check_streams()
        try:
            self.sync_all()
        except BaseException:
            self.run.stop.set()
            raise
        if self.state:
            self.write_message(StateMessage(value=self.state))
        self.run.raise_failures()

    def _check_streams(self) -> None:
        """The streams selected must be ones the configured API serves: Post analytics has
        no counterpart of the Engagement API's /totals and /28hr (README: Which API?)."""
        if self.settings.api != "post_analytics":
            return
        for name in (EngagementTotalsStream.name, Engagement28hrStream.name):
            if self.streams[name].selected:
                raise ConfigError(
                    "api",
                    f"is post_analytics, and the stream {name} is selected, which only the "
                    "Engagement API serves; deselect it (meltano select --rm), or use api "
                    "engagement_api",
                )

    # Private, but the only hook on SIGTERM/SIGINT: the SDK writes the last STATE and exits 0,
    # with workers still waiting. Stop every wait, then exit non-zero (see DEVELOPERS.md).
    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        self.run.stop.set()
        name = signal.Signals(signum).name
        with contextlib.suppress(SystemExit):  # the SDK writes the last STATE, then exits 0
            super()._handle_termination(signum, frame)
        raise Stopped(name, 128 + signum)

    # ------------------------------------------------------------------ command line
    @classmethod
    @override
    def cb_config(
        cls,
        ctx: click.Context,
        param: click.Option,
        value: tuple[str, ...],
    ) -> ConfigInput:
        """``--config`` files and ``ENV``, read with one clear line per mistake (``ENV``
        already merged in, so ``parse_env`` stays false)."""
        return ConfigInput(config=read_config(value, cls.full_config_schema()))

    @classmethod
    @override
    def cb_discover(
        cls,
        ctx: click.Context,
        param: click.Option,
        value: bool,
    ) -> None:
        """``--discover``: the catalog, from the settings that shape it; no credentials needed."""
        if not value:
            return
        config = ctx.params.get("config") or ConfigInput()
        tap = cls(config=config.config, credentials_required=False, setup_mapper=False)
        with writing_stdout(CATALOG_CUT):
            tap.run_discovery()
        ctx.exit()

    @classmethod
    @override
    def invoke(
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: ConfigInput | None = None,
        state: IO[str] | str | None = None,
        catalog: IO[str] | str | None = None,
        **kwargs: Any,
    ) -> None:
        """A sync; ``--state`` and ``--catalog`` are read here, with clear errors (paths: our
        command line makes them strings; an open file, the SDK's type, is read by its name)."""
        state, catalog = _path(state), _path(catalog)
        if about:
            with writing_stdout(ABOUT_CUT):
                cls.print_about(about_format)
            sys.exit(0)
        cls.print_version(print_fn=cls.logger.info)
        tap = cls(
            config=(config or ConfigInput()).config,
            state=None if state is None else read_state(state),
            catalog=None if catalog is None else read_catalog(catalog),
        )
        tap.sync_and_report()

    @classmethod
    @override
    def get_singer_command(cls) -> click.Command:
        """The SDK's command, with ``--state``/``--catalog`` as paths we read ourselves."""
        command = super().get_singer_command()
        for param in command.params:
            if param.name in ("state", "catalog"):
                param.type = click.STRING
        return command


def _path(value: IO[str] | str | None) -> str | None:
    return value if value is None or isinstance(value, str) else value.name


def validated(
    config: Mapping[str, Any],
    schema: Mapping[str, Any],
    now: datetime,
    *,
    credentials_required: bool = True,
) -> dict[str, Any]:
    """The config with schema defaults filled in, or the first problem as a ConfigError."""
    values = copy.deepcopy(dict(config))
    if not credentials_required:
        schema = {**schema, "required": []}
    for error in _VALIDATOR(schema).iter_errors(values):
        raise schema_error(error)
    check(values, now, credentials_required=credentials_required)
    return values


def reconcile_catalog(catalog: Catalog, settings: Settings, logger: logging.Logger) -> None:
    """Give the historical stream the name, schema and keys of the configuration, not the
    catalog's.

    Its name, columns and key properties follow ``group_by`` and ``metrics_layout``; a catalog
    discovered under other settings would announce keys that disagree with the records, and an
    upserting target would merge rows on the wrong key. An entry of another shape is renamed to
    this one's stream; the selection is kept.
    """
    name, schema, keys, replication_key = historical_schema_for(settings)
    entry = catalog.get_stream(name)
    if entry is None:
        entry = next(
            (e for e in catalog.streams if e.tap_stream_id.startswith(DEFAULT_STREAM)), None
        )
        if entry is None:
            return
    old_keys = list(entry.key_properties or entry.metadata.root.table_key_properties or [])
    old_columns = list((entry.schema.to_dict().get("properties") or {}).keys())
    if (
        entry.tap_stream_id == name
        and old_keys == keys
        and old_columns == list(schema["properties"])
    ):
        return
    logger.warning(
        "The catalog's %s was discovered under other settings (key properties %s, columns "
        "%s); using the configuration's (group_by %s, metrics_layout %s: stream %s, key "
        "properties %s). Rediscover the catalog to silence this.",
        entry.tap_stream_id,
        old_keys,
        old_columns,
        list(settings.group_by),
        settings.metrics_layout,
        name,
        keys,
    )
    selected = entry.metadata.root.selected
    metadata = MetadataMapping.get_standard_metadata(
        schema=schema,
        key_properties=keys,
        valid_replication_keys=[replication_key] if replication_key else None,
        replication_method="INCREMENTAL" if replication_key else "FULL_TABLE",
        selected_by_default=True,
    )
    metadata.root.selected = selected
    if entry.tap_stream_id != name:
        catalog.pop(entry.tap_stream_id, None)
        entry.tap_stream_id = entry.stream = name
        catalog[name] = entry
    entry.schema = Schema.from_dict(schema)
    entry.key_properties = keys
    entry.replication_key = replication_key
    entry.replication_method = None
    entry.metadata = metadata


# `--about` prints the class docstring inside an indented template: keep it on one line.
TapTwitterEngagement.__doc__ = (
    "Singer tap for the X (Twitter) Enterprise Engagement API, or X API v2 Post analytics "
    "(setting api). Streams: historical_engagement "
    "(selected by default: Domo's Historical Engagement report; another group_by or layout "
    "writes historical_engagement_by_<parts> or _wide), tracked (selected by default: what the "
    "configuration tracks), engagement_totals, engagement_28hr, tweets, skipped_tweets, "
    "accounts; one partition per account. Companion "
    "commands: tap-twitter-engagement-auth (the PIN flow for a tweet owner's access token), "
    "tap-twitter-engagement-plan (a dry run of a sync); a local emulator of the API, "
    "tap-twitter-engagement-sandbox, is a distribution of its own in the tap's repository."
)


def main(argv: Sequence[str] | None = None) -> None:
    """The console script: the SDK's command line, and one masked line for whatever fails."""
    one_malloc_arena()  # before any thread: memory bounded by memory_budget_mb (pipeline)
    command = TapTwitterEngagement.cli  # sets up the SDK's console logging
    redact.install()
    logger = logging.getLogger(LOGGER_NAME)
    if sys.stdout is None:  # fd 1 was closed at the start: every path would write nothing
        OutputClosed(STDOUT_CLOSED).show()
        sys.exit(1)
    try:
        command.main(args=list(argv) if argv is not None else None, standalone_mode=True)
    except Stopped as stopped:
        logger.error(
            "Stopped by %s: the last STATE covers what was written; run again to resume.",
            stopped.signal_name,
        )
        raise
    except MappingError as exc:
        cause = str(exc).rstrip(".")
        logger.error("%s", redact.redact(f"Invalid setting stream_maps: {cause}; fix the map"))
        sys.exit(1)
    except Exception as exc:  # the last line of defence: one line, no traceback
        logger.error("%s", one_line(exc))
        logger.debug("Traceback, for a bug report:", exc_info=exc)
        sys.exit(1)


def one_line(exc: BaseException) -> str:
    """What to tell the user about an exception nobody caught (masked, on one line)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if _raised_in(exc.__traceback__, ("simpleeval", "singer_sdk/mapper")):
        return redact.redact(
            f"Invalid setting stream_maps: an expression failed on a record "
            f"({type(exc).__name__}: {text}); fix the expression"
        )
    return redact.redact(
        f"Unexpected error ({type(exc).__name__}: {text}). Run again with "
        "TAP_TWITTER_ENGAGEMENT_LOGLEVEL=DEBUG to see where, and report it if it persists."
    )


def _raised_in(tb: TracebackType | None, places: tuple[str, ...]) -> bool:
    return any(
        any(place in frame.filename for place in places) for frame in traceback.extract_tb(tb)
    )


if __name__ == "__main__":
    main()
