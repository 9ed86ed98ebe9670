{#- Rows of the waves to compute (columns or expressions for survey and wave year); `waves`
    from waves_to_build(), none = every row. -#}
{% macro wave_filter(waves, survey='survey', wave_year='wave_year') -%}
    {%- if waves is none -%}
        true
    {%- elif not waves -%}
        false
    {%- else -%}
        ({% for s, w in waves -%}
            ({{ survey }} = '{{ s }}' and {{ wave_year }} = {{ w }}){{ ' or ' if not loop.last }}
        {%- endfor %})
    {%- endif -%}
{%- endmacro %}
