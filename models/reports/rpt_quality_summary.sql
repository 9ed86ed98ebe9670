-- Per wave and survey: respondents landed, accepted, quarantined, and by check (blocking
-- or flag only). `is_reconciled`: landed = accepted + quarantined (nothing silently lost).
with checks as (

    select * from {{ ref('int_respondent_checks') }}

),

rules as (

    -- checks made on respondents and their answers (wave-level checks are GX-only)
    select * from {{ ref('quality_rules') }}
    where level in ('respondent', 'response')

),

totals as (

    -- the wave's counts are dim_wave's (one place); waves with no landed file have no checks
    select
        survey,
        wave_year,
        landed_n,
        respondents_n as accepted_n,
        quarantined_n
    from {{ ref('dim_wave') }}
    where landed_n > 0

),

by_check as (

    select
        totals.survey,
        totals.wave_year,
        rules.check_id,
        rules.label_fr as check_label_fr,
        rules.label_en as check_label_en,
        rules.is_blocking,
        count(distinct checks.respondent_key) as respondents_n,
        count(checks.respondent_key) as findings_n
    from totals
    cross join rules
    left join checks using (survey, wave_year, check_id)
    group by all

),

final as (

    select
        by_check.*,
        totals.landed_n,
        totals.accepted_n,
        totals.quarantined_n,
        totals.landed_n = totals.accepted_n + totals.quarantined_n as is_reconciled
    from by_check
    inner join totals using (survey, wave_year)

)

select * from final
