{#-
  The historical streams the marts can read, and their staging models. The tap writes each
  shape (group_by and metrics_layout) to a stream and table of its own; the per-tweet,
  per-metric, per-day grain comes out of every shape whose group_by holds tweet.id,
  engagement.type and engagement.day: the default one and the hourly one (hours summed), each
  in the long or the wide layout. (The hourly models are named shorter than their streams:
  PostgreSQL cuts names, and dbt's __dbt_backup copies of them, at 63 characters.)
-#}
{% macro readable_shapes() %}
  {{ return({
      "historical_engagement": {
          "hourly": false, "wide": false,
          "model": "stg_twitter_engagement__historical_engagement"},
      "historical_engagement_wide": {
          "hourly": false, "wide": true,
          "model": "stg_twitter_engagement__historical_engagement_wide"},
      "historical_engagement_by_tweet_type_day_hour": {
          "hourly": true, "wide": false,
          "model": "stg_twitter_engagement__historical_hourly"},
      "historical_engagement_by_tweet_type_day_hour_wide": {
          "hourly": true, "wide": true,
          "model": "stg_twitter_engagement__historical_hourly_wide"},
  }) }}
{% endmacro %}


{#- One readable shape's rows in the long form (one row per tweet, metric, day[, hour]), the
    latest load of each: the wide layout unpivoted first, so that a metric null in a later
    load (not served, or no longer configured) keeps the count an earlier load had. -#}
{% macro historical_rows(stream) %}
  {%- set shape = readable_shapes()[stream] -%}
  {%- set columns = {"account_id": "varchar", "tweet_id": "varchar"} -%}
  {%- if not shape.wide %}{% do columns.update({"engagement_type": "varchar"}) %}{% endif -%}
  {%- do columns.update({"engagement_date": "date"}) -%}
  {%- if shape.hourly %}{% do columns.update({"engagement_hour": "integer"}) %}{% endif -%}
  {%- if shape.wide -%}
    {%- for metric in var("historical_metrics") %}{% do columns.update({metric: "bigint"}) %}{% endfor -%}
  {%- else -%}
    {%- do columns.update({"engagement_count": "bigint"}) -%}
  {%- endif -%}
  {%- do columns.update({"is_final": "boolean", "read_at": "timestamp"}) -%}
  {%- set hour = ["engagement_hour"] if shape.hourly else [] -%}
  {%- set key = ["tweet_id", "engagement_type", "engagement_date"] + hour -%}
  {%- set long = ["account_id"] + key + ["engagement_count", "is_final", "read_at"] -%}
with landed as (
    {{ landed(stream, columns) }}
),

long_rows as (
{%- if shape.wide %}
    {%- for metric in var("historical_metrics") %}
    select
        account_id,
        tweet_id,
        cast('{{ metric }}' as varchar) as engagement_type,
        engagement_date,
        {%- if shape.hourly %}
        engagement_hour,
        {%- endif %}
        {{ metric }} as engagement_count,
        is_final,
        read_at,
        _load_order
    from landed
    where {{ metric }} is not null
    {{ "union all" if not loop.last }}
    {%- endfor %}
{%- else %}
    select * from landed
{%- endif %}
)

{{ latest_load("long_rows", key, long, order=["read_at"]) }}
{% endmacro %}


{#- Why a historical stream cannot give the marts' grain ("" when it can), from its name:
    historical_engagement_by_<parts>[_wide], parts from tweet, type, day, hour. -#}
{% macro shape_gap(stream) %}
  {%- if stream in readable_shapes() -%}{{ return("") }}{%- endif -%}
  {%- set parts = stream.split("_by_")[-1].split("_") if "_by_" in stream else [] -%}
  {%- set missing = [] -%}
  {%- for part, name in [("tweet", "tweet.id"), ("type", "engagement.type"), ("day", "engagement.day")] -%}
    {%- if part not in parts and not (part == "type" and "wide" in parts) -%}{% do missing.append(name) %}{%- endif -%}
  {%- endfor -%}
  {{ return("group_by without " ~ (missing | join(" and ") if missing else "a shape the models know")) }}
{% endmacro %}


{#- Stops the build, in one line naming group_by, when the latest run (per `tracked_now`, the
    latest tracked snapshot) wrote a shape the marts cannot read: they would silently stop at
    that run's rows. Nothing when the tracked stream was never loaded. -#}
{% macro require_readable_shape(tracked_now) %}
  {%- if execute -%}
    {%- set streams = run_query("select distinct stream from " ~ tracked_now ~ " order by 1").columns[0].values() -%}
    {%- for stream in streams if shape_gap(stream) -%}
      {{ exceptions.raise_compiler_error(
          "The marts need tweet.id, engagement.type and engagement.day in group_by; the latest "
          ~ "run wrote " ~ stream ~ " (" ~ shape_gap(stream) ~ "). Put them back in group_by "
          ~ "(engagement.hour and metrics_layout wide may stay) and run the tap again: the rows "
          ~ "loaded before stay and the marts read them (README: For analysts, Shapes)."
      ) }}
    {%- endfor -%}
  {%- endif -%}
{% endmacro %}
