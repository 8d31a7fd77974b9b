{#-
  Reading what the tap landed: a source table (one stream), typed, and only the latest load of
  each key, so that lookback days re-read by incremental runs never count twice.

  A stream never loaded (not selected, or a shape never configured) is an empty relation with
  the same columns, so every model builds whatever the tap was asked.
-#}


{#- The rows of source table `table`: each of `columns` cast to its type (null where the landed
    rows lack it: files from an older tap), and `_load_order`, what orders two loads of a key. -#}
{% macro landed(table, columns) %}
  {%- set relation = source("twitter_engagement", table) -%}
  {%- set present = landed_columns(relation) -%}
  {%- if present is none %}
    select
    {%- for name, type in columns.items() %}
      cast(null as {{ type }}) as {{ name }},
    {%- endfor %}
      {{ load_order(none) }} as _load_order
    where 1 = 0
  {%- else %}
    select
    {%- for name, type in columns.items() %}
      cast({{ name if name in present else "null" }} as {{ type }}) as {{ name }},
    {%- endfor %}
      {{ load_order(present) }} as _load_order
    from {{ relation }}
  {%- endif %}
{% endmacro %}


{#- One row per `key` from the relation or CTE `rows`: the latest load, by `order` (columns of
    `rows`, latest first), then `_load_order`. Returns `columns`. -#}
{% macro latest_load(rows, key, columns, order=[]) %}
    select {{ columns | join(", ") }}
    from (
        select
            *,
            row_number() over (
                partition by {{ key | join(", ") }}
                order by
                {%- for name in order %} {{ name }} desc nulls last,{% endfor %}
                    _load_order desc nulls last
            ) as load_rank
        from {{ rows }}
    ) as loads
    where load_rank = 1
{% endmacro %}


{#- The columns a landed source table has, or none when the stream was never loaded. -#}
{% macro landed_columns(relation) %}
  {{ return(adapter.dispatch("landed_columns")(relation)) }}
{% endmacro %}

{#- DuckDB: the source is dbt-duckdb's external location over target-jsonl's files; its first
    quoted argument is the files' glob, which matches nothing when the stream was never loaded. -#}
{% macro duckdb__landed_columns(relation) %}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {%- set files = relation.external.split("'")[1] -%}
  {%- set found = run_query("select count(*) from glob('" ~ files ~ "')").columns[0].values()[0] -%}
  {%- if found == 0 -%}{{ return(none) }}{%- endif -%}
  {{ return(run_query("describe select * from " ~ relation).columns[0].values() | list) }}
{% endmacro %}

{#- PostgreSQL (and other warehouses): the table the loader created, if it did. -#}
{% macro default__landed_columns(relation) %}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {%- set table = load_relation(relation) -%}
  {%- if table is none -%}{{ return(none) }}{%- endif -%}
  {{ return(adapter.get_columns_in_relation(table) | map(attribute="name") | list) }}
{% endmacro %}


{#- What orders two loads of one key, latest last (`present`: the landed columns, or none for
    a stream never loaded): each target-jsonl file has the time of its run in its name;
    target-postgres stamps each upsert with `_sdc_batched_at`. -#}
{% macro load_order(present) %}
  {{ return(adapter.dispatch("load_order")(present)) }}
{% endmacro %}

{% macro duckdb__load_order(present) %}
  {{ return("filename" if present is not none else "cast(null as varchar)") }}
{% endmacro %}

{% macro default__load_order(present) %}
  {%- if present is not none and "_sdc_batched_at" in present -%}
    {{ return("_sdc_batched_at") }}
  {%- endif -%}
  {{ return("cast(null as " ~ dbt.type_timestamp() ~ ")") }}
{% endmacro %}
