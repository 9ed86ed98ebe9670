{#- Whether any landed file matches `pattern` (relative to the landing root), at execution.
    Optional inputs (a wave may state no change against an earlier one) read an empty relation
    instead of failing on an empty glob. True while parsing, so lineage keeps the source. -#}
{% macro landed_files_exist(pattern) -%}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set sql -%}
        select count(*) from glob('{{ var("landing_root", "seeds") }}/{{ pattern }}')
    {%- endset -%}
    {{ return(run_query(sql).columns[0].values()[0] > 0) }}
{%- endmacro %}
