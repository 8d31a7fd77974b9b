"""``accounts``: who the accounts are, and their audience, once per run."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from singer_sdk import typing as th
from typing_extensions import override

from tap_twitter_engagement.api import TIMESTAMP_FORMAT
from tap_twitter_engagement.checks import USER_COUNTS
from tap_twitter_engagement.streams.base import ACCOUNT_ID, COUNT_TYPE, Record, TapStream

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_twitter_engagement.run import AccountRun


class AccountsStream(TapStream):
    """One row per account per run: its handle, display name and audience counts from
    ``GET /2/users/me`` (read once per run for the partitions anyway), stamped with when they
    were read, so analysts can name handles and chart audience growth. Not selected by
    default."""

    name = "accounts"
    primary_keys = ("account_id", "snapshot_at")
    selected_by_default = False
    schema = th.PropertiesList(
        ACCOUNT_ID,
        th.Property("username", th.StringType, description="The handle, without @."),
        th.Property("name", th.StringType, description="The display name."),
        *(th.Property(name, COUNT_TYPE) for name in USER_COUNTS),
        th.Property(
            "snapshot_at",
            th.DateTimeType,
            required=True,
            description="When this run read the account (UTC, to the second).",
        ),
    ).to_dict()

    @override
    def account_records(self, account: AccountRun, context: Context | None) -> Iterable[Record]:
        user = account.user
        counts = user["public_metrics"]
        read_at = account.read_at or datetime.now(UTC)
        yield {
            "account_id": account.user_id,
            "username": user.get("username"),
            "name": user.get("name"),
            **{name: counts.get(name) for name in USER_COUNTS},
            "snapshot_at": read_at.strftime(TIMESTAMP_FORMAT),
        }
