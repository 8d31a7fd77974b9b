-- historical_engagement_by_tweet_type_day_hour_wide, the hourly shape in the wide layout,
-- unpivoted: one row per tweet, metric served, UTC day and hour, the latest load of each.
{{ historical_rows("historical_engagement_by_tweet_type_day_hour_wide") }}
