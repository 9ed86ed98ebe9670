-- One row per landed respondent with provenance and completion time.
{{ config(materialized='incremental_by_wave') }}
{%- set waves = waves_to_build() %}

with respondents as (

    select * from {{ ref('stg_landed__respondents') }}
    where {{ wave_filter(waves) }}

),

final as (

    select
        survey,
        wave_year,
        respondent_key,
        source_file,
        source_row,
        started_at,
        ended_at,
        duration_seconds
    from respondents

)

select * from final
