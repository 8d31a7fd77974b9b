-- Lifetime totals per tweet and metric, one snapshot per extraction hour (`engagement_totals`).
with landed as (
    {{ landed("engagement_totals", {
        "account_id": "varchar",
        "tweet_id": "varchar",
        "engagement_type": "varchar",
        "snapshot_at": "timestamp",
        "engagement_count": "bigint",
    }) }}
)

{{ latest_load(
    "landed",
    ["tweet_id", "engagement_type", "snapshot_at"],
    ["account_id", "tweet_id", "engagement_type", "snapshot_at", "engagement_count"],
) }}
