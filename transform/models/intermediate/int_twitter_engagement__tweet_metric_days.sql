-- One row per tweet, metric and UTC day, from every historical shape that has that grain (the
-- default and the hourly group_by, long or wide; hours summed into days). A change of group_by
-- or metrics_layout writes another table and re-reads the configured range into it: where two
-- shapes hold the same day, the latest read wins. Stops the build, in one line, when the latest
-- run wrote a shape without that grain, rather than serve marts frozen at an older run.
{%- set tracked_now = ref("int_twitter_engagement__tracked_now") %}
{{ require_readable_shape(tracked_now) }}

with shapes as (
    {%- for stream, shape in readable_shapes().items() %}
    select
        account_id,
        tweet_id,
        engagement_type,
        engagement_date,
        {%- if shape.hourly %}
        cast(sum(engagement_count) as bigint) as engagement_count,
        bool_and(is_final) as is_final,
        max(read_at) as read_at,
        {%- else %}
        engagement_count,
        is_final,
        read_at,
        {%- endif %}
        cast('{{ stream }}' as varchar) as stream
    from {{ ref(shape.model) }}
    {%- if shape.hourly %}
    group by account_id, tweet_id, engagement_type, engagement_date
    {%- endif %}
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

latest as (
    select *
    from (
        select
            *,
            row_number() over (
                partition by tweet_id, engagement_type, engagement_date
                order by read_at desc nulls last, stream
            ) as recency
        from shapes
    ) as reads
    where recency = 1
)

select
    latest.account_id,
    latest.tweet_id,
    latest.engagement_type,
    latest.engagement_date,
    latest.engagement_count,
    latest.is_final,
    latest.read_at,
    latest.stream,
    -- Null when the tracked stream was never loaded: then nothing says what is tracked.
    case
        when not exists (select 1 from {{ tracked_now }}) then null
        else tracked.tweet_id is not null
    end as is_tracked
from latest
left join {{ tracked_now }} as tracked
    on tracked.tweet_id = latest.tweet_id
    and tracked.engagement_type = latest.engagement_type
    and latest.engagement_date between tracked.first_date and tracked.last_date
