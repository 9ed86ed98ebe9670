{#- Wave year encoded in a landed file's name (see landed_file_pattern). -#}
{% macro landed_wave_year(filename) -%}
    cast(regexp_extract({{ filename }}, {{ landed_file_pattern() }}, 2) as integer)
{%- endmacro %}
