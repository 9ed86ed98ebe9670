{#- Wilson score interval for a share p on an effective sample size n (95 % by default). -#}
{% macro wilson_bound(p, n, side, z=none) -%}
    {%- set z = z if z is not none else z_95() -%}
    case when {{ n }} > 0 then
        ((({{ p }}) + {{ z }}^2 / (2 * ({{ n }})))
            {{ '-' if side == 'low' else '+' }} {{ z }} * sqrt(
                ({{ p }}) * (1 - ({{ p }})) / ({{ n }}) + {{ z }}^2 / (4 * ({{ n }})^2)
            ))
        / (1 + {{ z }}^2 / ({{ n }}))
    end
{%- endmacro %}
