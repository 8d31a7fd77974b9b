-- One row per tweet and UTC day: every metric as a column, the engagement rate, whether the day
-- is final and whether the configuration still tracks it, and the tweet's text, creation time,
-- author and link (text, time and author when the tweets stream is loaded).
with daily as (
    select
        account_id,
        tweet_id,
        engagement_date,
        {{- metric_columns() }}
        {{ day_is_final() }} as is_final
    from {{ ref("int_twitter_engagement__tweet_metric_days") }}
    group by account_id, tweet_id, engagement_date
),

-- The latest run reads the same days for every tweet it tracks.
tracked_tweets as (
    select tweet_id, min(first_date) as first_date, max(last_date) as last_date
    from {{ ref("int_twitter_engagement__tracked_now") }}
    group by tweet_id
)

select
    daily.account_id,
    daily.tweet_id,
    daily.engagement_date,
    {%- for metric in var("historical_metrics") %}
    daily.{{ metric }},
    {%- endfor %}
    {{ engagement_rate("daily.engagements", "daily.impressions") }} as engagement_rate,
    daily.is_final,
    case
        when not exists (select 1 from tracked_tweets) then null
        else tracked_tweets.tweet_id is not null
    end as is_tracked,
    tweets.text,
    tweets.created_at,
    tweets.author_id,
    'https://x.com/i/web/status/' || daily.tweet_id as tweet_url
from daily
left join tracked_tweets
    on tracked_tweets.tweet_id = daily.tweet_id
    and daily.engagement_date between tracked_tweets.first_date and tracked_tweets.last_date
left join {{ ref("stg_twitter_engagement__tweets") }} as tweets
    on tweets.tweet_id = daily.tweet_id
