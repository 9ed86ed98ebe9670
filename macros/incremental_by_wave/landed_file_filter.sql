{#- Landed rows of the waves to compute, as a filter on the file name DuckDB prunes files with. -#}
{% macro landed_file_filter(waves, filename='filename') -%}
    {{ wave_filter(waves, landed_survey(filename), landed_wave_year(filename)) }}
{%- endmacro %}
