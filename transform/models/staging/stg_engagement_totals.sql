-- Lifetime totals per tweet and metric, one snapshot per extraction hour (`engagement_totals`).
{{ loaded_stream(
    "engagement_totals",
    {
      "account_id": "varchar",
      "tweet_id": "varchar",
      "engagement_type": "varchar",
      "snapshot_at": "timestamp",
      "engagement_count": "bigint",
    },
    ["tweet_id", "engagement_type", "snapshot_at"],
) }}
