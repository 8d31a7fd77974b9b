"""The tap's settings: JSON schema (mirroring Domo's Details pane) and the checks a schema can't do.

Every check raises :class:`ConfigError` naming the setting and the fix, and never shows the value
of a secret setting: jsonschema's own messages quote values, so they are rewritten here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from singer_sdk import typing as th

from tap_twitter_engagement.dates import DEFAULTS as DATE_DEFAULTS
from tap_twitter_engagement.dates import DURATIONS, MODES, history_floor, resolve_period
from tap_twitter_engagement.errors import ConfigError
from tap_twitter_engagement.metrics import HISTORICAL_METRICS, TOTALS_METRICS
from tap_twitter_engagement.rollup import COLUMNS, validate_group_by

if TYPE_CHECKING:
    from jsonschema import ValidationError

REQUIRED_SECRETS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
SECRETS = (*REQUIRED_SECRETS, "bearer_token")
DEFAULT_GROUP_BY = ["tweet.id", "engagement.type", "engagement.day"]
#: Days back beyond this are certainly a mistake (the API serves the last 365 days).
MAX_DAYS_BACK = 3650
_URL_SETTINGS = {
    "api_url": "https://data-api.twitter.com",
    "timeline_api_url": "https://api.twitter.com",
}


def _mode(name: str, what: str) -> th.Property[Any]:
    return th.Property(
        name,
        th.StringType,
        default=DATE_DEFAULTS[name],
        allowed_values=list(MODES),
        title=f"{what} mode",
        description=f"`specific`: a calendar date; `relative`: N days back from "
        f"today (UTC). Domo: {what}.",
    )


def _days_back(name: str, what: str) -> th.Property[Any]:
    return th.Property(
        name,
        th.IntegerType(minimum=0, maximum=MAX_DAYS_BACK),
        default=DATE_DEFAULTS[name],
        title=what,
        description=f"{what}, in days before today (UTC): 0 = today, "
        "1 = yesterday. Used when the mode is `relative`.",
    )


def _date(name: str, what: str) -> th.Property[Any]:
    return th.Property(
        name,
        th.DateType,
        title=what,
        description=f"{what} as YYYY-MM-DD (UTC). Required when the mode is `specific`.",
    )


CONFIG_SCHEMA: dict[str, Any] = th.PropertiesList(
    *(
        th.Property(
            name,
            th.StringType(min_length=1),
            required=True,
            secret=True,
            title=title,
            description=description,
        )
        for name, title, description in (
            (
                "consumer_key",
                "Consumer key",
                "API key of the X app approved for the Engagement API.",
            ),
            ("consumer_secret", "Consumer secret", "API key secret of that app."),
            ("access_token", "Access token", "OAuth 1.0a access token of the tweets' owner."),
            ("access_token_secret", "Access token secret", "Secret of that access token."),
        )
    ),
    th.Property(
        "bearer_token",
        th.StringType,
        secret=True,
        title="Bearer token",
        description="Optional app-only bearer token: engagement_totals then also reads "
        "the public metrics of listed tweets by other authors.",
    ),
    th.Property(
        "api_url",
        th.StringType,
        default="https://data-api.twitter.com",
        title="Engagement API URL",
        description="Base URL of the Enterprise Engagement API (the sandbox's URL to try "
        "the tap locally).",
    ),
    th.Property(
        "timeline_api_url",
        th.StringType,
        default="https://api.twitter.com",
        title="Timeline API URL",
        description="Base URL of the X API v2, used to list the account's recent tweets.",
    ),
    th.Property(
        "tweet_selection",
        th.StringType,
        default="recent",
        allowed_values=["recent", "manual"],
        title="Tweet selection",
        description="`recent`: the N most recent tweets of the authenticated account; "
        "`manual`: the ids in `tweet_ids`. Domo: Tweet Selection.",
    ),
    th.Property(
        "number_of_tweets",
        th.IntegerType(minimum=1, maximum=3200),
        default=100,
        title="Number of tweets",
        description="Recent mode: how many of the most recent tweets (1..3200). Domo: "
        "Number of Tweets.",
    ),
    th.Property(
        "tweet_ids",
        th.ArrayType(th.StringType(pattern=r"^[0-9]+$")),
        title="Tweet ids",
        description="Manual mode: tweet ids as strings of digits; any number, batched 25 "
        "per request. Domo: Tweets.",
    ),
    th.Property(
        "exclude_retweets",
        th.BooleanType,
        default=True,
        title="Exclude retweets",
        description="Recent mode: leave out the account's retweets.",
    ),
    th.Property(
        "exclude_replies",
        th.BooleanType,
        default=False,
        title="Exclude replies",
        description="Recent mode: leave out the account's replies (X then lists at most "
        "800 tweets).",
    ),
    th.Property(
        "engagement_types",
        th.ArrayType(th.StringType(allowed_values=list(HISTORICAL_METRICS))),
        default=list(HISTORICAL_METRICS),
        title="Engagement metrics",
        description="Metrics to extract; default all 17 the historical endpoint serves. Domo: "
        "Engagement Metrics.",
    ),
    th.Property(
        "group_by",
        th.ArrayType(th.StringType(allowed_values=list(COLUMNS))),
        default=DEFAULT_GROUP_BY,
        title="Group by",
        description="Ordered, unique subset of tweet.id, engagement.type, engagement.day, "
        "engagement.hour: the columns of each row; the tap sums exactly across "
        "batches and windows. Domo: Group By.",
    ),
    th.Property(
        "metrics_layout",
        th.StringType,
        default="long",
        allowed_values=["long", "wide"],
        title="Metrics layout",
        description="`long`: engagement_type and engagement_count columns; `wide`: one "
        "integer column per metric (group_by must contain engagement.type).",
    ),
    th.Property(
        "duration",
        th.StringType,
        default=DATE_DEFAULTS["duration"],
        allowed_values=list(DURATIONS),
        title="Duration",
        description="`single_date` (one day) or `date_range` (start day through end day, "
        "both included). Domo: Duration.",
    ),
    _mode("report_date_mode", "Report date"),
    _date("report_date", "Report date"),
    _days_back("days_back", "Days back (single date)"),
    _mode("start_date_mode", "Start date"),
    _date("start_date", "Start date"),
    _days_back("days_back_to_start_from", "Days back to start from"),
    _mode("end_date_mode", "End date"),
    _date("end_date", "End date"),
    _days_back("days_back_to_end_at", "Days back to end at"),
    th.Property(
        "lookback_days",
        th.IntegerType(minimum=0, maximum=365),
        default=3,
        title="Lookback days",
        description="Incremental runs re-read this many days before the bookmark, because "
        "recent counts still change.",
    ),
    th.Property(
        "request_timeout",
        th.IntegerType(minimum=1, maximum=3600),
        default=60,
        title="Request timeout",
        description="Seconds one HTTP request may take in all, from connecting to the last byte "
        "of the response.",
    ),
    th.Property(
        "max_retries",
        th.IntegerType(minimum=0, maximum=100),
        default=8,
        title="Max retries",
        description="Retries of a request after 5xx, 429, timeouts, resets or unreadable "
        "bodies, with exponential backoff.",
    ),
    th.Property(
        "retry_wait_seconds",
        th.NumberType(minimum=0, maximum=3600),
        default=1.0,
        title="Retry wait",
        description="First wait before retrying a 5xx, timeout, reset "
        "or unreadable body; doubles per retry (capped at "
        "60 s), with jitter.",
    ),
    th.Property(
        "rate_limit_wait_seconds",
        th.NumberType(minimum=0, maximum=3600),
        default=60.0,
        title="Rate-limit wait",
        description="Wait after a 429 that names no reset time (the limits are per minute).",
    ),
    th.Property(
        "max_concurrent_requests",
        th.IntegerType(minimum=1, maximum=32),
        default=4,
        title="Max concurrent requests",
        description="Requests in flight at once (1 = sequential). Output and state are "
        "the same whatever the value.",
    ),
    th.Property(
        "max_requests_per_minute",
        th.IntegerType(minimum=1, maximum=1_000_000),
        title="Max requests per minute",
        description="Pace requests to this many per minute and endpoint (your "
        "contract's limit). Unset: follow the API's x-per-minute-* "
        "headers only.",
    ),
    th.Property(
        "max_requests_per_second",
        th.IntegerType(minimum=1, maximum=1000),
        title="Max requests per second",
        description="Pace requests to this many per second and endpoint (your contract's "
        "per-second limit, if it has one). Unset: follow the API's x-per-second-* headers only.",
    ),
    th.Property(
        "max_wait_seconds",
        th.NumberType(minimum=1, maximum=86400),
        default=300.0,
        title="Max wait",
        description="The longest the tap waits for anything (a rate-limit reset, a retry); a "
        "longer wait gives the request up and ends the run, with a state to resume from.",
    ),
).to_dict()


@dataclass(frozen=True)
class Settings:
    """The settings of a run, read once from the validated config; defaults come from the schema.

    Everything downstream reads these fields, never the raw config, so each default is stated
    once (in ``CONFIG_SCHEMA``) and each value has its type.
    """

    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    access_token_secret: str = field(repr=False)
    bearer_token: str | None = field(repr=False)
    api_url: str
    timeline_api_url: str
    tweet_selection: str
    number_of_tweets: int
    tweet_ids: tuple[str, ...]
    exclude_retweets: bool
    exclude_replies: bool
    engagement_types: tuple[str, ...]
    group_by: tuple[str, ...]
    metrics_layout: str
    duration: str
    report_date_mode: str
    report_date: str | None
    days_back: int
    start_date_mode: str
    start_date: str | None
    days_back_to_start_from: int
    end_date_mode: str
    end_date: str | None
    days_back_to_end_at: int
    lookback_days: int
    request_timeout: int
    max_retries: int
    retry_wait_seconds: float
    rate_limit_wait_seconds: float
    max_concurrent_requests: int
    max_requests_per_minute: int | None
    max_requests_per_second: int | None
    max_wait_seconds: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """Typed settings from a config the schema accepted (absent or null: the default)."""
        properties = CONFIG_SCHEMA["properties"]
        values: dict[str, Any] = {}
        for item in fields(cls):
            value = config.get(item.name)
            if value is None:
                value = properties[item.name].get("default")
            if value is None and item.name == "tweet_ids":
                value = ()
            if isinstance(value, list):
                value = tuple(value)
            if item.name in _URL_SETTINGS and isinstance(value, str):
                value = value.strip().rstrip("/")
            values[item.name] = value
        return cls(**values)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every credential value set, for masking in logs."""
        return tuple(v for v in (getattr(self, n) for n in SECRETS) if isinstance(v, str) and v)

    @property
    def wide(self) -> bool:
        return self.metrics_layout == "wide"

    def as_mapping(self) -> dict[str, Any]:
        """The settings as a plain mapping (for the date rules, which read it by name)."""
        return asdict(self)


#: jsonschema keywords whose messages name only properties or schema values, never the value.
_VALUE_FREE = {"required", "dependentRequired", "additionalProperties", "const", "propertyNames"}


def _describe(error: ValidationError) -> str:
    """A value-free sentence for a jsonschema error, with what to do."""
    keyword, expected = error.validator, cast("Any", error.validator_value)
    if keyword == "type":
        kinds = [k for k in (expected if isinstance(expected, list) else [expected]) if k != "null"]
        return f"must be {' or '.join(kinds)}; fix the value's type"
    if keyword == "enum":
        return f"is not allowed; use one of: {', '.join(str(v) for v in expected if v)}"
    if keyword == "minLength":
        return "is empty; set it"
    if keyword == "pattern":
        return 'must be a string of digits, like "1785000000000000001"'
    if keyword == "minimum":
        return f"must be at least {expected}"
    if keyword == "maximum":
        return f"must be at most {expected}"
    return f"fails the '{keyword}' rule of the settings schema"


def _clean(value: str) -> bool:
    """A credential is one token: no whitespace or control character anywhere in it."""
    return value.isprintable() and not any(c.isspace() for c in value)


def check_url(name: str, value: Any, example: str) -> str:
    """An http(s) base URL with a host, without query or fragment; returned without a slash."""
    hint = f"use a base URL such as {example}"
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(name, f"is empty; {hint}")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https"):
        raise ConfigError(name, f"{value!r} is not an http(s) URL; {hint}")
    if not parts.hostname:
        raise ConfigError(name, f"{value!r} has no host; {hint}")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ConfigError(name, f"{value!r} has an invalid port; {hint}") from None
    if parts.query or parts.fragment or not value.isprintable() or " " in value.strip():
        raise ConfigError(name, f"{value!r} is not a plain base URL; {hint}")
    return value.strip().rstrip("/")


def schema_error(error: ValidationError) -> ConfigError:
    """Turn a jsonschema error into a ConfigError that names the setting and never its value."""
    path = [str(p) for p in error.path]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "a setting"
        return ConfigError(missing, "is required and not set; set it (see README: Settings)")
    setting = path[0] if path else "config"
    if error.validator in _VALUE_FREE:
        return ConfigError(setting, error.message)
    if setting == "engagement_types" and error.instance in TOTALS_METRICS:
        return ConfigError(
            setting,
            f"{error.instance} is not served by the historical endpoint "
            "(only by /totals); remove it",
        )
    where = f"item {int(path[1]) + 1} " if len(path) > 1 and path[1].isdigit() else ""
    shown = (
        ""
        if setting in SECRETS or isinstance(error.instance, (dict, list))
        else (f" ({error.instance!r})")
    )
    return ConfigError(setting, f"{where}{shown.strip()} {_describe(error)}".strip())


def check(config: Mapping[str, Any], now: datetime, *, credentials_required: bool = True) -> None:
    """Cross-setting checks, after the schema passed. Raises the first :class:`ConfigError`."""
    for name in REQUIRED_SECRETS:
        given = config.get(name) is not None
        if (given or credentials_required) and not str(config.get(name) or "").strip():
            raise ConfigError(name, "is empty; set it (see README: Settings)")
    for name in SECRETS:
        value = config.get(name)
        if isinstance(value, str) and value and not _clean(value):
            raise ConfigError(
                name,
                "contains spaces, a line break or another control character (a copy-paste "
                "slip?); set it to the value alone",
            )
    for name, example in _URL_SETTINGS.items():
        check_url(name, config.get(name), example)
    for index, tweet_id in enumerate(config.get("tweet_ids") or []):
        if not (isinstance(tweet_id, str) and tweet_id.isascii() and tweet_id.isdigit()):
            raise ConfigError(
                "tweet_ids",
                f'item {index + 1} must be a string of digits, like "1785000000000000001" '
                "(no spaces or line breaks)",
            )
    if config.get("tweet_selection") == "manual" and not config.get("tweet_ids"):
        raise ConfigError(
            "tweet_ids",
            "tweet_selection is 'manual' but no tweet ids are listed; "
            "list them, or use tweet_selection 'recent'",
        )
    if not config.get("engagement_types"):
        raise ConfigError(
            "engagement_types", "is empty; list one or more of: " + ", ".join(HISTORICAL_METRICS)
        )
    duplicates = [
        m for i, m in enumerate(config["engagement_types"]) if m in config["engagement_types"][:i]
    ]
    if duplicates:
        raise ConfigError("engagement_types", f"{duplicates[0]} is listed twice; list each once")
    group_by = validate_group_by(config.get("group_by", DEFAULT_GROUP_BY))
    if config.get("metrics_layout") == "wide" and "engagement.type" not in group_by:
        raise ConfigError(
            "metrics_layout",
            "'wide' needs engagement.type in group_by (one "
            "column per metric); add it, or use 'long'",
        )
    resolve_period(config, now, history_floor(now))
