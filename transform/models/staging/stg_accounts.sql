-- Each account's handle, name and audience, one row per run that read it (`accounts`).
{{ loaded_stream(
    "accounts",
    {
      "account_id": "varchar",
      "username": "varchar",
      "name": "varchar",
      "followers_count": "bigint",
      "following_count": "bigint",
      "tweet_count": "bigint",
      "listed_count": "bigint",
      "snapshot_at": "timestamp",
    },
    ["account_id", "snapshot_at"],
) }}
