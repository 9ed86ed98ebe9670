{#-
  dbt's `where` test config, plus: when the run names its waves (the orchestrator does), tests
  of models that are incremental by wave read only those waves. The other waves are immutable in
  those tables and were tested when they were built, so a new wave costs its own tests, not the
  history's (docs/benchmarks.md). Without them (`dbt build` by hand, `--full-refresh`), every
  test reads every wave.

  The waves come from the environment variable OBSERVATOIRE_TEST_WAVES (comma-separated; what
  the orchestrator sets) or the var `test_waves` (a list). The environment variable is read only
  at execution, never while parsing: a var that changes from run to run would make dbt re-parse
  the whole project at every run (docs/benchmarks.md), an environment variable read at
  execution does not.

  A test whose config says `meta: {reads_every_wave: true}` is never narrowed: it checks built
  waves against what landed since (`provenance_is_current`: a publication landed with a new
  wave may pin an earlier wave's figures).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set waves = waves_under_test() -%}
    {%- set every_wave = (config.get('meta') or {}).get('reads_every_wave', false) -%}
    {%- if waves is not none and relation.identifier in models_by_wave() and not every_wave -%}
        {%- set wave_clause -%}
            wave_year in ({{ waves | map('int') | join(', ') if waves else 'null' }})
        {%- endset -%}
        {%- set where = '(' ~ where ~ ') and ' ~ wave_clause if where else wave_clause -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
