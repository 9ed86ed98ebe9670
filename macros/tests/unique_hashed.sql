{#-
  Like dbt's `unique`, for the long keys (tens of millions of rows), in two passes: group 64-bit
  hashes of the values (fixed-size keys: bounded memory, fast), then compare the values
  themselves only where a hash repeats, so the result is exact (a hash collision is never
  reported as a duplicate). dbt's `unique` groups the values: on the 33 million answers of
  10 × 100,000 respondents it grouped 33 million long strings and ran out of memory
  (docs/benchmarks.md). Same output as `unique`: one row per duplicated value with its count.

  `parts` (optional): the columns the value is the concatenation of, joined by `separator`
  (fct_response.response_key). The first pass then hashes the parts, never building the long
  strings (most of the test's time on a view); the values themselves are built and compared
  only where a hash repeats. Equal values have equal parts as long as no part but the last
  holds the separator, so rows where one does are failures too (`n_records` 0: the key is
  ambiguous); a pass proves the values unique.
-#}
{% test unique_hashed(model, column_name, parts=none, separator=':') %}

{%- set hashed = 'hash(' ~ (parts | join(', ') if parts else column_name) ~ ')' %}
{%- set present -%}
    {%- for part in (parts or [column_name]) -%}
        {{ part }} is not null{{ ' and ' if not loop.last }}
    {%- endfor -%}
{%- endset %}

with repeated_hashes as (

    select {{ hashed }} as value_hash
    from {{ model }}
    where {{ present }}
    group by 1
    having count(*) > 1

),

candidates as (

    select {{ column_name }} as value
    from {{ model }}
    where {{ present }}
        and {{ hashed }} in (select value_hash from repeated_hashes)

)

select
    value as unique_field,
    count(*) as n_records
from candidates
where value is not null
group by value
having count(*) > 1
{%- if parts %}
union all
-- a part other than the last holding the separator: equal values could have unequal parts
select {{ column_name }}, 0
from {{ model }}
where {% for part in parts[:-1] -%}
    strpos(cast({{ part }} as varchar), '{{ separator }}') > 0{{ ' or ' if not loop.last }}
{%- endfor %}
{%- endif %}

{% endtest %}
