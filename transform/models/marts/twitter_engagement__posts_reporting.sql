-- One row per tweet and UTC day in the column layout of Fivetran's cross-platform social media
-- reporting package (its rollup report, with the day added), so X sits next to the other
-- platforms in one table. The metric mapping is in the models' documentation.
select
    daily.created_at as created_timestamp,
    daily.tweet_id as post_id,
    daily.text as post_message,
    daily.account_id as page_id,
    accounts.username as page_name,
    daily.tweet_url as post_url,
    'tap-twitter-engagement' as source_relation,
    'twitter' as platform,
    daily.engagement_date as date_day,
    coalesce(daily.url_clicks, 0) + coalesce(daily.hashtag_clicks, 0)
        + coalesce(daily.detail_expands, 0) + coalesce(daily.permalink_clicks, 0)
        + coalesce(daily.user_profile_clicks, 0) + coalesce(daily.media_engagements, 0)
        + coalesce(daily.app_opens, 0) + coalesce(daily.app_install_attempts, 0) as clicks,
    coalesce(daily.impressions, 0) as impressions,
    coalesce(daily.favorites, 0) as likes,
    coalesce(daily.retweets, 0) as shares,
    coalesce(daily.replies, 0) as comments
from {{ ref("twitter_engagement__by_tweet_day") }} as daily
left join {{ ref("int_twitter_engagement__latest_accounts") }} as accounts
    on accounts.account_id = daily.account_id
