{#- Schemas named after the layer (staging, intermediate, marts, reports, config), not
    prefixed with the target schema: BI users see `marts.fct_indicator`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
