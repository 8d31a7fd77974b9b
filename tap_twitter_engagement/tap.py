"""The tap: settings, their validation on every CLI path, the streams, and run-wide state."""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from singer_sdk import Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import Catalog, MetadataMapping, Schema
from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR, extend_validator_with_defaults

from tap_twitter_engagement import selection as select
from tap_twitter_engagement.client import Pacer, TwitterStream
from tap_twitter_engagement.settings import CONFIG_SCHEMA, DEFAULT_GROUP_BY, check, schema_error
from tap_twitter_engagement.streams import (
    Engagement28hrStream,
    EngagementTotalsStream,
    HistoricalEngagementStream,
    SkippedTweetsStream,
    TweetsStream,
    historical_schema_for,
)

if TYPE_CHECKING:
    from singer_sdk import Stream

_VALIDATOR = extend_validator_with_defaults(DEFAULT_JSONSCHEMA_VALIDATOR)


class TapTwitterEngagement(Tap):
    """Singer tap for the X (Twitter) Enterprise Engagement API (``__doc__`` is set below)."""

    name = "tap-twitter-engagement"
    package_name = "tap-twitter-engagement"
    # A copy: the SDK adds its built-in settings (stream maps, ...) to this dict in place.
    config_jsonschema = copy.deepcopy(CONFIG_SCHEMA)
    message_writer_class = MsgSpecWriter
    #: Validate the config under --discover too (the SDK only warns otherwise).
    dynamic_catalog = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._selection: select.Selection | None = None
        self._selection_lock = threading.Lock()
        self._metadata: dict[str, Mapping[str, Any]] | None = None
        self._metadata_lock = threading.Lock()
        #: Ids the API refused for a whole batch; later batches leave them out.
        self.refused_ids: set[str] = set()
        #: (tweet_id, endpoint, reason) of every id not (fully) served, in order seen.
        self.skipped: dict[tuple[str, str, str], datetime] = {}
        super().__init__(*args, **kwargs)
        TwitterStream.pacer = Pacer(self.config.get("max_requests_per_minute"))

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Schema first (filling defaults), then cross-setting checks; one line, no secrets."""
        schema = self.config_jsonschema
        self.append_builtin_config(schema)
        errors = [schema_error(e) for e in _VALIDATOR(schema).iter_errors(self._config)]
        if not errors:
            try:
                check(self._config, datetime.now(UTC))
            except ValueError as exc:  # ConfigError
                errors.append(exc)  # type: ignore[arg-type]
        if errors and raise_errors:
            raise errors[0]
        for error in errors:
            self.logger.warning("%s", error)
        return [str(e) for e in errors]

    def setup_mapper(self) -> None:
        """Make a catalog from another configuration follow this one, before the SDK reads it."""
        if self.input_catalog is not None:
            reconcile_catalog(self.input_catalog, self.config, self.logger)
        super().setup_mapper()

    def discover_streams(self) -> list[Stream]:
        return [
            HistoricalEngagementStream(self),
            EngagementTotalsStream(self),
            Engagement28hrStream(self),
            TweetsStream(self),
            SkippedTweetsStream(self),
        ]

    def load_streams(self) -> list[Stream]:
        """The SDK's order (by name), but skipped_tweets last: it reports what the others met."""
        return sorted(super().load_streams(), key=lambda s: s.name == SkippedTweetsStream.name)

    # ------------------------------------------------------------------ run-wide state
    def selection(self, stream: TwitterStream) -> select.Selection:
        """The tweets to query, resolved once per run and shared by every stream."""
        with self._selection_lock:
            if self._selection is None:
                config = self.config
                if config.get("tweet_selection", "recent") == "manual":
                    self._selection = select.manual(config.get("tweet_ids") or [])
                else:
                    self._selection = select.recent(
                        stream.get_json,
                        stream.timeline_url_base,
                        int(config.get("number_of_tweets", 100)),
                        exclude_retweets=bool(config.get("exclude_retweets", True)),
                        exclude_replies=bool(config.get("exclude_replies", False)),
                    )
                self.logger.info(
                    "Selected %d tweets (%s mode)",
                    len(self._selection.tweet_ids),
                    config.get("tweet_selection", "recent"),
                )
            return self._selection

    def tweet_metadata(self, stream: TwitterStream) -> dict[str, Mapping[str, Any]]:
        """v2 tweet objects of the selection, by id: the timeline pages in recent mode, one
        ``GET /2/tweets?ids=`` per 100 ids in manual mode (ids it cannot see are reported)."""
        chosen = self.selection(stream)
        with self._metadata_lock:
            if self._metadata is None:
                if chosen.tweets is not None:
                    self._metadata = dict(chosen.tweets)
                else:
                    found, errors = select.lookup(
                        stream.get_json, stream.timeline_url_base, chosen.tweet_ids
                    )
                    for error in errors:
                        reason = (
                            "protected"
                            if "Authorization" in str(error.get("title"))
                            else "unavailable"
                        )
                        tweet_id = str(error.get("resource_id") or error.get("value"))
                        self.skip([tweet_id], "tweets", reason, stream.logger, keep_querying=True)
                    self._metadata = {str(t["id"]): t for t in found}
            return self._metadata

    def skip(
        self,
        tweet_ids: list[str],
        endpoint: str,
        reason: str,
        logger: logging.Logger,
        *,
        keep_querying: bool = False,
    ) -> None:
        """Record ids the API did not (fully) serve; log each once with its reason."""
        for tweet_id in tweet_ids:
            key = (tweet_id, endpoint, reason)
            if key not in self.skipped:
                self.skipped[key] = datetime.now(UTC)
                logger.warning(
                    "Tweet %s skipped by %s: %s", tweet_id, endpoint, _REASONS.get(reason, reason)
                )
            if not keep_querying:
                self.refused_ids.add(tweet_id)


def reconcile_catalog(catalog: Catalog, config: Mapping[str, Any], logger: logging.Logger) -> None:
    """Give ``historical_engagement`` the schema and keys of the configuration, not the catalog's.

    Its columns and key properties follow ``group_by`` and ``metrics_layout``; a catalog
    discovered under other settings would announce keys that disagree with the records, and an
    upserting target would merge rows on the wrong key. The stream's selection is kept.
    """
    entry = catalog.get_stream(HistoricalEngagementStream.name)
    if entry is None:
        return
    schema, keys, replication_key = historical_schema_for(config)
    old_keys = list(entry.key_properties or entry.metadata.root.table_key_properties or [])
    old_columns = list((entry.schema.to_dict().get("properties") or {}).keys())
    if old_keys == keys and old_columns == list(schema["properties"]):
        return
    logger.warning(
        "The catalog's historical_engagement was discovered under other settings (key "
        "properties %s, columns %s); using the configuration's (group_by %s, metrics_layout "
        "%s: key properties %s). Rediscover the catalog to silence this.",
        old_keys,
        old_columns,
        list(config.get("group_by") or DEFAULT_GROUP_BY),
        config.get("metrics_layout", "long"),
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
    entry.schema = Schema.from_dict(schema)
    entry.key_properties = keys
    entry.replication_key = replication_key
    entry.replication_method = None
    entry.metadata = metadata


# `--about` prints the class docstring inside an indented template: keep it on one line.
TapTwitterEngagement.__doc__ = (
    "Singer tap for the X (Twitter) Enterprise Engagement API. Streams: historical_engagement "
    "(selected by default: Domo's Historical Engagement report), engagement_totals, "
    "engagement_28hr, tweets, skipped_tweets. Companion commands: tap-twitter-engagement-sandbox "
    "(a local emulator of the API), tap-twitter-engagement-auth (the PIN flow for a tweet "
    "owner's access token), tap-twitter-engagement-plan (a dry run of a sync)."
)

_REASONS = {
    "unavailable": "deleted or no longer public (unavailable_tweet_ids)",
    "protected": "protected account (400 Tweet ID(s) are unavailable)",
    "other_author": "authored by another account than the access token's (403)",
    "unsupported_video_views": "video older than 1800 days, no video_views",
    "unsupported_impressions_engagements": "older than 90 days, no impressions/engagements",
}


if __name__ == "__main__":
    TapTwitterEngagement.cli()
