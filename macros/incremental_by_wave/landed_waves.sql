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
