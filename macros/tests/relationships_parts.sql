{#-
  dbt's `relationships` for a value built by concatenating `parts` with `separator`
  (fct_response.question_key = survey:wave_year:question_id): the distinct parts are grouped
  first (a few hundred questions, not 33 million rows), then concatenated as the model does and
  looked up in `to`. Same output as `relationships`: the values missing from `to`.
-#}
{% test relationships_parts(model, column_name, to, field, parts, separator=':') %}

with child as (

    select {{ parts | join(" || '" ~ separator ~ "' || ") }} as from_field
    from (
        select distinct {{ parts | join(', ') }}
        from {{ model }}
    ) as distinct_parts

),

parent as (

    select {{ field }} as to_field
    from {{ to }}

)

select from_field
from child
left join parent
    on child.from_field = parent.to_field
where child.from_field is not null
    and parent.to_field is null

{% endtest %}
