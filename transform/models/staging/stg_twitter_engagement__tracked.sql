-- Every (account, tweet, metric) a run's configuration ever tracked, each with the last run
-- that tracked it (`tracked`): the days it read, the historical stream it wrote, when it ran.
with landed as (
    {{ landed("tracked", {
        "account_id": "varchar",
        "tweet_id": "varchar",
        "engagement_type": "varchar",
        "first_date": "date",
        "last_date": "date",
        "stream": "varchar",
        "snapshot_at": "timestamp",
    }) }}
)

{{ latest_load(
    "landed",
    ["account_id", "tweet_id", "engagement_type"],
    ["account_id", "tweet_id", "engagement_type", "first_date", "last_date", "stream",
     "snapshot_at"],
    order=["snapshot_at"],
) }}
