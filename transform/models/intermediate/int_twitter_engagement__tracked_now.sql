-- What the configuration tracks now: the (account, tweet, metric) rows of the latest run, with
-- the days it read and the historical stream (shape) it wrote. Every run writes the rows of
-- every account it tracks with the same snapshot_at, so the latest is one run.
select account_id, tweet_id, engagement_type, first_date, last_date, stream, snapshot_at
from {{ ref("stg_twitter_engagement__tracked") }}
where snapshot_at = (select max(snapshot_at) from {{ ref("stg_twitter_engagement__tracked") }})
