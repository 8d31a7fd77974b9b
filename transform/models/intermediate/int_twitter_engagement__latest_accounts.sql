-- Each account's latest snapshot: the handle and name the marts show next to its numbers.
select account_id, username, name, followers_count, snapshot_at
from (
    select
        *,
        row_number() over (partition by account_id order by snapshot_at desc) as recency
    from {{ ref("stg_twitter_engagement__accounts") }}
) as snapshots
where recency = 1
