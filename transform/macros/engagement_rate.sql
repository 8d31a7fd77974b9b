{#- Engagements per impression; null when there are no impressions (or either is unknown). -#}
{% macro engagement_rate(engagements, impressions) %}
  case
    when {{ impressions }} > 0 then cast({{ engagements }} as double precision) / {{ impressions }}
  end
{% endmacro %}
