-- historical_engagement_by_tweet_type_day_hour, the hourly shape (tweet.id, engagement.type,
-- engagement.day, engagement.hour; long): one row per tweet, metric, UTC day and hour, the
-- latest load of each.
{{ historical_rows("historical_engagement_by_tweet_type_day_hour") }}
