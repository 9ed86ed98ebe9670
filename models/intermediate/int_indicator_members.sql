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

    select survey, wave_year, respondent_key, concept_id as question_id, numeric_value
    from {{ ref('int_responses_harmonised') }}
    where numeric_value is not null and {{ wave_filter(waves) }}

),

conditions as (

    -- each distinct condition once, however many indicators share it (the ten use-case
    -- shares all have the base `use_cases=*`): matching is the costly step
    select distinct survey, condition
    from (
        select survey, numerator as condition from catalogue
        union all
        select survey, base as condition from catalogue
    ) as all_conditions
    where coalesce(condition, '') <> ''

),

exploded_conditions as (

    {{ explode_conditions('conditions', ['survey', 'condition'], 'condition') }}

),

condition_members as materialized (

    {{ match_conditions('exploded_conditions', 'attributes', ['survey', 'condition']) }}

),

numerator_members as (

    select catalogue.survey, catalogue.indicator_id, matched.wave_year, matched.respondent_key
    from catalogue
    inner join condition_members as matched
        on matched.survey = catalogue.survey
        and matched.condition = catalogue.numerator

),

base_members as (

    select catalogue.survey, catalogue.indicator_id, matched.wave_year, matched.respondent_key
    from catalogue
    inner join condition_members as matched
        on matched.survey = catalogue.survey
        and matched.condition = catalogue.base
    union all
    -- an indicator without a base condition covers every respondent of its survey
    select catalogue.survey, catalogue.indicator_id, respondents.wave_year, respondents.respondent_key
    from catalogue
    inner join respondents on respondents.survey = catalogue.survey
    where coalesce(catalogue.base, '') = ''

),

final as (

    -- figures use accepted respondents only (quarantine: int_respondent_quality)
    select
        base_members.survey,
        base_members.wave_year,
        base_members.indicator_id,
        base_members.respondent_key,
        catalogue.unit,
        case
            when coalesce(catalogue.numerator, '') = '' then true
            else numerator_members.respondent_key is not null
        end as is_numerator,
        numeric_answers.numeric_value
    from base_members
    inner join respondents
        on respondents.survey = base_members.survey
        and respondents.wave_year = base_members.wave_year
        and respondents.respondent_key = base_members.respondent_key
    inner join catalogue
        on catalogue.survey = base_members.survey
        and catalogue.indicator_id = base_members.indicator_id
    left join numerator_members
        on numerator_members.survey = base_members.survey
        and numerator_members.indicator_id = base_members.indicator_id
        and numerator_members.wave_year = base_members.wave_year
        and numerator_members.respondent_key = base_members.respondent_key
    left join numeric_answers
        on numeric_answers.survey = base_members.survey
        and numeric_answers.wave_year = base_members.wave_year
        and numeric_answers.respondent_key = base_members.respondent_key
        and numeric_answers.question_id = catalogue.value_question
    -- a mean is computed over respondents who gave a value
    where catalogue.unit <> 'mean' or numeric_answers.numeric_value is not null

)

select * from final
