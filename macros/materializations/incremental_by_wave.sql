{#-
  A table that grows by wave. The first build (or --full-refresh) creates the table from the
  model's query over every landed wave. Later builds insert only the rows of the (survey, wave)
  pairs the model's query selects through `waves_to_build()`: the landed waves not yet in the
  table, plus the waves of the `rebuild_waves` var, whose rows are deleted first. Earlier waves
  are never rewritten, so a new wave costs one wave whatever the history (docs/benchmarks.md).

  New rows are read from a temporary VIEW over the model's query and inserted once: dbt's own
  incremental materialization writes them to a temporary table and copies them (one wave of
  100,000 respondents: 3.3 million answer rows written twice per model). A change of columns
  fails the build (the wave already built would not have the new column).

  The model needs a `wave_year` column and filters its inputs with `wave_filter(waves)` or
  `landed_file_filter(waves)`, where `waves = waves_to_build()` (macros/incremental_by_wave/).
-#}
{% materialization incremental_by_wave, adapter='duckdb', supported_languages=['sql'] -%}

  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set full_refresh = should_full_refresh() or (existing_relation is not none
                                                   and existing_relation.is_view) -%}
  {%- set to_drop = [] -%}
  {%- set new_rows = none -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {%- if existing_relation is none -%}
    {%- set build_sql = create_table_as(False, target_relation, compiled_code) -%}
  {%- elif full_refresh -%}
    {#- built aside, then swapped in: a failed build leaves the table as it was -#}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set backup_relation = make_backup_relation(target_relation, existing_relation.type) -%}
    {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
    {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}
    {%- set build_sql = create_table_as(False, intermediate_relation, compiled_code) -%}
  {%- else -%}
    {%- set new_rows = make_temp_relation(target_relation).include(database=false,
                                                                    schema=false) -%}
    {%- call statement('new_rows') -%}
      create or replace temporary view {{ new_rows }} as (
        {{ compiled_code }}
      );
    {%- endcall -%}
    {%- do process_schema_changes('fail', new_rows, existing_relation) -%}
    {%- set columns = adapter.get_columns_in_relation(existing_relation) -%}
    {%- set column_list = get_quoted_csv(columns | map(attribute='name')) -%}
    {%- set rebuild = var('rebuild_waves', []) | map('int') | list -%}
    {%- set build_sql -%}
      {%- if rebuild %}
      delete from {{ target_relation }} where wave_year in ({{ rebuild | join(', ') }});
      {%- endif %}
      insert into {{ target_relation }} ({{ column_list }})
      select {{ column_list }} from {{ new_rows }};
    {%- endset -%}
  {%- endif -%}

  {%- call statement('main') -%}
    {{ build_sql }}
  {%- endcall -%}

  {%- if full_refresh and existing_relation is not none -%}
    {%- do adapter.rename_relation(target_relation, backup_relation) -%}
    {%- do adapter.rename_relation(intermediate_relation, target_relation) -%}
    {%- do to_drop.append(backup_relation) -%}
  {%- endif -%}

  {%- do persist_docs(target_relation, model) -%}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {%- do adapter.commit() -%}

  {%- for relation in to_drop -%}
    {%- do adapter.drop_relation(relation) -%}
  {%- endfor -%}
  {%- if new_rows is not none -%}
    {%- do run_query('drop view if exists ' ~ new_rows) -%}
  {%- endif -%}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{%- endmaterialization %}
