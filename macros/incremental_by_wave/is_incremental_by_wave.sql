{#- True when the model (materialized 'incremental_by_wave') adds waves to a table already
    built: false while parsing, on the first build, with --full-refresh, and in unit tests. -#}
{% macro is_incremental_by_wave() -%}
    {%- if not execute or this is none or should_full_refresh()
            or model.config.materialized != 'incremental_by_wave' -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {{ return(relation is not none and relation.type == 'table') }}
{%- endmacro %}
