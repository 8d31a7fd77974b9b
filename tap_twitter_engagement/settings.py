"""The tap's settings: JSON schema (mirroring Domo's Details pane) and the checks a schema can't do.

Every check raises :class:`ConfigError` naming the setting and the fix, and never shows the value
of a secret setting: jsonschema's own messages quote values, so they are rewritten here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from singer_sdk import typing as th

from tap_twitter_engagement.dates import (
    DEFAULT_HISTORY_DAYS,
    DURATIONS,
    MODES,
    history_floor,
    resolve_period,
)
from tap_twitter_engagement.dates import DEFAULTS as DATE_DEFAULTS
from tap_twitter_engagement.errors import ConfigError
from tap_twitter_engagement.metrics import HISTORICAL_METRICS, TOTALS_METRICS
from tap_twitter_engagement.rollup import COLUMNS, validate_group_by

if TYPE_CHECKING:
    from jsonschema import ValidationError

REQUIRED_SECRETS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
SECRETS = (*REQUIRED_SECRETS, "bearer_token")
TOKEN_SETTINGS = ("access_token", "access_token_secret")
#: What an ``accounts`` entry may set for itself; unset, the top-level value applies.
ACCOUNT_SETTINGS = (
    "tweet_selection",
    "number_of_tweets",
    "tweet_ids",
    "exclude_retweets",
    "exclude_replies",
)
DEFAULT_GROUP_BY = ["tweet.id", "engagement.type", "engagement.day"]
#: Days back beyond this are certainly a mistake (for older days, give a specific date).
MAX_DAYS_BACK = 3650
#: The most ``max_history_days`` may say: beyond 2014-09-01 whatever the date.
MAX_HISTORY_DAYS = 20000
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


def _selection_properties(*, shared: bool) -> list[th.Property[Any]]:
    """Domo's Tweet Selection settings: top-level (``shared``, with defaults) or inside an
    ``accounts`` entry, where an unset value falls back to the top-level one (so no default)."""

    def default(value: Any) -> dict[str, Any]:
        return {"default": value} if shared else {}

    return [
        th.Property(
            "tweet_selection",
            th.StringType,
            allowed_values=["recent", "manual"],
            title="Tweet selection",
            description="`recent`: the N most recent tweets of the authenticated account; "
            "`manual`: the ids in `tweet_ids`. Domo: Tweet Selection.",
            **default("recent"),
        ),
        th.Property(
            "number_of_tweets",
            th.IntegerType(minimum=1, maximum=3200),
            title="Number of tweets",
            description="Recent mode: how many of the most recent tweets (1..3200). Domo: "
            "Number of Tweets.",
            **default(100),
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
            title="Exclude retweets",
            description="Recent mode: leave out the account's retweets.",
            **default(True),
        ),
        th.Property(
            "exclude_replies",
            th.BooleanType,
            title="Exclude replies",
            description="Recent mode: leave out the account's replies (X then lists at most "
            "800 tweets).",
            **default(False),
        ),
    ]


def _token(name: str, title: str, description: str, *, required: bool) -> th.Property[Any]:
    return th.Property(
        name,
        th.StringType(min_length=1),
        required=required,
        secret=True,
        title=title,
        description=description,
    )


_TOKENS = (
    (TOKEN_SETTINGS[0], "Access token", "OAuth 1.0a access token of the tweets' owner."),
    (TOKEN_SETTINGS[1], "Access token secret", "Secret of that access token."),
)


CONFIG_SCHEMA: dict[str, Any] = th.PropertiesList(
    _token(
        "consumer_key",
        "Consumer key",
        "API key of the X app approved for the Engagement API; shared by every account.",
        required=True,
    ),
    _token("consumer_secret", "Consumer secret", "API key secret of that app.", required=True),
    *(_token(*token, required=False) for token in _TOKENS),
    th.Property(
        "accounts",
        th.ArrayType(
            th.ObjectType(
                th.Property(
                    "name",
                    th.StringType(min_length=1),
                    description="Names the account in logs and errors.",
                ),
                *(_token(*token, required=True) for token in _TOKENS),
                *_selection_properties(shared=False),
                additional_properties=False,
            )
        ),
        secret=True,
        title="Accounts",
        description="Several handles under this one app, instead of access_token and "
        "access_token_secret: a list of objects with access_token, access_token_secret, an "
        "optional name, and optionally their own tweet_selection, number_of_tweets, tweet_ids, "
        "exclude_retweets, exclude_replies (else the top-level ones). Each account is a stream "
        "partition with its own state.",
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
    *_selection_properties(shared=True),
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
        "max_history_days",
        th.IntegerType(minimum=1, maximum=MAX_HISTORY_DAYS),
        default=DEFAULT_HISTORY_DAYS,
        title="Max history days",
        description="How far back /historical is asked, in days before today (UTC), never "
        "before 2014-09-01. X's API reference serves anything since 2014-09-01, its current "
        "overview the last 365 days (the default); raise it if your contract serves older data. "
        "A range starting earlier is clipped, with a WARNING naming the days left out.",
    ),
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
class Account:
    """One handle whose owner authorized the app: its token and which of its tweets to read.

    ``index`` is its 1-based place in ``accounts``, ``None`` for the top-level
    ``access_token``/``access_token_secret``; errors name an account by it, never by token.
    """

    index: int | None
    name: str | None
    access_token: str = field(repr=False)
    access_token_secret: str = field(repr=False)
    tweet_selection: str
    number_of_tweets: int
    tweet_ids: tuple[str, ...]
    exclude_retweets: bool
    exclude_replies: bool

    @property
    def label(self) -> str:
        """How the account is named in logs and errors: its name and place in ``accounts``
        (empty for the top-level token)."""
        if self.index is None:
            return ""
        where = f"accounts item {self.index}"
        return f"'{self.name}' ({where})" if self.name else where


@dataclass(frozen=True)
class Settings:
    """The settings of a run, read once from the validated config; defaults come from the schema.

    Everything downstream reads these fields, never the raw config, so each default is stated
    once (in ``CONFIG_SCHEMA``) and each value has its type. The tweet selection settings here
    are the shared ones; each of :attr:`accounts` has its own, resolved.
    """

    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    bearer_token: str | None = field(repr=False)
    accounts: tuple[Account, ...]
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
    max_history_days: int
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
            if item.name == "accounts":
                continue
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
        return cls(**values, accounts=_accounts(config, values))

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every credential value set, for masking in logs."""
        values = [self.consumer_key, self.consumer_secret, self.bearer_token]
        for account in self.accounts:
            values += [account.access_token, account.access_token_secret]
        return tuple(v for v in values if isinstance(v, str) and v)

    @property
    def wide(self) -> bool:
        return self.metrics_layout == "wide"

    def as_mapping(self) -> dict[str, Any]:
        """The settings as a plain mapping (for the date rules, which read it by name)."""
        return asdict(self)


def secret_values(config: Mapping[str, Any]) -> list[str]:
    """Every credential a raw config holds, ``accounts`` entries' tokens included, for masking
    in logs before the config is even checked (so whatever its shape)."""
    values = [config.get(name) for name in SECRETS]
    accounts = config.get("accounts")
    for entry in accounts if isinstance(accounts, list) else []:
        if isinstance(entry, Mapping):
            values += [entry.get(name) for name in TOKEN_SETTINGS]
        else:
            values.append(entry)  # not an object: it may still be a pasted token
    return [v for v in values if isinstance(v, str) and v]


def _accounts(config: Mapping[str, Any], shared: Mapping[str, Any]) -> tuple[Account, ...]:
    """The accounts of a config: each ``accounts`` entry over the shared selection settings,
    or the top-level token as the one account (none when no token is set: discovery)."""
    entries: list[tuple[int | None, Mapping[str, Any]]]
    if config.get("accounts") is not None:
        entries = [(i + 1, entry) for i, entry in enumerate(config["accounts"])]
    elif all(config.get(name) for name in TOKEN_SETTINGS):
        entries = [(None, config)]
    else:
        entries = []
    accounts = []
    for index, entry in entries:
        own = {
            name: entry[name] if entry.get(name) is not None else shared[name]
            for name in ACCOUNT_SETTINGS
        }
        own["tweet_ids"] = tuple(own["tweet_ids"] or ())
        accounts.append(
            Account(
                index=index,
                name=entry.get("name") if index is not None else None,
                access_token=entry["access_token"],
                access_token_secret=entry["access_token_secret"],
                **own,
            )
        )
    return tuple(accounts)


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


def clean_token(value: str) -> bool:
    """A credential is one token: no whitespace or control character anywhere in it.

    Public because ``tap-twitter-engagement-auth`` refuses, with this same rule, a token it
    would otherwise write into a file the tap then refuses to run with.
    """
    return value.isprintable() and not any(c.isspace() for c in value)


def check_url(name: str, value: Any, example: str) -> str:
    """An http(s) base URL with a host, without query or fragment; returned without a slash."""
    hint = f"use a base URL such as {example}"
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(name, f"is empty; {hint}")
    parts = urlsplit(value.strip())
    if not parts.scheme and not parts.netloc and value.strip().startswith("/"):
        # What `${VAR}/` (as the Meltano demo environment writes it) becomes with VAR unset or
        # empty: name that cause, it is the likely one.
        raise ConfigError(
            name,
            f"{value!r} has no scheme or host: an environment variable it is built from (such "
            f"as SANDBOX_URL) is likely unset or empty; set it, or {hint}",
        )
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
    if path[:1] == ["accounts"] and len(path) > 1:
        return _account_schema_error(error, path)
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
        if setting in (*SECRETS, "accounts") or isinstance(error.instance, (dict, list))
        else (f" ({error.instance!r})")
    )
    return ConfigError(setting, f"{where}{shown.strip()} {_describe(error)}".strip())


def _account_schema_error(error: ValidationError, path: list[str]) -> ConfigError:
    """A jsonschema error inside an ``accounts`` entry: the entry's place and setting, and a
    value only for the selection settings (an entry's other values may be tokens)."""
    where = f"item {int(path[1]) + 1}" if path[1].isdigit() else "an item"
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "a setting"
        return ConfigError("accounts", f"{where} {missing} is required and not set; set it")
    if error.validator == "additionalProperties":
        allowed = ", ".join(["name", *TOKEN_SETTINGS, *ACCOUNT_SETTINGS])
        return ConfigError("accounts", f"{where}: {error.message}; an account takes only {allowed}")
    setting = path[2] if len(path) > 2 else ""
    inner = f" item {int(path[3]) + 1}" if len(path) > 3 and path[3].isdigit() else ""
    shown = (
        f" ({error.instance!r})"
        if setting in ACCOUNT_SETTINGS and not isinstance(error.instance, (dict, list))
        else ""
    )
    if not setting and error.validator == "type":
        return ConfigError(
            "accounts",
            f"{where} must be an object with access_token and access_token_secret",
        )
    return ConfigError("accounts", f"{where} {setting}{inner}{shown} {_describe(error)}")


def check(config: Mapping[str, Any], now: datetime, *, credentials_required: bool = True) -> None:
    """Cross-setting checks, after the schema passed. Raises the first :class:`ConfigError`."""
    accounts = config.get("accounts")
    for name in REQUIRED_SECRETS:
        given = config.get(name) is not None
        if accounts is not None and name in TOKEN_SETTINGS:
            if given:
                raise ConfigError(
                    "accounts",
                    f"is set, and so is the top-level {name}; give every account in accounts "
                    "and unset access_token and access_token_secret",
                )
            continue
        if not given and credentials_required:
            raise ConfigError(name, "is required and not set; set it (see README: Settings)")
        if given and not str(config.get(name) or "").strip():
            raise ConfigError(name, "is empty; set it (see README: Settings)")
    for name in SECRETS:
        _check_token(name, config.get(name))
    if accounts is not None:
        _check_accounts(accounts, config)
    for name, example in _URL_SETTINGS.items():
        check_url(name, config.get(name), example)
    if accounts is None:  # else each account is checked with the shared values it uses
        _check_selection("", config, config)
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
    days = config.get("max_history_days") or DEFAULT_HISTORY_DAYS
    resolve_period(config, now, history_floor(now, days))


def _check_token(name: str, value: Any) -> None:
    if isinstance(value, str) and value and not clean_token(value):
        raise ConfigError(
            name,
            "contains spaces, a line break or another control character (a copy-paste "
            "slip?); set it to the value alone",
        )


def _check_accounts(accounts: Sequence[Mapping[str, Any]], config: Mapping[str, Any]) -> None:
    """The ``accounts`` list: not empty, each token set and clean, no account twice."""
    if not accounts:
        raise ConfigError(
            "accounts",
            "is empty; list one or more accounts (each with access_token and "
            "access_token_secret), or unset it and set access_token and access_token_secret",
        )
    first_of: dict[tuple[str, Any], int] = {}
    for number, entry in enumerate(accounts, start=1):
        where = f"item {number}"
        for name in TOKEN_SETTINGS:
            if not str(entry.get(name) or "").strip():
                raise ConfigError("accounts", f"{where} {name} is empty; set it")
            try:
                _check_token(name, entry[name])
            except ConfigError as exc:
                raise ConfigError("accounts", f"{where} {name} {exc.reason}") from None
        for key, what in (("access_token", "access_token"), ("name", "name")):
            value = entry.get(key)
            if value is None:
                continue
            if (key, value) in first_of:
                raise ConfigError(
                    "accounts",
                    f"items {first_of[(key, value)]} and {number} have the same {what}; "
                    + (
                        "list each account once"
                        if key == "access_token"
                        else "give each account its own name"
                    ),
                )
            first_of[(key, value)] = number
        _check_selection(
            f"{where} ({entry['name']!r})" if entry.get("name") else where, entry, config
        )


def _check_selection(where: str, own: Mapping[str, Any], shared: Mapping[str, Any]) -> None:
    """Tweet ids are digits, and manual mode lists some (an account's own settings, else the
    shared ones); ``where`` names the ``accounts`` entry, empty for the top-level settings."""

    def setting(name: str) -> Any:
        value = own.get(name)
        return shared.get(name) if value is None else value

    def error(reason: str) -> ConfigError:
        if where:
            return ConfigError("accounts", f"{where}: {reason}")
        return ConfigError("tweet_ids", reason)

    prefix = "tweet_ids " if where else ""
    for index, tweet_id in enumerate(own.get("tweet_ids") or []):
        if not (isinstance(tweet_id, str) and tweet_id.isascii() and tweet_id.isdigit()):
            raise error(
                f'{prefix}item {index + 1} must be a string of digits, like "1785000000000000001" '
                "(no spaces or line breaks)",
            )
    if setting("tweet_selection") == "manual" and not setting("tweet_ids"):
        raise error(
            "tweet_selection is 'manual' but no tweet ids are listed; list them, or use "
            "tweet_selection 'recent'"
        )
