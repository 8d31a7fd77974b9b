-- One row per tweet, metric and UTC day: historical_engagement in its default grouping
-- (tweet.id, engagement.type, engagement.day; long layout), the latest load of each key.
{{ loaded_stream(
    "historical_engagement",
    {
      "account_id": "varchar",
      "tweet_id": "varchar",
      "engagement_type": "varchar",
      "engagement_date": "date",
      "engagement_count": "bigint",
    },
    ["tweet_id", "engagement_type", "engagement_date"],
) }}
