{#- Quality checks implemented in int_respondent_checks; each has a row in the quality_rules seed. -#}
{% macro quality_checks() -%}
    {{ return(['duplicate_id', 'duplicate_answers', 'invalid_code', 'out_of_range', 'routing',
               'missing_required', 'speeder', 'straightliner']) }}
{%- endmacro %}
