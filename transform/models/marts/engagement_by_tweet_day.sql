-- One row per tweet and UTC day: every metric as a column, the engagement rate, and the tweet's
-- text, creation time, author and link (text, time and author when the tweets stream is loaded).
with daily as (
    select
        account_id,
        tweet_id,
        engagement_date,
        {%- for metric in var("historical_metrics") %}
        sum(case when engagement_type = '{{ metric }}' then engagement_count end) as {{ metric }},
        {%- endfor %}
        count(*) as metric_rows
    from {{ ref("stg_historical_engagement") }}
    group by account_id, tweet_id, engagement_date
)

select
    daily.account_id,
    daily.tweet_id,
    daily.engagement_date,
    {%- for metric in var("historical_metrics") %}
    daily.{{ metric }},
    {%- endfor %}
    {{ engagement_rate("daily.engagements", "daily.impressions") }} as engagement_rate,
    tweets.text,
    tweets.created_at,
    tweets.author_id,
    'https://x.com/i/web/status/' || daily.tweet_id as tweet_url
from daily
left join {{ ref("stg_tweets") }} as tweets on tweets.tweet_id = daily.tweet_id
