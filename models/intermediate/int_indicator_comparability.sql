-- Comparability of each indicator in each wave with the previous wave: the least comparable
-- crosswalk flag among the concepts the indicator reads (numerator, base, value question).
with catalogue as (

    select * from {{ ref('indicator_catalogue') }}

),

crosswalk as (

    select * from {{ ref('crosswalk') }}

),

numerator_conditions as (

    {{ explode_conditions('catalogue', ['survey', 'indicator_id'], 'numerator') }}

),

base_conditions as (

    {{ explode_conditions('catalogue', ['survey', 'indicator_id'], 'base') }}

),

concepts as (

    select survey, indicator_id, attr_key as concept_id from numerator_conditions
    union
    select survey, indicator_id, attr_key from base_conditions
    union
    select survey, indicator_id, value_question from catalogue
    where coalesce(value_question, '') <> ''

),

flagged as (

    select
        concepts.survey,
        crosswalk.wave_year,
        concepts.indicator_id,
        max(case crosswalk.comparability
            when 'break' then 2 when 'comparable_with_caveat' then 1 else 0
        end) as level,
        string_agg(distinct crosswalk.note, '; ') as comparability_note
    from concepts
    inner join crosswalk using (survey, concept_id)
    where concepts.concept_id not like 'segment.%'
    group by all

),

final as (

    select
        survey,
        wave_year,
        indicator_id,
        case level when 2 then 'break' when 1 then 'comparable_with_caveat' else 'comparable' end
            as comparability,
        comparability_note
    from flagged

)

select * from final
