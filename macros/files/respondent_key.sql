{#- Keyed pseudonym (HMAC, see observatoire/warehouse/pseudonym.py) of a respondent within its file. -#}
{% macro respondent_key(survey, wave_year, respondent_id) -%}
    hmac_pseudonym({{ survey }} || ':' || cast({{ wave_year }} as varchar) || ':' || {{ respondent_id }})
{%- endmacro %}
