{#-
  The rows of one stream as a loader landed them: typed, and only the latest load of each key,
  so lookback days re-read by incremental runs and repeated files never count twice. A stream
  never loaded (not selected) is an empty relation with the same columns, so every model builds.

  DuckDB reads the JSONL files target-jsonl writes, one per run with the run's time in its name:
  the latest file wins. PostgreSQL reads the table target-postgres upserts on the key: one row
  per key already, the latest `_sdc_batched_at` first when the loader keeps it.
-#}
{% macro loaded_stream(stream, columns, key) %}
  {%- set relation = stream_relation(stream) -%}
  {%- if relation is none %}
    select
    {%- for name, type in columns.items() %}
      cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
    {%- endfor %}
    where 1 = 0
  {%- else %}
    {#- Files from an older tap may lack a column (account_id came later): null there. -#}
    {%- set present = stream_columns(relation) -%}
    {%- set typed = {} -%}
    {%- for name, type in columns.items() -%}
      {%- do typed.update({name: "cast(" ~ (name if name in present else "null") ~ " as " ~ type ~ ")"}) -%}
    {%- endfor %}
    select {{ columns.keys() | join(", ") }}
    from (
      select
      {%- for name, expression in typed.items() %}
        {{ expression }} as {{ name }},
      {%- endfor %}
        row_number() over (
          partition by {% for name in key %}{{ typed[name] }}{{ ", " if not loop.last }}{% endfor %}
          order by {{ load_order(relation) }} desc, {{ typed["account_id"] }}
        ) as load_rank
      from {{ relation }}
    ) as loads
    where load_rank = 1
  {%- endif %}
{% endmacro %}


{#- The column names a stream's rows have. -#}
{% macro stream_columns(relation) %}
  {{ return(adapter.dispatch("stream_columns")(relation)) }}
{% endmacro %}

{% macro duckdb__stream_columns(relation) %}
  {%- if execute -%}
    {{ return(run_query("describe select * from " ~ relation).columns[0].values() | list) }}
  {%- endif -%}
  {{ return([]) }}
{% endmacro %}

{% macro default__stream_columns(relation) %}
  {%- if execute -%}
    {{ return(adapter.get_columns_in_relation(relation) | map(attribute="name") | list) }}
  {%- endif -%}
  {{ return([]) }}
{% endmacro %}


{#- Where a stream's rows are, or none when it was never loaded. -#}
{% macro stream_relation(stream) %}
  {{ return(adapter.dispatch("stream_relation")(stream)) }}
{% endmacro %}

{% macro duckdb__stream_relation(stream) %}
  {%- set pattern = var("jsonl_dir") ~ "/" ~ stream ~ "*.jsonl" -%}
  {%- if execute -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')").columns[0].values()[0] -%}
    {%- if found == 0 -%}{{ return(none) }}{%- endif -%}
  {%- endif -%}
  {{ return("read_json_auto('" ~ pattern ~ "', filename = true, union_by_name = true, format = 'newline_delimited')") }}
{% endmacro %}

{% macro default__stream_relation(stream) %}
  {%- if execute -%}
    {%- set relation = adapter.get_relation(database=target.database, schema=var("source_schema"), identifier=stream) -%}
    {{ return(relation) }}
  {%- endif -%}
  {{ return(none) }}
{% endmacro %}


{#- What orders the loads of a key, latest last. -#}
{% macro load_order(relation) %}
  {{ return(adapter.dispatch("load_order")(relation)) }}
{% endmacro %}

{% macro duckdb__load_order(relation) %}
  {{ return("filename") }}
{% endmacro %}

{% macro default__load_order(relation) %}
  {%- if execute and relation is not string -%}
    {%- set names = adapter.get_columns_in_relation(relation) | map(attribute="name") | list -%}
    {%- if "_sdc_batched_at" in names -%}{{ return("_sdc_batched_at") }}{%- endif -%}
  {%- endif -%}
  {{ return("1") }}
{% endmacro %}
