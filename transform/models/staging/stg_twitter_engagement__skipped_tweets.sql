-- Tweets an endpoint refused or served only in part, and why (`skipped_tweets`).
with landed as (
    {{ landed("skipped_tweets", {
        "account_id": "varchar",
        "tweet_id": "varchar",
        "endpoint": "varchar",
        "reason": "varchar",
        "detected_at": "timestamp",
    }) }}
)

{{ latest_load(
    "landed",
    ["account_id", "tweet_id", "endpoint", "reason"],
    ["account_id", "tweet_id", "endpoint", "reason", "detected_at"],
    order=["detected_at"],
) }}
