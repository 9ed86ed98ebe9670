-- Weight of every accepted respondent: raked to population margins (int_poll_weights) in the
-- waves the `waves` seed flags `is_weighted`, 1.0 in every other wave. A view over tables
-- incremental by wave: a new unweighted wave writes no weights.
{{ config(materialized='view') }}

with accepted as (

    select * from {{ ref('int_respondents_accepted') }}

),

waves as (

    select survey, cast(wave_year as integer) as wave_year, is_weighted
    from {{ ref('waves') }}

),

raked as (

    select * from {{ ref('int_poll_weights') }}

),

final as (

    -- a respondent of a weighted wave without a raked weight keeps a null weight (the
    -- not_null test and the weights suite fail): never a silent 1.0
    select
        accepted.survey,
        accepted.wave_year,
        accepted.respondent_key,
        case
            when coalesce(waves.is_weighted, false) then raked.weight else cast(1.0 as double)
        end as weight,
        case
            when coalesce(waves.is_weighted, false) then raked.raking_iterations
            else cast(0 as bigint)
        end as raking_iterations
    from accepted
    left join waves using (survey, wave_year)
    left join raked using (survey, wave_year, respondent_key)

)

select * from final
