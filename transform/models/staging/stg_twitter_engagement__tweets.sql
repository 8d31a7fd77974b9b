-- The selected tweets' text, creation time, author and public counts (`tweets`, key `id`,
-- named tweet_id here as everywhere else), the latest load of each.
with landed as (
    {{ landed("tweets", {
        "account_id": "varchar",
        "id": "varchar",
        "text": "varchar",
        "created_at": "timestamp",
        "author_id": "varchar",
        "conversation_id": "varchar",
        "lang": "varchar",
        "retweet_count": "bigint",
        "reply_count": "bigint",
        "like_count": "bigint",
        "quote_count": "bigint",
        "impression_count": "bigint",
        "bookmark_count": "bigint",
    }) }}
),

latest as (
    {{ latest_load(
        "landed",
        ["id"],
        ["id", "account_id", "text", "created_at", "author_id", "conversation_id", "lang",
         "retweet_count", "reply_count", "like_count", "quote_count", "impression_count",
         "bookmark_count"],
    ) }}
)

select
    id as tweet_id,
    account_id,
    text,
    created_at,
    author_id,
    conversation_id,
    lang,
    retweet_count,
    reply_count,
    like_count,
    quote_count,
    impression_count,
    bookmark_count
from latest
