-- The hourly series of the last 28 hours per tweet and metric (`engagement_28hr`).
{{ loaded_stream(
    "engagement_28hr",
    {
      "account_id": "varchar",
      "tweet_id": "varchar",
      "engagement_type": "varchar",
      "engagement_date": "date",
      "engagement_hour": "integer",
      "engagement_count": "bigint",
    },
    ["tweet_id", "engagement_type", "engagement_date", "engagement_hour"],
) }}
