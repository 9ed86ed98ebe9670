{#- Two-sided 95 % critical value of the standard normal (scipy.stats.norm.ppf(0.975)); Python
    has the same constant in observatoire/conventions.py (Z_95). -#}
{% macro z_95() -%}
    1.959963984540054
{%- endmacro %}
