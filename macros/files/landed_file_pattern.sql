{#- The name of a landed respondent file, <survey>_<wave>[__tag].csv, as a regular expression
    whose groups 1 and 2 are the survey and the wave year. Python reads the same convention
    from observatoire/conventions.py (LANDED_FILE); tests/test_conventions.py checks both agree. -#}
{% macro landed_file_pattern() -%}
    '([a-z]+)_(\d{4})[^/]*\.csv$'
{%- endmacro %}
