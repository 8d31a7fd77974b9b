{#- No two rows share these columns (a key of several columns). -#}
{% test unique_key(model, columns) %}
  select {{ columns | join(", ") }}, count(*) as rows_with_the_key
  from {{ model }}
  group by {{ columns | join(", ") }}
  having count(*) > 1
{% endtest %}


{#- Every value of `column_name` is in `field` of `to`, when `to` holds any row at all (a stream
    that was not selected loads nothing, and then there is nothing to relate to). -#}
{% test relationships_if_loaded(model, column_name, to, field) %}
  select child.{{ column_name }}
  from {{ model }} as child
  where child.{{ column_name }} is not null
    and exists (select 1 from {{ to }})
    and not exists (
      select 1 from {{ to }} as parent where parent.{{ field }} = child.{{ column_name }}
    )
{% endtest %}
