{#- A landed row's survey, wave and file name, from its file's path (column `filename`);
    `prefix` keeps the survey and wave apart from the file's own columns. -#}
{% macro landed_file_columns(prefix='') -%}
    {{ landed_survey('filename') }} as {{ prefix }}survey,
        {{ landed_wave_year('filename') }} as {{ prefix }}wave_year,
        regexp_extract(filename, '[^/]+$') as source_file
{%- endmacro %}
