{#- The rows of every CTE named in `ctes`, stacked with `union all` (same columns, in order). -#}
{% macro union_all_ctes(ctes) %}
    {%- for cte in ctes %}
    select * from {{ cte }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{% endmacro %}
