-- One row per tweet and metric: the sum over the days loaded next to the latest lifetime total
-- (engagement_totals), for the metrics either has. The two differ by the engagement outside
-- the loaded days; the lifetime total is a snapshot, never to be summed.
with in_range as (
    select
        account_id,
        tweet_id,
        engagement_type,
        min(engagement_date) as first_day,
        max(engagement_date) as last_day,
        cast(sum(engagement_count) as bigint) as count_in_range
    from {{ ref("int_twitter_engagement__tweet_metric_days") }}
    group by account_id, tweet_id, engagement_type
),

latest_snapshot as (
    select account_id, tweet_id, engagement_type, snapshot_at, engagement_count
    from (
        select
            *,
            max(snapshot_at) over (partition by tweet_id) as latest
        from {{ ref("stg_twitter_engagement__engagement_totals") }}
    ) as snapshots
    where snapshot_at = latest
)

select
    coalesce(in_range.account_id, latest_snapshot.account_id) as account_id,
    coalesce(in_range.tweet_id, latest_snapshot.tweet_id) as tweet_id,
    coalesce(in_range.engagement_type, latest_snapshot.engagement_type) as engagement_type,
    in_range.first_day,
    in_range.last_day,
    in_range.count_in_range,
    latest_snapshot.engagement_count as lifetime_count,
    latest_snapshot.snapshot_at as lifetime_snapshot_at
from in_range
full outer join latest_snapshot
    on latest_snapshot.tweet_id = in_range.tweet_id
    and latest_snapshot.engagement_type = in_range.engagement_type
