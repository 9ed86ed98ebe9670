{#-
  Ids of the respondent- and response-level checks of the `quality_rules` seed, in the seed's
  order (int_respondent_checks implements them; each becomes an `is_<check>` column). Read from
  the seed when the model runs; while parsing, none. Referencing the seed here makes every model
  that calls this macro depend on it.
-#}
{% macro quality_checks() -%}
    {%- set rules = ref('quality_rules') -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set sql -%}
        select check_id from {{ rules }} where level in ('respondent', 'response') order by rowid
    {%- endset -%}
    {{ return(run_query(sql).columns[0].values() | list) }}
{%- endmacro %}
