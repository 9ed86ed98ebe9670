-- Valid answers mapped to harmonised concepts with the crosswalk seed: a renamed question
-- keeps its series, recoded options map to the concept's keys. Questions without a crosswalk
-- row map to themselves. Segments and indicators read concepts, never a wave's own ids.
with responses as (

    select * from {{ ref('int_responses_decoded') }}
    where invalid_reason is null

),

crosswalk as (

    select * from {{ ref('crosswalk') }}

),

matched as (

    select
        responses.*,
        crosswalk.concept_id,
        crosswalk.concept_option_key,
        crosswalk.comparability
    from responses
    left join crosswalk
        on crosswalk.survey = responses.survey
        and crosswalk.wave_year = responses.wave_year
        and crosswalk.question_id = responses.question_id
        and (crosswalk.option_key = responses.option_key or crosswalk.option_key = '*')
    -- an option-specific row wins over the question's '*' row
    qualify row_number() over (
            partition by responses.respondent_key, responses.wave_year, responses.column_name
            order by crosswalk.option_key = '*'
        ) = 1

),

final as (

    select
        survey,
        wave_year,
        respondent_key,
        question_id,
        option_code,
        option_key,
        coalesce(concept_id, question_id) as concept_id,
        case
            when concept_option_key is null or concept_option_key = '*' then option_key
            else concept_option_key
        end as concept_option_key,
        coalesce(comparability, 'comparable') as comparability,
        is_selected,
        numeric_value,
        column_name,
        source_file,
        source_row
    from matched

)

select * from final
