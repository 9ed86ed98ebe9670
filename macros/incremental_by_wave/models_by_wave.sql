{#- Names of the models whose tests may read the run's waves only (get_where_subquery): the
    tables materialized 'incremental_by_wave' (all with a wave_year column) and the views (all
    over those tables; tests/test_dbt_project.py checks it). -#}
{% macro models_by_wave() -%}
    {%- set names = [] -%}
    {%- for node in (graph.get('nodes') or {}).values() -%}
        {%- if node.resource_type == 'model'
                and node.config.materialized in ('incremental_by_wave', 'view') -%}
            {%- do names.append(node.alias or node.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(names) -%}
{%- endmacro %}
