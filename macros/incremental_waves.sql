{#-
  Respondent-level models are incremental by wave: a run computes only the (survey, wave)
  pairs landed (a file `<survey>_<wave>[__tag].csv` in the landing folder) but not yet in the
  model's table, plus the waves listed in the `rebuild_waves` var, whose rows a pre-hook
  deletes first. Adding a wave then costs one wave, whatever the number of waves built.
  As for fct_indicator, past waves are immutable: a corrected file for a wave already built
  needs `--vars '{rebuild_waves: [2024]}'` (or `--full-refresh`).

  In a model:
    {{ config(materialized='incremental', incremental_strategy='append',
              on_schema_change='fail', pre_hook="{{ delete_waves_to_rebuild() }}") }}
    {%- set waves = waves_to_build() %}
    ... from {{ ref('x') }} where {{ wave_filter(waves) }}
-#}

{#- (survey, wave_year) of every landed respondent file, from the file names (none is read). -#}
{% macro landed_waves() %}
    {%- set sql -%}
        select distinct {{ landed_survey('file') }} as survey, {{ landed_wave_year('file') }} as wave_year
        from glob('{{ var("landing_root", "seeds") }}/raw/*.csv')
        order by 1, 2
    {%- endset -%}
    {%- set waves = [] -%}
    {%- for row in run_query(sql).rows -%}
        {%- do waves.append([row[0], row[1] | int]) -%}
    {%- endfor -%}
    {{ return(waves) }}
{% endmacro %}

{#- Waves this run must compute: none = all (first build, full refresh, parsing, unit tests). -#}
{% macro waves_to_build() %}
    {%- if not execute or this is none or not is_incremental() -%}
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

{#- Rows of the waves to compute (columns or expressions for survey and wave year). -#}
{% macro wave_filter(waves, survey='survey', wave_year='wave_year') -%}
    {%- if waves is none -%}
        true
    {%- elif not waves -%}
        false
    {%- else -%}
        ({% for s, w in waves %}({{ survey }} = '{{ s }}' and {{ wave_year }} = {{ w }}){{ ' or ' if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- Landed rows of the waves to compute, as a filter on the file name DuckDB prunes files with. -#}
{% macro landed_file_filter(waves, filename='filename') -%}
    {{ wave_filter(waves, landed_survey(filename), landed_wave_year(filename)) }}
{%- endmacro %}

{#- Pre-hook: waves to rebuild leave the table before they are computed again. -#}
{% macro delete_waves_to_rebuild() -%}
    {%- if is_incremental() and var('rebuild_waves', []) -%}
        delete from {{ this }} where wave_year in ({{ var('rebuild_waves') | join(', ') }})
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
