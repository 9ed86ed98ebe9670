{#-
  Like dbt's `unique`, for the long keys (tens of millions of rows), in two passes: group 64-bit
  hashes of the values (fixed-size keys: bounded memory, fast), then compare the values
  themselves only where a hash repeats, so the result is exact (a hash collision is never
  reported as a duplicate). dbt's `unique` groups the values: on the 33 million answers of
  10 × 100,000 respondents it grouped 33 million long strings and ran out of memory
  (docs/benchmarks.md). Same output as `unique`: one row per duplicated value with its count.
-#}
{% test unique_hashed(model, column_name) %}

with repeated_hashes as (

    select hash({{ column_name }}) as value_hash
    from {{ model }}
    where {{ column_name }} is not null
    group by 1
    having count(*) > 1

)

select
    {{ column_name }} as unique_field,
    count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
    and hash({{ column_name }}) in (select value_hash from repeated_hashes)
group by {{ column_name }}
having count(*) > 1

{% endtest %}
