-- historical_engagement, the default shape (tweet.id, engagement.type, engagement.day; long):
-- one row per tweet, metric and UTC day, the latest load of each.
{{ historical_rows("historical_engagement") }}
