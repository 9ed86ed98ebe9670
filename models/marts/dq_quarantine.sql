-- Quarantine: every finding of a blocking check, one row per respondent × check × cell,
-- with the source file and row. Respondent-level (pseudonymised): for auditors in the build
-- warehouse, never in the published snapshot (which holds rpt_quality_summary instead).
with checks as (

    select * from {{ ref('int_respondent_checks') }}

),

rules as (

    select * from {{ ref('quality_rules') }}

),

final as (

    select
        checks.survey,
        checks.wave_year,
        checks.respondent_key,
        checks.check_id,
        rules.label_fr as check_label_fr,
        rules.label_en as check_label_en,
        checks.detail as reason,
        checks.source_file,
        checks.source_row,
        checks.column_name,
        checks.raw_value
    from checks
    inner join rules on rules.check_id = checks.check_id
    where checks.is_blocking

)

select * from final
