-- One row per account and UTC day: every metric summed over the account's tweets, the number of
-- tweets with rows that day, the engagement rate, and the handle (when accounts is loaded).
with latest_account as (
    select account_id, username, name
    from (
        select
            account_id,
            username,
            name,
            row_number() over (partition by account_id order by snapshot_at desc) as recency
        from {{ ref("stg_accounts") }}
    ) as snapshots
    where recency = 1
),

daily as (
    select
        account_id,
        engagement_date,
        count(*) as tweets,
        {%- for metric in var("historical_metrics") %}
        sum({{ metric }}) as {{ metric }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref("engagement_by_tweet_day") }}
    group by account_id, engagement_date
)

select
    daily.account_id,
    latest_account.username,
    latest_account.name,
    daily.engagement_date,
    daily.tweets,
    {%- for metric in var("historical_metrics") %}
    daily.{{ metric }},
    {%- endfor %}
    {{ engagement_rate("daily.engagements", "daily.impressions") }} as engagement_rate
from daily
left join latest_account on latest_account.account_id = daily.account_id
