{#-
  `column` is one of the surveys of the `population_margins` seed (the weighted ones), as a
  constant list read when the model runs: DuckDB then skips the other surveys' rows by their
  zone maps without reading them (a filter on a subquery of the seed still read every answer
  of every professional wave). Nothing matches before the seed is built (parsing).
-#}
{% macro in_surveys_with_margins(column) %}
    {%- set surveys = [] -%}
    {%- if execute -%}
        {%- for row in run_query("select distinct survey from " ~ ref('population_margins')
                                 ~ " order by 1").rows -%}
            {%- do surveys.append(row[0]) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if surveys -%}
        {{ column }} in ({% for survey in surveys %}'{{ survey }}'{{ ', ' if not loop.last }}{% endfor %})
    {%- else -%}
        false
    {%- endif -%}
{% endmacro %}
