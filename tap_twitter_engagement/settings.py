"""The tap's settings: JSON schema (mirroring Domo's Details pane) and the checks a schema can't do.

Every check raises :class:`ConfigError` naming the setting and the fix, and never shows the value
of a secret setting: jsonschema's own messages quote values, so they are rewritten here.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
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
from tap_twitter_engagement.metrics import (
    ALL_METRICS,
    APIS,
    POST_ANALYTICS_NAMES,
    TOTALS_METRICS,
    metrics_of,
)
from tap_twitter_engagement.rollup import COLUMNS, validate_group_by

if TYPE_CHECKING:
    from jsonschema import ValidationError

REQUIRED_SECRETS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
SECRETS = (*REQUIRED_SECRETS, "bearer_token")
TOKEN_SETTINGS = ("access_token", "access_token_secret")
DEFAULT_GROUP_BY = ["tweet.id", "engagement.type", "engagement.day"]
#: Days back beyond this are certainly a mistake (for older days, give a specific date).
MAX_DAYS_BACK = 3650
#: The most ``max_history_days`` may say: beyond 2014-09-01 whatever the date.
MAX_HISTORY_DAYS = 20000
_URL_SETTINGS = {
    "api_url": "https://data-api.twitter.com",
    "timeline_api_url": "https://api.twitter.com",
}


_NO_DEFAULT: Any = object()


@dataclass(frozen=True)
class Spec:
    """What the settings schema says of one setting; the setting's name is its field's."""

    type: Any
    title: str
    description: str
    default: Any = _NO_DEFAULT
    allowed_values: tuple[Any, ...] | None = None
    required: bool = False
    secret: bool = False
    #: An ``accounts`` entry may set it for itself (unset there: the top-level value applies).
    per_account: bool = False


def setting(spec: Spec) -> Any:
    """A field of :class:`Settings` with its schema: the one place a setting is stated."""
    return field(metadata={"spec": spec}, repr=not spec.secret)


def _token(title: str, description: str, *, required: bool = False) -> Spec:
    return Spec(th.StringType(min_length=1), title, description, required=required, secret=True)


def _mode(what: str, default: Any) -> Spec:
    return Spec(
        th.StringType,
        f"{what} mode",
        f"`specific`: a calendar date; `relative`: N days back from today (UTC). Domo: {what}.",
        default=default,
        allowed_values=MODES,
    )


def _days_back(what: str, default: Any) -> Spec:
    return Spec(
        th.IntegerType(minimum=0, maximum=MAX_DAYS_BACK),
        what,
        f"{what}, in days before today (UTC): 0 = today, 1 = yesterday. Used when the mode is "
        "`relative`.",
        default=default,
    )


def _date(what: str) -> Spec:
    return Spec(
        th.DateType,
        what,
        f"{what} as YYYY-MM-DD (UTC). Required when the mode is `specific`.",
    )


@dataclass(frozen=True)
class Account:
    """One handle whose owner authorized the app: its place, its name, and its settings (the
    run's, with its own token and tweet selection).

    ``index`` is its 1-based place in ``accounts``, ``None`` for the top-level
    ``access_token``/``access_token_secret``; errors name an account by it, never by token.
    """

    index: int | None
    name: str | None
    settings: Settings = field(repr=False)

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
    """The settings of a run, read once from the validated config: each field is a setting,
    stated once with its schema (:func:`setting`); ``CONFIG_SCHEMA``, the Meltano definition and
    the ``accounts`` entries' schema are derived from these fields, and defaults come from
    them. The tweet selection settings here are the shared ones; each of :attr:`accounts` has
    its own settings, resolved."""

    consumer_key: str = setting(
        _token(
            "Consumer key",
            "API key of the X app approved for the Engagement API; shared by every account.",
            required=True,
        )
    )
    consumer_secret: str = setting(
        _token("Consumer secret", "API key secret of that app.", required=True)
    )
    access_token: str | None = setting(
        replace(
            _token("Access token", "OAuth 1.0a access token of the tweets' owner."),
            per_account=True,
        )
    )
    access_token_secret: str | None = setting(
        replace(_token("Access token secret", "Secret of that access token."), per_account=True)
    )
    accounts: tuple[Account, ...] = setting(
        Spec(
            None,  # the entries' schema is derived from the per_account settings
            "Accounts",
            "Several handles under this one app, instead of access_token and "
            "access_token_secret: a list of objects with access_token, access_token_secret, an "
            "optional name, and optionally their own tweet_selection, number_of_tweets, "
            "tweet_ids, exclude_retweets, exclude_replies (else the top-level ones). Each account "
            "is a stream partition with its own state.",
            secret=True,
        )
    )
    bearer_token: str | None = setting(
        Spec(
            th.StringType,
            "Bearer token",
            "Optional app-only bearer token: engagement_totals then also reads the public "
            "metrics of listed tweets by other authors.",
            secret=True,
        )
    )
    api_url: str = setting(
        Spec(
            th.StringType,
            "Engagement API URL",
            "Base URL of the Enterprise Engagement API (the sandbox's URL to try the tap locally).",
            default=_URL_SETTINGS["api_url"],
        )
    )
    timeline_api_url: str = setting(
        Spec(
            th.StringType,
            "Timeline API URL",
            "Base URL of the X API v2, used to list the account's recent tweets.",
            default=_URL_SETTINGS["timeline_api_url"],
        )
    )
    api: str = setting(
        Spec(
            th.StringType,
            "API",
            "Which X API the historical_engagement streams read: `engagement_api`, the "
            "Enterprise Engagement API (api_url), or `post_analytics`, X API v2's "
            "GET /2/tweets/analytics (timeline_api_url). README: Which API?",
            default=APIS[0],
            allowed_values=APIS,
        )
    )
    post_analytics_max_days: int = setting(
        Spec(
            th.IntegerType(minimum=1, maximum=366),
            "Post analytics max days",
            "With api post_analytics: the most days one request spans (hourly: at most 28, "
            "which keeps a response near 30 MB). X does not say what the API allows; 28 is the "
            "span the Engagement API documents for the same data. Lower it if the API refuses "
            "the time range.",
            default=28,
        )
    )
    post_analytics_requests_per_15_minutes: int = setting(
        Spec(
            th.IntegerType(minimum=1, maximum=1_000_000),
            "Post analytics requests per 15 minutes",
            "With api post_analytics: the app's budget of GET /2/tweets/analytics requests per "
            "15 minutes, shared by every account (X's table: 300 per app, and 300 per user, "
            "which the tap reads from the x-rate-limit-* headers). Requests are paced to it.",
            default=300,
        )
    )
    tweet_selection: str = setting(
        Spec(
            th.StringType,
            "Tweet selection",
            "`recent`: the N most recent tweets of the authenticated account; `manual`: the ids "
            "in `tweet_ids`. Domo: Tweet Selection.",
            default="recent",
            allowed_values=("recent", "manual"),
            per_account=True,
        )
    )
    number_of_tweets: int = setting(
        Spec(
            th.IntegerType(minimum=1, maximum=3200),
            "Number of tweets",
            "Recent mode: how many of the most recent tweets (1..3200). Domo: Number of Tweets.",
            default=100,
            per_account=True,
        )
    )
    tweet_ids: tuple[str, ...] = setting(
        Spec(
            th.ArrayType(th.StringType(pattern=r"^[0-9]+$")),
            "Tweet ids",
            "Manual mode: tweet ids as strings of digits; any number, batched per request (25 "
            "for the Engagement API, 100 for Post analytics). "
            "Domo: Tweets.",
            per_account=True,
        )
    )
    exclude_retweets: bool = setting(
        Spec(
            th.BooleanType,
            "Exclude retweets",
            "Recent mode: leave out the account's retweets.",
            default=True,
            per_account=True,
        )
    )
    exclude_replies: bool = setting(
        Spec(
            th.BooleanType,
            "Exclude replies",
            "Recent mode: leave out the account's replies (X then lists at most 800 tweets).",
            default=False,
            per_account=True,
        )
    )
    engagement_types: tuple[str, ...] = setting(
        Spec(
            th.ArrayType(th.StringType(allowed_values=list(ALL_METRICS))),
            "Engagement metrics",
            "Metrics to extract; default every metric the chosen api serves (17 for "
            "engagement_api, 20 for post_analytics; README: Metrics). Domo: Engagement Metrics.",
        )
    )
    group_by: tuple[str, ...] = setting(
        Spec(
            th.ArrayType(th.StringType(allowed_values=list(COLUMNS))),
            "Group by",
            "Ordered, unique subset of tweet.id, engagement.type, engagement.day, "
            "engagement.hour: the columns of each row; the tap sums exactly across batches and "
            "windows. Domo: Group By.",
            default=DEFAULT_GROUP_BY,
        )
    )
    metrics_layout: str = setting(
        Spec(
            th.StringType,
            "Metrics layout",
            "`long`: engagement_type and engagement_count columns; `wide`: one integer column "
            "per metric (group_by must contain engagement.type).",
            default="long",
            allowed_values=("long", "wide"),
        )
    )
    duration: str = setting(
        Spec(
            th.StringType,
            "Duration",
            "`single_date` (one day) or `date_range` (start day through end day, both "
            "included). Domo: Duration.",
            default=DATE_DEFAULTS["duration"],
            allowed_values=DURATIONS,
        )
    )
    report_date_mode: str = setting(_mode("Report date", DATE_DEFAULTS["report_date_mode"]))
    report_date: str | None = setting(_date("Report date"))
    days_back: int = setting(_days_back("Days back (single date)", DATE_DEFAULTS["days_back"]))
    start_date_mode: str = setting(_mode("Start date", DATE_DEFAULTS["start_date_mode"]))
    start_date: str | None = setting(_date("Start date"))
    days_back_to_start_from: int = setting(
        _days_back("Days back to start from", DATE_DEFAULTS["days_back_to_start_from"])
    )
    end_date_mode: str = setting(_mode("End date", DATE_DEFAULTS["end_date_mode"]))
    end_date: str | None = setting(_date("End date"))
    days_back_to_end_at: int = setting(
        _days_back("Days back to end at", DATE_DEFAULTS["days_back_to_end_at"])
    )
    max_history_days: int = setting(
        Spec(
            th.IntegerType(minimum=1, maximum=MAX_HISTORY_DAYS),
            "Max history days",
            "How far back /historical is asked, in days before today (UTC), never before "
            "2014-09-01. X's API reference serves anything since 2014-09-01, its current "
            "overview the last 365 days (the default); raise it if your contract serves older "
            "data. A range starting earlier is clipped, with a WARNING naming the days left out.",
            default=DEFAULT_HISTORY_DAYS,
        )
    )
    lookback_days: int = setting(
        Spec(
            th.IntegerType(minimum=0, maximum=365),
            "Lookback days",
            "Incremental runs re-read this many days before the bookmark, because recent "
            "counts still change.",
            default=3,
        )
    )
    request_timeout: int = setting(
        Spec(
            th.IntegerType(minimum=1, maximum=3600),
            "Request timeout",
            "Seconds one HTTP request may take in all, from connecting to the last byte of the "
            "response.",
            default=60,
        )
    )
    max_retries: int = setting(
        Spec(
            th.IntegerType(minimum=0, maximum=100),
            "Max retries",
            "Retries of a request after 5xx, 429, timeouts, resets or unreadable bodies, with "
            "exponential backoff.",
            default=8,
        )
    )
    retry_wait_seconds: float = setting(
        Spec(
            th.NumberType(minimum=0, maximum=3600),
            "Retry wait",
            "First wait before retrying a 5xx, timeout, reset or unreadable body; doubles per "
            "retry (capped at 60 s), with jitter.",
            default=1.0,
        )
    )
    rate_limit_wait_seconds: float = setting(
        Spec(
            th.NumberType(minimum=0, maximum=3600),
            "Rate-limit wait",
            "Wait after a 429 that names no reset time (the limits are per minute).",
            default=60.0,
        )
    )
    max_concurrent_requests: int = setting(
        Spec(
            th.IntegerType(minimum=1, maximum=32),
            "Max concurrent requests",
            "Requests in flight at once (1 = sequential). Output and state are the same "
            "whatever the value.",
            default=4,
        )
    )
    memory_budget_mb: int = setting(
        Spec(
            th.IntegerType(minimum=16, maximum=65536),
            "Memory budget",
            "About how much memory (MiB) the responses received and not yet written may hold: "
            "at hourly grain it limits how many large responses are in flight, so a run's "
            "memory stays flat however many records it writes.",
            default=256,
        )
    )
    max_requests_per_minute: int | None = setting(
        Spec(
            th.IntegerType(minimum=1, maximum=1_000_000),
            "Max requests per minute",
            "Pace requests to this many per minute and endpoint (your contract's limit). Unset: "
            "follow the API's x-per-minute-* headers only.",
        )
    )
    max_requests_per_second: int | None = setting(
        Spec(
            th.IntegerType(minimum=1, maximum=1000),
            "Max requests per second",
            "Pace requests to this many per second and endpoint (your contract's per-second "
            "limit, if it has one). Unset: follow the API's x-per-second-* headers only.",
        )
    )
    max_wait_seconds: float = setting(
        Spec(
            th.NumberType(minimum=1, maximum=86400),
            "Max wait",
            "The longest the tap waits for anything (a rate-limit reset, a retry); a longer "
            "wait gives the request up and ends the run, with a state to resume from.",
            default=300.0,
        )
    )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """Typed settings from a config the schema accepted (absent or null: the default)."""
        values = {name: _typed(name, config.get(name)) for name in SPECS if name != "accounts"}
        if values["engagement_types"] is None:  # unset: every metric the API serves
            values["engagement_types"] = metrics_of(values["api"])
        shared = cls(**values, accounts=())
        return replace(shared, accounts=_accounts(config, shared))

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every credential value set, for masking in logs."""
        values = [self.consumer_key, self.consumer_secret, self.bearer_token]
        for account in self.accounts:
            values += [account.settings.access_token, account.settings.access_token_secret]
        return tuple(v for v in values if isinstance(v, str) and v)

    @property
    def wide(self) -> bool:
        return self.metrics_layout == "wide"


#: Every setting's schema, by name, in the order of the fields.
SPECS: dict[str, Spec] = {f.name: f.metadata["spec"] for f in fields(Settings)}
#: What an ``accounts`` entry may set for itself besides its tokens.
ACCOUNT_SETTINGS = tuple(
    name for name, spec in SPECS.items() if spec.per_account and name not in TOKEN_SETTINGS
)


def _property(name: str, spec: Spec, *, in_account: bool = False) -> th.Property[Any]:
    """A setting's schema property; inside an ``accounts`` entry its tokens are required and
    no setting has a default (unset there, the top-level value applies)."""
    extra: dict[str, Any] = {}
    if spec.default is not _NO_DEFAULT and not in_account:
        extra["default"] = spec.default
    if spec.allowed_values is not None:
        extra["allowed_values"] = list(spec.allowed_values)
    if spec.secret:
        extra["secret"] = True
    if name == "accounts":
        entry = th.ObjectType(
            th.Property(
                "name",
                th.StringType(min_length=1),
                description="Names the account in logs and errors.",
            ),
            *(
                _property(n, s, in_account=True)
                for n, s in SPECS.items()
                if s.per_account and n in TOKEN_SETTINGS
            ),
            *(_property(n, SPECS[n], in_account=True) for n in ACCOUNT_SETTINGS),
            additional_properties=False,
        )
        return th.Property(
            name, th.ArrayType(entry), title=spec.title, description=spec.description, **extra
        )
    required = spec.required or (in_account and name in TOKEN_SETTINGS)
    return th.Property(
        name, spec.type, required=required, title=spec.title, description=spec.description, **extra
    )


CONFIG_SCHEMA: dict[str, Any] = th.PropertiesList(
    *(_property(name, spec) for name, spec in SPECS.items())
).to_dict()


def _typed(name: str, value: Any) -> Any:
    """A validated config value as its field holds it: absent or null is the default, lists are
    tuples, base URLs lose their trailing slash."""
    if value is None:
        default = SPECS[name].default
        value = None if default is _NO_DEFAULT else copy.deepcopy(default)
    if value is None and name == "tweet_ids":
        value = ()
    if isinstance(value, list):
        value = tuple(value)
    if name in _URL_SETTINGS and isinstance(value, str):
        value = value.strip().rstrip("/")
    return value


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


def _accounts(config: Mapping[str, Any], shared: Settings) -> tuple[Account, ...]:
    """The accounts of a config: each ``accounts`` entry over the shared settings, or the
    top-level token as the one account (none when no token is set: discovery)."""
    entries: list[tuple[int | None, Mapping[str, Any]]]
    if config.get("accounts") is not None:
        entries = [(i + 1, entry) for i, entry in enumerate(config["accounts"])]
    elif shared.access_token and shared.access_token_secret:
        entries = [(None, {})]
    else:
        entries = []
    return tuple(
        Account(
            index=index,
            name=entry.get("name") if index is not None else None,
            settings=replace(
                shared,
                **{
                    name: _typed(name, entry[name])
                    for name in (*TOKEN_SETTINGS, *ACCOUNT_SETTINGS)
                    if entry.get(name) is not None
                },
            ),
        )
        for index, entry in entries
    )


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
    where = f"item {int(path[1]) + 1} " if len(path) > 1 and path[1].isdigit() else ""
    renamed = {v: k for k, v in POST_ANALYTICS_NAMES.items()}
    if setting == "engagement_types" and error.instance in renamed:
        return ConfigError(
            setting,
            f"{where}{error.instance!r} is Post analytics' name for "
            f"{renamed[error.instance]}: records use one name for a metric both APIs serve; "
            f"list {renamed[error.instance]}",
        )
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
    _check_metrics(config.get("api") or APIS[0], config.get("engagement_types"))
    group_by = validate_group_by(config.get("group_by", DEFAULT_GROUP_BY))
    if config.get("metrics_layout") == "wide" and "engagement.type" not in group_by:
        raise ConfigError(
            "metrics_layout",
            "'wide' needs engagement.type in group_by (one "
            "column per metric); add it, or use 'long'",
        )
    days = config.get("max_history_days") or DEFAULT_HISTORY_DAYS
    resolve_period(config, now, history_floor(now, days))


def _check_metrics(api: str, metrics: Sequence[str] | None) -> None:
    """``engagement_types``: unset (every metric ``api`` serves), or metrics it serves, once."""
    if metrics is None:
        return
    served = metrics_of(api)
    if not metrics:
        raise ConfigError(
            "engagement_types",
            f"is empty; list one or more of: {', '.join(served)} (or unset it for all)",
        )
    for index, metric in enumerate(metrics):
        if metric in metrics[:index]:
            raise ConfigError("engagement_types", f"{metric} is listed twice; list each once")
        if metric not in served:
            raise ConfigError("engagement_types", _not_served(api, metric))


#: What serves the historical data of each API, as errors name it.
_SOURCES = {
    "engagement_api": "the Engagement API's /historical",
    "post_analytics": "Post analytics' GET /2/tweets/analytics",
}


def _not_served(api: str, metric: str) -> str:
    """Why ``api`` cannot serve ``metric``, which API can, and what to do."""
    where = [
        f"{_SOURCES[other]} (api {other})"
        for other in APIS
        if other != api and metric in metrics_of(other)
    ]
    if metric in TOTALS_METRICS:
        where.append("the engagement_totals stream (the Engagement API's /totals)")
    return (
        f"{metric} is not served by {_SOURCES[api]} (api {api}); only by "
        f"{' and by '.join(where)}. Remove it, or change api"
    )


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
