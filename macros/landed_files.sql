{#- Survey (instrument) and wave year encoded in a landed file's name: <survey>_<wave>[__tag].csv -#}
{% macro landed_survey(filename) -%}
    regexp_extract({{ filename }}, '([a-z]+)_(\d{4})[^/]*\.csv$', 1)
{%- endmacro %}

{% macro landed_wave_year(filename) -%}
    cast(regexp_extract({{ filename }}, '([a-z]+)_(\d{4})[^/]*\.csv$', 2) as integer)
{%- endmacro %}

{#- Keyed pseudonym (HMAC, see observatoire/pseudonym.py) of a respondent within its file. -#}
{% macro respondent_key(survey, wave_year, respondent_id) -%}
    hmac_pseudonym({{ survey }} || ':' || cast({{ wave_year }} as varchar) || ':' || {{ respondent_id }})
{%- endmacro %}
