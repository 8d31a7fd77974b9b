{#- Each historical metric as a column: the sum of the rows of that metric, a BIGINT, null when
    no row has it (the metric was not loaded). -#}
{% macro metric_columns(type_column="engagement_type", count_column="engagement_count") %}
  {%- for metric in var("historical_metrics") %}
        cast(sum(case when {{ type_column }} = '{{ metric }}' then {{ count_column }} end) as bigint)
            as {{ metric }},
  {%- endfor %}
{% endmacro %}


{#- Whether a day's counts are final: those the configuration tracks, when it tracks any. A metric
    or tweet it no longer reads keeps the flag of its last read and is never read again, so its
    rows would keep a day provisional for good (after a switch of api, say). An is_tracked null
    (the tracked stream never loaded) counts as tracked. -#}
{% macro day_is_final() -%}
    coalesce(bool_and(is_final) filter (where coalesce(is_tracked, true)), bool_and(is_final))
{%- endmacro %}


{#- Per account and UTC day from the canonical rows (only the tracked ones with
    `tracked_only`): the metrics summed over the account's tweets, final only when every row
    summed is, the rate, and the handle. -#}
{% macro account_day(tracked_only=false) %}
with daily as (
    select
        account_id,
        engagement_date,
        count(distinct tweet_id) as tweets,
        {{- metric_columns() }}
        {{ day_is_final() }} as is_final
    from {{ ref("int_twitter_engagement__tweet_metric_days") }}
    {%- if tracked_only %}
    where is_tracked
    {%- endif %}
    group by account_id, engagement_date
)

select
    daily.account_id,
    accounts.username,
    accounts.name,
    daily.engagement_date,
    daily.tweets,
    {%- for metric in var("historical_metrics") %}
    daily.{{ metric }},
    {%- endfor %}
    {{ engagement_rate("daily.engagements", "daily.impressions") }} as engagement_rate,
    daily.is_final
from daily
left join {{ ref("int_twitter_engagement__latest_accounts") }} as accounts
    on accounts.account_id = daily.account_id
{% endmacro %}
