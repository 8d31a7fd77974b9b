"""The sandbox's data model: accounts, their tweets, and a count for every (tweet, metric, hour).

Every final count is a pure function of the model's seed, the tweet, the metric and the UTC hour.
What the API shows for an hour also depends on when it is asked: recent hours are revised upwards
until ``revision_hours`` after the hour, then stay final (see :func:`visible_count`). So any
request over any window and any grouping, at any instant, has exactly one expected answer, and
tests can compute it here without HTTP. Counts are integers built with integer arithmetic only, so
the answer is the same on every machine.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from tap_twitter_engagement.metrics import HISTORICAL_METRICS, TOTALS_METRICS

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
#: Twitter's snowflake epoch (ms), so tweet ids sort by creation time like real ones.
SNOWFLAKE_EPOCH_MS = 1288834974657
#: Days after creation during which a tweet still gathers engagement.
ACTIVE_DAYS = 540
#: Tweets older than this many days get no impressions/engagements from /totals.
TOTALS_RECENT_DAYS = 90
#: Video tweets older than this many days get no video views.
VIDEO_VIEWS_MAX_AGE_DAYS = 1800
#: Hours after an hour's start during which the API still revises its count (default).
REVISION_HOURS = 72
#: Snowflake sequence numbers available per millisecond: accounts x tweets must fit in them.
_SEQUENCES = 0x400000
#: The day user metrics count from (followers grow each day after it).
_USER_METRICS_EPOCH = date(2020, 1, 1)

#: Per-mille of a day's impressions that each metric amounts to (before jitter).
_RATIO_PER_MILLE: dict[str, int] = {
    "impressions": 1000,
    "engagements": 38,
    "favorites": 14,
    "retweets": 3,
    "replies": 2,
    "video_views": 160,
    "media_views": 90,
    "media_engagements": 11,
    "url_clicks": 6,
    "hashtag_clicks": 1,
    "detail_expands": 17,
    "permalink_clicks": 2,
    "app_install_attempts": 0,
    "app_opens": 1,
    "email_tweet": 0,
    "user_follows": 1,
    "user_profile_clicks": 4,
    # Only Post analytics serves these (``/totals``' lifetime ``quote_tweets`` keeps its own
    # formula, see ``lifetime_total``): hourly series like the others, so any window sums them.
    "quote_tweets": 1,
    "bookmarks": 3,
    "shares": 1,
    "unfollows": 1,
    "unlikes": 1,
}
#: Relative weight of each UTC hour of the day (a diurnal curve peaking in the afternoon).
_HOUR_WEIGHTS: tuple[int, ...] = (
    3,
    2,
    2,
    1,
    1,
    1,
    2,
    3,
    5,
    7,
    8,
    9,
    10,
    11,
    12,
    12,
    11,
    10,
    9,
    8,
    7,
    6,
    5,
    4,
)
_HOUR_WEIGHT_SUM = sum(_HOUR_WEIGHTS)


def _mix(*parts: object) -> int:
    """A stable 64-bit hash of the parts (``hash()`` is salted per process, so it won't do)."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def snowflake(created_at: datetime, sequence: int) -> str:
    """A tweet id in Twitter's snowflake layout for a creation time."""
    ms = int(created_at.timestamp() * 1000) - SNOWFLAKE_EPOCH_MS
    return str((ms << 22) | (sequence & 0x3FFFFF))


def floor_hour(moment: datetime) -> datetime:
    """The start of the UTC hour containing ``moment``."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    """The first hour boundary at or after ``moment``."""
    floored = floor_hour(moment)
    return floored if floored == moment else floored + HOUR


def visible_count(final: int, elapsed_hours: int, revision_hours: int) -> int:
    """What the API shows for an hour whose final count is ``final``, ``elapsed_hours`` later.

    ``elapsed_hours`` counts whole hours from the hour's start to the as-of time floored to the
    hour (0 while the hour is current; an hour not yet begun counts as current). The count starts
    at ``final - final // 2`` and grows linearly to ``final``, which it reaches, and keeps, once
    ``elapsed_hours >= revision_hours``. ``revision_hours == 0`` means final at once.
    """
    if revision_hours <= 0:
        return final
    left = max(0, revision_hours - max(0, elapsed_hours))
    return final - (final // 2) * left // revision_hours


def account_username(index: int) -> str:
    """The handle of account ``index``: ``sandbox_brand``, ``sandbox_brand_2``, ..."""
    return "sandbox_brand" if index == 0 else f"sandbox_brand_{index + 1}"


@dataclass(frozen=True)
class User:
    """An account known to the sandbox."""

    id: str
    username: str
    name: str
    protected: bool = False


@dataclass(frozen=True)
class Tweet:
    """A tweet of the model with the flags that decide how the API treats it."""

    id: str
    author_id: str
    created_at: datetime
    text: str
    lang: str = "en"
    conversation_id: str = ""
    is_retweet: bool = False
    is_reply: bool = False
    has_video: bool = False
    deleted: bool = False
    protected: bool = False

    @property
    def created_hour(self) -> datetime:
        return floor_hour(self.created_at)


@dataclass(frozen=True)
class ExpectedRow:
    """One row of a rolled-up answer: the group-by key values and the summed count."""

    key: tuple[str | int, ...]
    count: int


@dataclass
class SandboxModel:
    """``account_count`` deterministic accounts, each with ``tweet_count`` tweets of mixed kinds,
    anchored at midnight.

    Account 0 (``user``) is ``@sandbox_brand``; account ``i > 0`` is ``@sandbox_brand_{i + 1}``
    with its own id and tweets, derived from the seed and ``i``, so adding accounts changes
    nothing about the ones before. ``anchor`` is the instant the newest tweets lead up to; by
    default the start of the current UTC day, so a sandbox restarted on the same day serves the
    same tweets and ids.
    """

    seed: int = 42
    tweet_count: int = 120
    anchor: datetime | None = None
    #: Hours after an hour's start during which its count is still revised (0 = final at once).
    revision_hours: int = REVISION_HOURS
    #: How many accounts (brand handles) the model holds; 1 is the single-account sandbox.
    account_count: int = 1
    user: User = field(init=False)
    #: Every account, ``accounts[0] is user``.
    accounts: list[User] = field(init=False)
    other_user: User = field(init=False)
    protected_user: User = field(init=False)
    #: Every account's tweets (and the other authors' tweets mixed into them), newest first.
    tweets: list[Tweet] = field(init=False)

    def __post_init__(self) -> None:
        if self.revision_hours < 0:
            raise ValueError(f"revision_hours must be 0 or more, not {self.revision_hours}")
        if self.account_count < 1:
            raise ValueError(f"account_count must be 1 or more, not {self.account_count}")
        if self.account_count * self.tweet_count > _SEQUENCES:
            raise ValueError(
                f"{self.account_count} accounts x {self.tweet_count} tweets is more than the "
                f"{_SEQUENCES} tweets the sandbox can give distinct ids"
            )
        if self.anchor is None:
            now = datetime.now(UTC)
            self.anchor = now.replace(hour=0, minute=0, second=0, microsecond=0)
        self.anchor = self.anchor.astimezone(UTC)
        self.accounts = [self._account(index) for index in range(self.account_count)]
        self.user = self.accounts[0]
        self.other_user = User(
            id=str(1_600_000_000_000_000_000 + self.seed),
            username="someone_else",
            name="Someone Else",
        )
        self.protected_user = User(
            id=str(1_700_000_000_000_000_000 + self.seed),
            username="private_brand",
            name="Private Brand",
            protected=True,
        )
        # Account 0 draws from the seed itself (the single-account sandbox's tweets and ids);
        # the others from the seed and their index.
        self._by_account = [
            self._generate(
                random.Random(self.seed if index == 0 else _mix(self.seed, "account", index)),
                account,
                index,
            )
            for index, account in enumerate(self.accounts)
        ]
        self.tweets = sorted(
            (tweet for tweets in self._by_account for tweet in tweets),
            key=lambda t: int(t.id),
            reverse=True,
        )
        self._by_id = {tweet.id: tweet for tweet in self.tweets}

    def _account(self, index: int) -> User:
        """Account ``index``: ids 10**12 apart, so no seed below 10**12 makes two collide."""
        return User(
            id=str(1_500_000_000_000_000_000 + index * 10**12 + self.seed),
            username=account_username(index),
            name="Sandbox Brand" + (f" {index + 1}" if index else ""),
        )

    # ------------------------------------------------------------------ tweets
    def _generate(self, rng: random.Random, account: User, account_index: int) -> list[Tweet]:
        """An account's tweets over five years, most of them recent, a few of every special kind
        (some by ``@someone_else`` and ``@private_brand``, as a brand's list of ids has)."""
        anchor = self.anchor or datetime.now(UTC)
        tweets: list[Tweet] = []
        n = self.tweet_count
        for index in range(n):
            # 70 % in the last 90 days, 20 % in 90..365 days, 10 % older (up to ~5.3 years).
            bucket = index % 10
            if bucket < 7:
                age_hours = rng.randint(1, 90 * 24 - 1)
            elif bucket < 9:
                age_hours = rng.randint(90 * 24 + 1, 365 * 24 - 1)
            else:
                age_hours = rng.randint(365 * 24 + 1, 1950 * 24)
            if index % 40 == 11:  # always some video tweets past the 1800-day video_views limit
                age_hours = rng.randint(1820 * 24, 1950 * 24)
            created = anchor - timedelta(
                hours=age_hours, minutes=rng.randint(0, 59), seconds=rng.randint(0, 59)
            )
            tweet_id = snowflake(created, account_index * n + index)
            special = index % 12
            author = account.id
            deleted = protected = False
            if special == 5:
                deleted = True
            elif special == 7:
                author = self.other_user.id
            elif special == 9:
                author, protected = self.protected_user.id, True
            is_retweet = special == 3
            is_reply = special in (2, 10)
            has_video = index % 4 == 1 or index % 40 == 11
            kind = "video" if has_video else "post"
            tweets.append(
                Tweet(
                    id=tweet_id,
                    author_id=author,
                    created_at=created,
                    text=f"Sandbox {kind} #{index + 1} by @{self._username(author)}",
                    lang=("en", "en", "es", "fr", "de")[index % 5],
                    conversation_id=tweet_id,
                    is_retweet=is_retweet,
                    is_reply=is_reply,
                    has_video=has_video,
                    deleted=deleted,
                    protected=protected,
                )
            )
        tweets.sort(key=lambda t: int(t.id), reverse=True)
        return tweets

    def _username(self, author_id: str) -> str:
        user = self.find_user(author_id)
        return user.username if user is not None else "unknown"

    @property
    def users(self) -> tuple[User, ...]:
        """Every user the model knows: the accounts, then the other and the protected author."""
        return (*self.accounts, self.other_user, self.protected_user)

    def find_user(self, user_id: str) -> User | None:
        return next((u for u in self.users if u.id == user_id), None)

    def account_index(self, handle_or_id: str) -> int:
        """The index of the account with this handle (``@`` optional, any case) or user id."""
        wanted = handle_or_id.removeprefix("@").lower()
        for index, account in enumerate(self.accounts):
            if wanted in (account.username.lower(), account.id):
                return index
        raise ValueError(
            f"no sandbox account {handle_or_id!r}; the accounts are "
            + ", ".join(f"@{a.username}" for a in self.accounts)
        )

    def tweet(self, tweet_id: str) -> Tweet | None:
        return self._by_id.get(tweet_id)

    def timeline(
        self, user_id: str, *, exclude_retweets: bool = False, exclude_replies: bool = False
    ) -> list[Tweet]:
        """The user's visible tweets, newest first, as ``GET /2/users/:id/tweets`` lists them."""
        return [
            t
            for t in self.tweets
            if t.author_id == user_id
            and not t.deleted
            and not (exclude_retweets and t.is_retweet)
            and not (exclude_replies and t.is_reply)
        ]

    def owned_ids(
        self, *, exclude_retweets: bool = True, exclude_replies: bool = False, account: int = 0
    ) -> list[str]:
        """Ids the tap's recent mode sees for account ``account``'s token, newest first."""
        return [
            t.id
            for t in self.timeline(
                self.accounts[account].id,
                exclude_retweets=exclude_retweets,
                exclude_replies=exclude_replies,
            )
        ]

    def ids_of_kind(self, kind: str, account: int = 0) -> list[str]:
        """Ids of account ``account``'s mix by special kind, newest first: deleted, protected,
        other_author, video, retweet, reply, old_video, older_than_90_days."""
        anchor = self.anchor or datetime.now(UTC)
        owner = self.accounts[account].id
        checks: dict[str, Callable[[Tweet], bool]] = {
            "deleted": lambda t: t.deleted,
            "protected": lambda t: t.protected,
            "other_author": lambda t: t.author_id == self.other_user.id,
            "video": lambda t: t.has_video and t.author_id == owner and not t.deleted,
            "retweet": lambda t: t.is_retweet,
            "reply": lambda t: t.is_reply,
            "old_video": lambda t: (
                t.has_video
                and t.author_id == owner
                and not t.deleted
                and self.age_days(t, anchor) > VIDEO_VIEWS_MAX_AGE_DAYS
            ),
            "older_than_90_days": lambda t: (
                t.author_id == owner
                and not t.deleted
                and self.age_days(t, anchor) > TOTALS_RECENT_DAYS
            ),
        }
        return [t.id for t in self._by_account[account] if checks[kind](t)]

    # ------------------------------------------------------------------ users
    def user_public_metrics(self, user_id: str, day: date) -> dict[str, int]:
        """A user's v2 ``public_metrics`` on a UTC day (modelled, not measured).

        Followers grow every day by a per-user rate of 1 to 12 plus a little jitter, so each
        day has more than the day before; following and listed creep up slowly;
        ``tweet_count`` is the user's visible tweets (what its timeline lists).
        """
        user = self.find_user(user_id)
        if user is None:
            raise KeyError(user_id)
        days = max(0, (day - _USER_METRICS_EPOCH).days)
        rate = 1 + _mix(self.seed, user.id, "growth") % 12
        return {
            "followers_count": 2_000
            + _mix(self.seed, user.id, "followers") % 48_000
            + rate * days
            + _mix(self.seed, user.id, day, "followers") % rate,
            "following_count": 100 + _mix(self.seed, user.id, "following") % 900 + days // 30,
            "tweet_count": len(self.timeline(user.id)),
            "listed_count": 5 + _mix(self.seed, user.id, "listed") % 120 + days // 120,
        }

    def user_created_at(self, user_id: str) -> datetime:
        """When the user's account was created: a second in 2009..2015, fixed per user."""
        seconds = _mix(self.seed, user_id, "created") % (6 * 365 * 86400)
        return datetime(2009, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)

    @staticmethod
    def age_days(tweet: Tweet, now: datetime) -> float:
        return (now - tweet.created_at).total_seconds() / 86400

    # ------------------------------------------------------------------ counts
    # ``as_of``: None means final counts; an instant means what the API serves at that instant
    # (recent hours still being revised, see :func:`visible_count`).
    def last_final_hour(self, as_of: datetime | None) -> datetime | None:
        """The last hour whose count is final at ``as_of``; None when every hour is final."""
        if as_of is None or not self.revision_hours:
            return None
        return floor_hour(as_of) - self.revision_hours * HOUR

    def _day_is_final(self, day: date, as_of: datetime | None) -> bool:
        last = self.last_final_hour(as_of)
        return last is None or datetime.combine(day, time(23), UTC) <= last

    def day_count(
        self, tweet_id: str, metric: str, day: date, as_of: datetime | None = None
    ) -> int:
        """The count for a whole UTC day (zero before the tweet exists)."""
        tweet = self._by_id[tweet_id]
        if not self._day_is_final(day, as_of) or day == tweet.created_at.date():
            return sum(self.hour_counts(tweet_id, metric, day, as_of))
        return _day_base(self.seed, tweet, metric, day)

    def hour_counts(
        self, tweet_id: str, metric: str, day: date, as_of: datetime | None = None
    ) -> tuple[int, ...]:
        """The 24 hourly counts of a UTC day; hours before the tweet existed are zero."""
        tweet = self._by_id[tweet_id]
        if as_of is None or self._day_is_final(day, as_of):
            return _hour_counts(self.seed, tweet, metric, day)
        return _visible_hour_counts(
            self.seed, tweet, metric, day, floor_hour(as_of), self.revision_hours
        )

    def hour_count(
        self, tweet_id: str, metric: str, hour: datetime, as_of: datetime | None = None
    ) -> int:
        """The count for one UTC hour."""
        hour = floor_hour(hour)
        return self.hour_counts(tweet_id, metric, hour.date(), as_of)[hour.hour]

    def window_counts(
        self,
        tweet_id: str,
        metric: str,
        start: datetime,
        end: datetime,
        as_of: datetime | None = None,
    ) -> Iterator[tuple[date, int, int]]:
        """``(day, hour, count)`` for every hour in ``[start, end)``, hour-aligned UTC."""
        moment = floor_hour(start)
        end = floor_hour(end)
        while moment < end:
            counts = self.hour_counts(tweet_id, metric, moment.date(), as_of)
            day_end = min(end, datetime.combine(moment.date() + DAY, datetime.min.time(), UTC))
            for hour in range(moment.hour, moment.hour + int((day_end - moment) / HOUR)):
                yield moment.date(), hour, counts[hour]
            moment = day_end

    def window_day_counts(
        self,
        tweet_id: str,
        metric: str,
        start: datetime,
        end: datetime,
        as_of: datetime | None = None,
    ) -> Iterator[tuple[date, int]]:
        """``(day, count)`` for every UTC day touched by ``[start, end)``, in-window hours only.

        Whole days whose hours are all final take the fast day-level path.
        """
        moment = floor_hour(start)
        end = floor_hour(end)
        while moment < end:
            day_end = min(end, datetime.combine(moment.date() + DAY, datetime.min.time(), UTC))
            last = moment.hour + int((day_end - moment) / HOUR)
            if moment.hour == 0 and last == 24:
                yield moment.date(), self.day_count(tweet_id, metric, moment.date(), as_of)
            else:
                counts = self.hour_counts(tweet_id, metric, moment.date(), as_of)
                yield moment.date(), sum(counts[moment.hour : last])
            moment = day_end

    def lifetime_total(self, tweet_id: str, metric: str, now: datetime) -> int:
        """What ``/totals`` reports at ``now``: every hour from creation through the current
        hour, each as the API shows it at ``now`` (recent hours still being revised)."""
        tweet = self._by_id[tweet_id]
        if metric == "quote_tweets":
            return (
                self.lifetime_total(tweet_id, "retweets", now) // 4
                + _mix(self.seed, tweet.id, "quotes") % 3
            )
        current = floor_hour(now)
        today = current.date()
        last_final = self.last_final_hour(now)
        first_open = today if last_final is None else min(today, (last_final + HOUR).date())
        total = _full_days_total(self.seed, tweet, metric, first_open)
        day = first_open
        while day <= today:
            counts = self.hour_counts(tweet_id, metric, day, now)
            total += sum(counts) if day < today else sum(counts[: current.hour + 1])
            day += DAY
        return total

    def expected(
        self,
        tweet_ids: Iterable[str],
        metrics: Iterable[str],
        start: datetime,
        end: datetime,
        group_by: Sequence[str],
        *,
        hour_without_day: str = "profile",
        as_of: datetime | None = None,
    ) -> list[ExpectedRow]:
        """The exact rolled-up answer for a request, one row per key in ``group_by`` order.

        Sums over every hour in ``[start, end)`` of every (tweet, metric) given; rows are
        sorted by key. ``engagement.hour`` without ``engagement.day`` is the hour-of-day
        profile summed over the days (``hour_without_day="profile"``) or keeps a day level
        (``"dated"``), the two forms the sources disagree on. ``as_of=None`` gives final
        counts; an instant gives what the API serves at that instant.
        """
        keep_day = "engagement.day" in group_by or (
            "engagement.hour" in group_by and hour_without_day == "dated"
        )
        sums: dict[tuple[str | int, ...], int] = {}
        metrics = list(metrics)
        hourly = "engagement.hour" in group_by
        for tweet_id in tweet_ids:
            for metric in metrics:
                counts = (
                    self.window_counts(tweet_id, metric, start, end, as_of)
                    if hourly
                    else (
                        (d, 0, c)
                        for d, c in self.window_day_counts(tweet_id, metric, start, end, as_of)
                    )
                )
                for day, hour, count in counts:
                    parts: dict[str, str | int] = {
                        "tweet.id": tweet_id,
                        "engagement.type": metric,
                        "engagement.day": day.isoformat(),
                        "engagement.hour": hour,
                    }
                    key = tuple(parts[g] for g in group_by)
                    if keep_day and "engagement.day" not in group_by:
                        key = (day.isoformat(), *key)
                    sums[key] = sums.get(key, 0) + count
        return [ExpectedRow(key, count) for key, count in sorted(sums.items(), key=_sort_key)]

    def expected_total(
        self,
        tweet_ids: Iterable[str],
        metrics: Iterable[str],
        start: datetime,
        end: datetime,
        *,
        as_of: datetime | None = None,
    ) -> int:
        """The grand total of the metrics over the window (sum of every row of any grouping)."""
        return sum(
            row.count
            for row in self.expected(
                tweet_ids, metrics, start, end, ["engagement.type"], as_of=as_of
            )
        )


def _sort_key(item: tuple[tuple[str | int, ...], int]) -> tuple[tuple[int, int, str], ...]:
    """Numbers (ids, hours) numerically, names and dates as text."""
    return tuple(
        (0, int(part), "") if isinstance(part, int) or part.isdigit() else (1, 0, part)
        for part in item[0]
    )


def _day_base(seed: int, tweet: Tweet, metric: str, day: date) -> int:
    """A day's count before hours are masked: impressions decay with age, jitter on top."""
    age = (day - tweet.created_at.date()).days
    if age < 0 or age > ACTIVE_DAYS:
        return 0
    if metric == "video_views" and not tweet.has_video:
        return 0
    reach = 300 + _mix(seed, tweet.id, "reach") % 6000
    impressions = reach * 6 // (6 + age) + _mix(seed, tweet.id, day, "imp") % (reach // 40 + 5)
    if metric == "impressions":
        return impressions
    jitter = _mix(seed, tweet.id, metric, day) % 1000
    affinity = 500 + _mix(seed, tweet.id, metric, "affinity") % 1000  # tweets differ: 0.5x..1.5x
    return (impressions * _RATIO_PER_MILLE[metric] * affinity // 1000 + jitter) // 1000


@lru_cache(maxsize=65536)
def _hour_counts(seed: int, tweet: Tweet, metric: str, day: date) -> tuple[int, ...]:
    """Split the day's count over 24 hours by the diurnal weights (largest remainder).

    Hours before the tweet's creation hour are zero, so the creation day's total is the sum of
    the hours that remain.
    """
    if metric not in _RATIO_PER_MILLE:
        raise KeyError(metric)
    total = _day_base(seed, tweet, metric, day)
    if total == 0:
        return (0,) * 24
    shift = _mix(seed, tweet.id, "tz") % 24
    weights = [_HOUR_WEIGHTS[(hour + shift) % 24] for hour in range(24)]
    shares = [total * w // _HOUR_WEIGHT_SUM for w in weights]
    remainders = sorted(range(24), key=lambda h: (-(total * weights[h] % _HOUR_WEIGHT_SUM), h))
    for hour in remainders[: total - sum(shares)]:
        shares[hour] += 1
    if day == tweet.created_at.date():
        first = tweet.created_at.hour
        shares = [0] * first + shares[first:]
    return tuple(shares)


@lru_cache(maxsize=65536)
def _visible_hour_counts(
    seed: int, tweet: Tweet, metric: str, day: date, as_of_hour: datetime, revision_hours: int
) -> tuple[int, ...]:
    """The 24 counts of a UTC day as the API shows them at ``as_of_hour`` (revisions applied)."""
    finals = _hour_counts(seed, tweet, metric, day)
    first = (as_of_hour - datetime.combine(day, datetime.min.time(), UTC)) // HOUR
    return tuple(
        visible_count(final, first - hour, revision_hours) for hour, final in enumerate(finals)
    )


@lru_cache(maxsize=65536)
def _full_days_total(seed: int, tweet: Tweet, metric: str, today: date) -> int:
    """Sum of every complete UTC day from creation up to (not including) ``today``."""
    first = tweet.created_at.date()
    last = min(today, first + timedelta(days=ACTIVE_DAYS + 1))
    days = range(1, max(0, (last - first).days))
    return sum(_hour_counts(seed, tweet, metric, first)) * (today > first) + sum(
        _day_base(seed, tweet, metric, first + timedelta(days=offset)) for offset in days
    )


__all__ = [
    "HISTORICAL_METRICS",
    "REVISION_HOURS",
    "TOTALS_METRICS",
    "ExpectedRow",
    "SandboxModel",
    "Tweet",
    "User",
    "account_username",
    "ceil_hour",
    "floor_hour",
    "visible_count",
]
