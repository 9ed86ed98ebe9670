-- Valid answers mapped to harmonised concepts with the crosswalk seed: a renamed question
-- keeps its series, recoded options map to the concept's keys. Questions without a crosswalk
-- row map to themselves. Segments and indicators read concepts, never a wave's own ids.
-- A view over tables incremental by wave: writing it would cost more than reading it.
{{ config(materialized='view') }}

with responses as (

    select * from {{ ref('int_responses_decoded') }}
    where invalid_reason is null

),

crosswalk as (

    select * from {{ ref('crosswalk') }}

),

question_rows as (

    -- a question's '*' row: every option key without a row of its own
    select * from crosswalk
    where option_key = '*'

),

matched as (

    -- an option-specific row wins over the question's '*' row (two equi-joins: no window over
    -- every answer; the crosswalk holds at most one row per question and option key)
    select
        responses.*,
        coalesce(by_option.concept_id, by_question.concept_id) as concept_id,
        case
            when by_option.question_id is not null then by_option.concept_option_key
            else by_question.concept_option_key
        end as concept_option_key,
        coalesce(by_option.comparability, by_question.comparability) as comparability
    from responses
    left join crosswalk as by_option using (survey, wave_year, question_id, option_key)
    left join question_rows as by_question using (survey, wave_year, question_id)

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
