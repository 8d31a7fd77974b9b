-- The hourly series of the last 28 hours per tweet and metric (`engagement_28hr`); every row is
-- provisional (is_final false): the API is still revising those hours.
with landed as (
    {{ landed("engagement_28hr", {
        "account_id": "varchar",
        "tweet_id": "varchar",
        "engagement_type": "varchar",
        "engagement_date": "date",
        "engagement_hour": "integer",
        "engagement_count": "bigint",
        "is_final": "boolean",
        "read_at": "timestamp",
    }) }}
)

{{ latest_load(
    "landed",
    ["tweet_id", "engagement_type", "engagement_date", "engagement_hour"],
    ["account_id", "tweet_id", "engagement_type", "engagement_date", "engagement_hour",
     "engagement_count", "is_final", "read_at"],
    order=["read_at"],
) }}
