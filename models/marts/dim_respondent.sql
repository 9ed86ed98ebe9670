-- One row per landed respondent and wave (pseudonymised key): profile segments, quality
-- flags, quarantine decision and weight (null when quarantined).
-- No raw id, no free text, no timestamps: nothing that identifies a person.
{{ config(materialized='incremental_by_wave') }}
{%- set waves = waves_to_build() %}

with respondents as (

    select * from {{ ref('int_respondent_quality') }}
    where {{ wave_filter(waves) }}

),

segments as (

    select * from {{ ref('int_respondent_segments') }}
    where {{ wave_filter(waves) }}

),

weights as (

    select * from {{ ref('int_respondent_weights') }}
    where {{ wave_filter(waves) }}

),

profile as (

    select
        survey,
        wave_year,
        respondent_key,
        max(case when segment_type = 'gender' then segment_value end) as gender,
        max(case when segment_type = 'age_band' then segment_value end) as age_band,
        max(case when segment_type = 'sector' then segment_value end) as sector,
        max(case when segment_type = 'usage_frequency' then segment_value end) as ai_usage_profile,
        max(case when segment_type = 'region' then segment_value end) as region,
        max(case when segment_type = 'socio_professional_category' then segment_value end)
            as socio_professional_category
    from segments
    group by all

),

final as (

    select
        respondents.respondent_key,
        respondents.survey,
        respondents.wave_year,
        profile.gender,
        profile.age_band,
        profile.sector,
        profile.ai_usage_profile,
        profile.region,
        profile.socio_professional_category,
        {% for check in quality_checks() %}
            respondents.is_{{ check }},
        {% endfor %}
        respondents.is_quarantined,
        respondents.quarantine_reasons,
        weights.weight
    from respondents
    left join profile using (survey, wave_year, respondent_key)
    left join weights using (survey, wave_year, respondent_key)

)

select * from final
