{#- The run's waves for tests (get_where_subquery), or none: the environment variable
    OBSERVATOIRE_TEST_WAVES (comma-separated, read at execution only) or the var `test_waves`. -#}
{% macro waves_under_test() -%}
    {%- set from_env = env_var('OBSERVATOIRE_TEST_WAVES', '') if execute else '' -%}
    {%- if from_env | trim -%}
        {%- do return(from_env.split(',') | map('trim') | reject('equalto', '') | map('int') | list) -%}
    {%- endif -%}
    {%- do return(var('test_waves', none)) -%}
{%- endmacro %}
