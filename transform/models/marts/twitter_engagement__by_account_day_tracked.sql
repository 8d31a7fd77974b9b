-- twitter_engagement__by_account_day over what the configuration tracks now only: each
-- (tweet, metric, day) the latest run tracks. A tweet or metric dropped from the configuration
-- leaves these sums (a metric no longer tracked is null), not the history.
{{ account_day(tracked_only=true) }}
