-- One row per UTC day for the whole selection (every account): metrics summed, the rate.
select
    engagement_date,
    count(distinct account_id) as accounts,
    sum(tweets) as tweets,
    {%- for metric in var("historical_metrics") %}
    sum({{ metric }}) as {{ metric }},
    {%- endfor %}
    {{ engagement_rate("sum(engagements)", "sum(impressions)") }} as engagement_rate
from {{ ref("engagement_by_account_day") }}
group by engagement_date
