-- One row per UTC day for the whole selection (every account): metrics summed, the rate, and
-- whether every row summed is final.
select
    engagement_date,
    count(distinct account_id) as accounts,
    cast(sum(tweets) as bigint) as tweets,
    {%- for metric in var("historical_metrics") %}
    cast(sum({{ metric }}) as bigint) as {{ metric }},
    {%- endfor %}
    {{ engagement_rate("sum(engagements)", "sum(impressions)") }} as engagement_rate,
    bool_and(is_final) as is_final
from {{ ref("twitter_engagement__by_account_day") }}
group by engagement_date
