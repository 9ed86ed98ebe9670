{#-
  dbt's `where` test config, plus: when the run passes the var `test_waves` (the orchestrator
  passes the waves of the run), tests of models that are incremental by wave read only those
  waves. The other waves are immutable in those tables and were tested when they were built, so
  a new wave costs its own tests, not the history's (docs/benchmarks.md). Without the var
  (`dbt build` by hand, `make run`), every test reads every wave.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set waves = var('test_waves', none) -%}
    {%- if waves is not none and relation.identifier in _models_by_wave() -%}
        {%- set wave_clause -%}
            wave_year in ({{ waves | map('int') | join(', ') if waves else 'null' }})
        {%- endset -%}
        {%- set where = '(' ~ where ~ ') and ' ~ wave_clause if where else wave_clause -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- Table names of the incremental models (all incremental by wave, with a wave_year column). -#}
{% macro _models_by_wave() -%}
    {%- set names = [] -%}
    {%- for node in (graph.get('nodes') or {}).values() -%}
        {%- if node.resource_type == 'model' and node.config.materialized == 'incremental' -%}
            {%- do names.append(node.alias or node.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do return(names) -%}
{%- endmacro %}
