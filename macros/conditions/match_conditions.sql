{#-
  Respondents meeting every clause of a condition: `conditions` is the output of
  explode_conditions (with a `survey` column), `attributes` is int_respondent_attributes.
-#}
{% macro match_conditions(conditions, attributes, id_columns) %}
    {#- with `wave_year` among id_columns, conditions apply to their own wave only -#}
    {%- set by_wave = 'wave_year' in id_columns %}
    select
        {% for c in id_columns %}conditions.{{ c }}, {% endfor %}
        {% if not by_wave -%}
        attributes.wave_year,
        {%- endif %}
        attributes.respondent_key
    from {{ conditions }} as conditions
    inner join {{ attributes }} as attributes
        on attributes.survey = conditions.survey
        {% if by_wave %}and attributes.wave_year = conditions.wave_year{% endif %}
        and attributes.attr_key = conditions.attr_key
        and (
            conditions.attr_value = '*'
            or (attributes.attr_value = conditions.attr_value and attributes.is_selected)
        )
    group by all
    {# every clause matched: a bitmask of the clauses met (cheaper than count(distinct)) #}
    having bit_count(bit_or(1::ubigint << (conditions.clause_no - 1)::ubigint))
        = max(conditions.n_clauses)
{% endmacro %}
