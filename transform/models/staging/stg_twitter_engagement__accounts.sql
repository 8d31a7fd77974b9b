-- Each account's handle, name and audience, one row per run that read it (`accounts`).
with landed as (
    {{ landed("accounts", {
        "account_id": "varchar",
        "username": "varchar",
        "name": "varchar",
        "followers_count": "bigint",
        "following_count": "bigint",
        "tweet_count": "bigint",
        "listed_count": "bigint",
        "snapshot_at": "timestamp",
    }) }}
)

{{ latest_load(
    "landed",
    ["account_id", "snapshot_at"],
    ["account_id", "username", "name", "followers_count", "following_count", "tweet_count",
     "listed_count", "snapshot_at"],
) }}
