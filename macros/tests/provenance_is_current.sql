{#- Rows of fct_indicator whose provenance no longer matches the waves seed and the pins: a
    published figure or stated change landed after the wave was computed (past waves are
    immutable). Fix: rebuild the wave, `--vars '{rebuild_waves: [<wave_year>]}'`. -#}
{% test provenance_is_current(model) %}

    with indicators as (
        select * from {{ model }}
    )

    select
        indicators.wave_year,
        indicators.survey,
        indicators.indicator_id,
        indicators.segment_type,
        indicators.segment_value,
        indicators.provenance as stored_provenance,
        {{ provenance('waves.is_synthetic', 'pins.wave_year is not null') }} as current_provenance
    from indicators
    left join {{ ref('waves') }} as waves
        on waves.survey = indicators.survey
        and waves.wave_year = indicators.wave_year
    left join {{ ref('int_indicator_pins') }} as pins
        on pins.wave_year = indicators.wave_year
        and pins.survey = indicators.survey
        and pins.indicator_id = indicators.indicator_id
        and pins.segment_type = indicators.segment_type
        and pins.segment_value = indicators.segment_value
    where indicators.provenance
        <> {{ provenance('waves.is_synthetic', 'pins.wave_year is not null') }}

{% endtest %}
