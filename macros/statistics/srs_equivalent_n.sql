{#- Sample size giving a simple random sample the standard error `se` of a share p (p (1 - p) /
    se²; `fallback` when se is 0, i.e. p is 0 or 1): Wilson intervals and trend z of raked
    shares use it in place of n. -#}
{% macro srs_equivalent_n(p, se, fallback) -%}
    case when {{ se }} > 0 then ({{ p }}) * (1 - ({{ p }})) / ({{ se }}) ^ 2 else {{ fallback }} end
{%- endmacro %}
