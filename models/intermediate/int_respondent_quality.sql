-- One row per landed respondent: a flag per quality check and whether the respondent is
-- quarantined (fails a blocking check) — quarantined respondents are kept out of every figure.
{{ config(materialized='incremental_by_wave') }}
{%- set waves = waves_to_build() %}

with respondents as (

    select * from {{ ref('stg_landed__respondents') }}
    where {{ wave_filter(waves) }}

),

checks as (

    select * from {{ ref('int_respondent_checks') }}
    where {{ wave_filter(waves) }}

),

per_respondent as (

    select
        respondent_key,
        survey,
        wave_year,
        {% for check in quality_checks() %}
            bool_or(check_id = '{{ check }}') as is_{{ check }},
        {% endfor %}
        bool_or(is_blocking) as is_quarantined,
        string_agg(distinct check_id, ', ' order by check_id) filter (where is_blocking)
            as quarantine_reasons
    from checks
    group by all

),

final as (

    select
        respondents.survey,
        respondents.wave_year,
        respondents.respondent_key,
        respondents.source_file,
        respondents.source_row,
        respondents.started_at,
        respondents.ended_at,
        respondents.duration_seconds,
        {% for check in quality_checks() %}
            coalesce(per_respondent.is_{{ check }}, false) as is_{{ check }},
        {% endfor %}
        coalesce(per_respondent.is_quarantined, false) as is_quarantined,
        per_respondent.quarantine_reasons
    from respondents
    left join per_respondent using (survey, wave_year, respondent_key)

)

select * from final
