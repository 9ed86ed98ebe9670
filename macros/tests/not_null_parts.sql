{#-
  `not_null` for a value built by concatenating `parts` with `||` (fct_response.response_key):
  `||` gives null exactly when one of its operands is null, so the value is null exactly where
  a part is null. Reading the parts spares building every long value (33 million on a view at
  10 × 100,000 respondents) only to test it for null. Same output as `not_null`: the rows.
-#}
{% test not_null_parts(model, column_name, parts) %}

select {{ parts | join(', ') }}
from {{ model }}
where {% for part in parts -%}
    {{ part }} is null{{ ' or ' if not loop.last }}
{%- endfor %}

{% endtest %}
