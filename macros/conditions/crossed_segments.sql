{#-
  Crossed segments (segment_types.crosses = 'a|b'): one row per pair of a segment of type a and
  a segment of type b that share the `keys` (a respondent's own segments, or a wave's labels),
  with the value 'value_a|value_b'. `label_columns` are joined as 'label a × label b';
  `extra` is appended to the select list as is.
-#}
{% macro crossed_segments(simple, keys, label_columns=[], extra=none) %}
    select
        {%- for key in keys %}
        first_part.{{ key }},
        {%- endfor %}
        types.segment_type,
        first_part.segment_value || '|' || second_part.segment_value as segment_value
        {%- for column in label_columns %},
        first_part.{{ column }} || ' × ' || second_part.{{ column }} as {{ column }}
        {%- endfor %}
        {%- if extra %},
        {{ extra }}
        {%- endif %}
    from {{ ref('segment_types') }} as types
    inner join {{ simple }} as first_part
        on first_part.survey = types.survey
        and first_part.segment_type = split_part(types.crosses, '|', 1)
    inner join {{ simple }} as second_part
        on second_part.segment_type = split_part(types.crosses, '|', 2)
        {%- for key in keys %}
        and second_part.{{ key }} = first_part.{{ key }}
        {%- endfor %}
    where coalesce(types.crosses, '') <> ''
{% endmacro %}
