-- One row per wave and survey: fieldwork, method, sample sizes, and whether the
-- respondent-level data is synthetic.
with waves as (

    select * from {{ ref('waves') }}

),

respondents as (

    select
        survey,
        wave_year,
        count(*) as landed_n,
        count(*) filter (where not is_quarantined) as respondents_n,
        count(*) filter (where is_quarantined) as quarantined_n
    from {{ ref('int_respondent_quality') }}
    group by all

),

final as (

    select
        waves.survey || ':' || waves.wave_year as wave_key,
        waves.wave_year,
        waves.survey,
        waves.title_fr,
        waves.title_en,
        waves.sponsor,
        waves.population_fr,
        waves.population_en,
        waves.recruitment_fr,
        waves.recruitment_en,
        waves.mode,
        waves.fieldwork_start as fieldwork_start_date,
        waves.fieldwork_end as fieldwork_end_date,
        waves.publication_date,
        coalesce(respondents.landed_n, 0) as landed_n,
        coalesce(respondents.respondents_n, 0) as respondents_n,
        coalesce(respondents.quarantined_n, 0) as quarantined_n,
        waves.is_weighted,
        waves.is_synthetic,
        case
            when waves.is_synthetic
                then 'SYNTHETIC respondent-level data generated from the published figures; '
                    || 'the real files are confidential'
            else 'Respondent-level data as received'
        end as data_note
    from waves
    left join respondents using (survey, wave_year)

)

select * from final
