-- Quarantine: every finding of a blocking check, one row per respondent × check × cell,
-- with the source file and row, and what an auditor needs to act on it: the question, the
-- value as landed, the rule, and what the rule allowed (the codebook's codes, the scale's
-- range, the routing condition). Respondent-level (pseudonymised): for auditors in the build
-- warehouse, never in the published snapshot (which holds rpt_quality_summary instead).
with checks as (

    select * from {{ ref('int_respondent_checks') }}

),

rules as (

    select * from {{ ref('quality_rules') }}

),

codebook as (

    select * from {{ ref('stg_landed__codebooks') }}

),

question_columns as (

    select distinct survey, wave_year, column_name, question_id
    from codebook

),

questions as (

    -- what each question allows, in the codebook's own codes
    select
        survey,
        wave_year,
        question_id,
        any_value(universe) as universe,
        case any_value(question_type)
            when 'multi' then '0 (not selected) or 1 (selected)'
            when 'scale'
                then 'a value from ' || arg_min(option_code, try_cast(option_code as double))
                    || ' to ' || arg_max(option_code, try_cast(option_code as double))
            when 'numeric' then 'a number'
            else 'codes ' || string_agg(
                    option_code || ' (' || option_key || ')', ', '
                    order by try_cast(option_code as double) nulls last, option_code
                )
        end as allowed_answers
    from codebook
    group by survey, wave_year, question_id

),

located as (

    -- the question of each finding: from its cell, or (no cell: a required question left
    -- unanswered) the question the check names in column_name
    select
        checks.*,
        coalesce(
            question_columns.question_id,
            case when checks.check_id = 'missing_required' then checks.column_name end
        ) as question_id
    from checks
    left join question_columns using (survey, wave_year, column_name)

),

described as (

    select
        located.*,
        case
            when located.check_id in ('invalid_code', 'out_of_range')
                and located.question_id is null
                then 'a column of the ' || located.survey || ' ' || located.wave_year || ' codebook'
            when located.check_id in ('invalid_code', 'out_of_range')
                then questions.allowed_answers
            when located.check_id = 'routing'
                then 'answered only when ' || questions.universe
            when located.check_id = 'missing_required'
                then 'an answer (required'
                    || case when questions.universe <> '' then ' when ' || questions.universe else '' end
                    || ')'
            when located.check_id = 'duplicate_id' then 'one row per respondent id'
            else rules.description
        end as allowed,
        case
            when located.check_id in ('invalid_code', 'out_of_range')
                and located.question_id is null
                then 'column "' || located.column_name || '" is not in the codebook'
            when located.check_id = 'invalid_code' and located.detail = 'not_a_number'
                then 'value "' || located.raw_value || '" of ' || located.question_id
                    || ' is not a number'
            when located.check_id = 'invalid_code'
                then 'code "' || located.raw_value || '" of ' || located.question_id
                    || ' is not in the codebook'
            when located.check_id = 'out_of_range'
                then 'value "' || located.raw_value || '" of ' || located.question_id
                    || ' is outside the scale'
            else located.detail
        end as reason
    from located
    inner join rules using (check_id)
    left join questions using (survey, wave_year, question_id)

),

final as (

    select
        described.survey,
        described.wave_year,
        described.respondent_key,
        described.check_id,
        rules.label_fr as check_label_fr,
        rules.label_en as check_label_en,
        described.reason,
        described.source_file,
        described.source_row,
        described.column_name,
        described.raw_value,
        described.question_id,
        described.allowed
    from described
    inner join rules using (check_id)
    where described.is_blocking

)

select * from final
