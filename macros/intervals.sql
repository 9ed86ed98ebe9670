{#- Wilson score interval for a share p on an effective sample size n (95 % by default). -#}
{% macro wilson_bound(p, n, side, z=1.959963984540054) -%}
    case when {{ n }} > 0 then
        ((({{ p }}) + {{ z }}^2 / (2 * ({{ n }})))
            {{ '-' if side == 'low' else '+' }} {{ z }} * sqrt(
                ({{ p }}) * (1 - ({{ p }})) / ({{ n }}) + {{ z }}^2 / (4 * ({{ n }})^2)
            ))
        / (1 + {{ z }}^2 / ({{ n }}))
    end
{%- endmacro %}

{#- Sample size giving a simple random sample the standard error `se` of a share p (p (1 - p) /
    se²; `fallback` when se is 0, i.e. p is 0 or 1): Wilson intervals and trend z of raked
    shares use it in place of n. -#}
{% macro srs_equivalent_n(p, se, fallback) -%}
    case when {{ se }} > 0 then ({{ p }}) * (1 - ({{ p }})) / ({{ se }}) ^ 2 else {{ fallback }} end
{%- endmacro %}
