-- One row per respondent × question × answer option (multi-select options shown are rows
-- with is_selected true/false), with the respondent's weight (1.0 for unweighted surveys).
-- Accepted respondents only (the weights table holds only them).
-- A view over tables incremental by wave: writing it would cost more than reading it.
{{ config(materialized='view') }}

with responses as (

    select * from {{ ref('int_responses_harmonised') }}

),

weights as (

    select * from {{ ref('int_respondent_weights') }}

),

final as (

    select
        responses.survey || ':' || responses.wave_year || ':' || responses.respondent_key || ':'
        || responses.question_id || ':' || responses.option_code as response_key,
        responses.respondent_key,
        responses.survey,
        responses.wave_year,
        responses.survey || ':' || responses.wave_year || ':' || responses.question_id as question_key,
        responses.question_id,
        responses.option_code,
        responses.option_key,
        responses.concept_id,
        responses.concept_option_key,
        responses.is_selected,
        responses.numeric_value,
        weights.weight
    from responses
    inner join weights using (survey, wave_year, respondent_key)

)

select * from final
