-- Segments of each respondent, from the `segments` seed (conditions on answers): one row per
-- respondent × segment, plus `all` and the cross segments of `segment_types` (a|b).
{{ config(materialized='incremental_by_wave') }}
{%- set waves = waves_to_build() %}

-- read twice (option segments, explicit conditions): `not materialized`, each use scans the
-- table for its own columns instead of a whole copy of the answers
with answers as not materialized (

    select
        survey, wave_year, respondent_key, concept_id as attr_key, concept_option_key as attr_value,
        is_selected
    from {{ ref('int_responses_harmonised') }}
    where {{ wave_filter(waves) }}

),

respondents as (

    select * from {{ ref('int_respondents') }}
    where {{ wave_filter(waves) }}

),

segment_conditions as (

    {{ explode_conditions(ref('segments'), ['survey', 'segment_type', 'segment_value'], 'condition') }}

),

from_options as (

    -- `*` segments: one segment per selected option key of the condition's question
    select distinct
        survey,
        answers.wave_year,
        answers.respondent_key,
        conditions.segment_type,
        answers.attr_value as segment_value,
        true as is_option_segment
    from segment_conditions as conditions
    inner join answers using (survey, attr_key)
    where conditions.segment_value = '*' and answers.is_selected

),

explicit_conditions as (

    select * from segment_conditions
    where segment_value <> '*'

),

explicit as (

    select
        survey,
        wave_year,
        respondent_key,
        segment_type,
        segment_value,
        false as is_option_segment
    from ({{ match_conditions('explicit_conditions', 'answers',
                              ['survey', 'segment_type', 'segment_value']) }})

),

everyone as (

    select
        survey,
        wave_year,
        respondent_key,
        'all' as segment_type,
        'all' as segment_value,
        false as is_option_segment
    from respondents

),

simple as (

    {{ union_all_ctes(['from_options', 'explicit', 'everyone']) }}

),

crossed as (

    {{ crossed_segments('simple', ['survey', 'wave_year', 'respondent_key'],
                        extra='false as is_option_segment') }}

),

final as (

    {{ union_all_ctes(['simple', 'crossed']) }}

)

select * from final
