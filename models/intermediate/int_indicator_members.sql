-- Which respondents are in each indicator's base and numerator, from the catalogue's
-- conditions: one row per indicator × respondent in the base. Generic: no SQL per indicator.
{{ config(materialized='incremental_by_wave') }}
{%- set waves = waves_to_build() %}

with attributes as (

    select * from {{ ref('int_respondent_attributes') }}
    where {{ wave_filter(waves) }}

),

respondents as not materialized (

    select * from {{ ref('int_respondents_accepted') }}
    where {{ wave_filter(waves) }}

),

catalogue as (

    select * from {{ ref('indicator_catalogue') }}

),

numeric_answers as (

    -- the answers a mean reads: the concept is the catalogue's `value_question`
    select survey, wave_year, respondent_key, concept_id as value_question, numeric_value
    from {{ ref('int_responses_harmonised') }}
    where numeric_value is not null and {{ wave_filter(waves) }}

),

indicator_conditions as (

    -- the numerator and the base condition of each indicator, a row each
    select survey, indicator_id, 'numerator' as part, numerator as condition from catalogue
    union all
    select survey, indicator_id, 'base' as part, base as condition from catalogue

),

conditions as (

    -- each distinct condition once, however many indicators share it (the ten use-case
    -- shares all have the base `use_cases=*`): matching is the costly step
    select distinct survey, condition
    from indicator_conditions
    where coalesce(condition, '') <> ''

),

exploded_conditions as (

    {{ explode_conditions('conditions', ['survey', 'condition'], 'condition') }}

),

condition_members as materialized (

    {{ match_conditions('exploded_conditions', 'attributes', ['survey', 'condition']) }}

),

numerator_members as (

    select survey, indicator_id, wave_year, respondent_key
    from indicator_conditions
    inner join condition_members using (survey, condition)
    where part = 'numerator'

),

base_members as (

    select survey, indicator_id, wave_year, respondent_key
    from indicator_conditions
    inner join condition_members using (survey, condition)
    where part = 'base'
    union all
    -- an indicator without a base condition covers every respondent of its survey
    select survey, catalogue.indicator_id, respondents.wave_year, respondents.respondent_key
    from catalogue
    inner join respondents using (survey)
    where coalesce(catalogue.base, '') = ''

),

final as (

    -- figures use accepted respondents only (quarantine: int_respondent_quality)
    select
        survey,
        wave_year,
        indicator_id,
        respondent_key,
        catalogue.unit,
        case
            when coalesce(catalogue.numerator, '') = '' then true
            else numerator_members.respondent_key is not null
        end as is_numerator,
        numeric_answers.numeric_value
    from base_members
    inner join respondents using (survey, wave_year, respondent_key)
    inner join catalogue using (survey, indicator_id)
    left join numerator_members using (survey, indicator_id, wave_year, respondent_key)
    left join numeric_answers using (survey, wave_year, respondent_key, value_question)
    -- a mean is computed over respondents who gave a value
    where catalogue.unit <> 'mean' or numeric_answers.numeric_value is not null

)

select * from final
