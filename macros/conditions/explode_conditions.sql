{#-
  Conditions as data. A condition `key=v1|v2;key2=*` (clauses joined by `;`, all must hold) is
  exploded into one row per clause × accepted value. `key` is a question id or
  `segment.<segment_type>`; `*` accepts any answer. See observatoire/spec.py for the syntax.
-#}
{% macro explode_conditions(relation, id_columns, condition_column) %}
    with parsed as (
        select
            {% for c in id_columns %}{{ c }}, {% endfor %}
            list_filter(
                list_transform(string_split(coalesce({{ condition_column }}, ''), ';'), x -> trim(x)),
                x -> x <> ''
            ) as clauses
        from {{ relation }}
    ),

    clauses as (
        select
            {% for c in id_columns %}{{ c }}, {% endfor %}
            unnest(clauses) as clause,
            unnest(range(1, len(clauses) + 1)) as clause_no,
            len(clauses) as n_clauses
        from parsed
    )

    select
        {% for c in id_columns %}{{ c }}, {% endfor %}
        clause_no,
        n_clauses,
        trim(split_part(clause, '=', 1)) as attr_key,
        trim(unnest(string_split(split_part(clause, '=', 2), '|'))) as attr_value
    from clauses
{% endmacro %}
