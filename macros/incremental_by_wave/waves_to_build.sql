{#-
  The (survey, wave_year) pairs a model materialized 'incremental_by_wave' computes in this run:
  the landed waves not yet in its table, plus the waves of the `rebuild_waves` var (the
  materialization deletes their rows first); none = every wave (first build, full refresh,
  parsing, unit tests). In a model:
    {%- set waves = waves_to_build() %}
    ... from {{ ref('x') }} where {{ wave_filter(waves) }}
-#}
{% macro waves_to_build() %}
    {%- if not is_incremental_by_wave() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set built = [] -%}
    {%- for row in run_query("select distinct survey, wave_year from " ~ this).rows -%}
        {%- do built.append(row[0] ~ '_' ~ (row[1] | int)) -%}
    {%- endfor -%}
    {%- set rebuild = var('rebuild_waves', []) | map('int') | list -%}
    {%- set todo = [] -%}
    {%- for survey, wave_year in landed_waves() -%}
        {%- if (survey ~ '_' ~ wave_year) not in built or wave_year in rebuild -%}
            {%- do todo.append([survey, wave_year]) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(todo) }}
{% endmacro %}
