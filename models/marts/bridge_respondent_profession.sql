-- Respondent × profession (a professional may hold several): the professions ticked.
{{ config(materialized='incremental_by_wave') }}
{%- set waves = waves_to_build() %}

with segments as (

    select * from {{ ref('int_respondent_segments') }}
    where {{ wave_filter(waves) }}

),

final as (

    select
        respondent_key,
        survey,
        wave_year,
        segment_value as profession
    from segments
    where segment_type = 'profession' and is_option_segment

)

select * from final
