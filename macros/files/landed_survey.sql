{#- Survey (instrument) encoded in a landed file's name (see landed_file_pattern). -#}
{% macro landed_survey(filename) -%}
    regexp_extract({{ filename }}, {{ landed_file_pattern() }}, 1)
{%- endmacro %}
