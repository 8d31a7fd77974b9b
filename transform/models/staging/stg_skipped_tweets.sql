-- Tweets an endpoint refused or served only in part, and why (`skipped_tweets`).
{{ loaded_stream(
    "skipped_tweets",
    {
      "account_id": "varchar",
      "tweet_id": "varchar",
      "endpoint": "varchar",
      "reason": "varchar",
      "detected_at": "timestamp",
    },
    ["account_id", "tweet_id", "endpoint", "reason"],
) }}
