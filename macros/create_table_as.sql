{#-
  dbt-duckdb's create_table_as, except for the temporary relation of an `append` incremental
  model (every model incremental by wave): a temporary view instead of a temporary table. The
  incremental materialization then inserts the view's rows into the model's table: the new
  wave is computed and written once, instead of written to a temporary table and copied
  (one wave of 100,000 respondents: 3.3 million answer rows written twice per model;
  docs/benchmarks.md). The schema check (`on_schema_change`) reads the view's columns as it
  read the temporary table's.
-#}
{% macro duckdb__create_table_as(temporary, relation, compiled_code, language='sql',
                                 partitioned_by=none, sorted_by=none) -%}
  {%- if temporary and language == 'sql' and config.get('incremental_strategy') == 'append' -%}
    create or replace temporary view {{ relation.include(database=false, schema=false) }} as (
      {{ compiled_code }}
    );
  {%- else -%}
    {{ dbt.duckdb__create_table_as(temporary, relation, compiled_code, language,
                                   partitioned_by=partitioned_by, sorted_by=sorted_by) }}
  {%- endif -%}
{%- endmacro %}
