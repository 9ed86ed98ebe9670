-- One row per indicator × segment × wave: the value, the previous wave's value, the change
-- (points for shares), a z statistic on effective sample sizes and its 95 % significance,
-- and the comparability with the previous wave. Across a break, no change is computed.
with indicators as (

    select * from {{ ref('fct_indicator') }}

),

comparability as (

    select * from {{ ref('int_indicator_comparability') }}

),

ordered as (

    select
        indicators.*,
        lag(indicators.wave_year) over series as previous_wave_year,
        lag(indicators.value) over series as previous_value,
        lag(indicators.effective_n) over series as previous_effective_n,
        lag(indicators.standard_error) over series as previous_standard_error
    from indicators
    window series as (
        partition by
            indicators.survey, indicators.indicator_id, indicators.segment_type,
            indicators.segment_value
        order by indicators.wave_year
    )

),

compared as (

    select
        ordered.*,
        case
            when ordered.previous_wave_year is null then 'series_start'
            else coalesce(comparability.comparability, 'comparable')
        end as comparability,
        comparability.comparability_note
    from ordered
    left join comparability
        on comparability.survey = ordered.survey
        and comparability.wave_year = ordered.wave_year
        and comparability.indicator_id = ordered.indicator_id

),

tested as (

    select
        *,
        comparability in ('comparable', 'comparable_with_caveat')
        and value is not null and previous_value is not null as is_comparable,
        case
            when unit = 'share'
                then
                    (value - previous_value) / sqrt(
                        (
                            (value * effective_n + previous_value * previous_effective_n)
                            / (effective_n + previous_effective_n)
                        )
                        * (
                            1 - (value * effective_n + previous_value * previous_effective_n)
                            / (effective_n + previous_effective_n)
                        )
                        * (1 / effective_n + 1 / previous_effective_n)
                    )
            when unit = 'mean' then
                (value - previous_value)
                / sqrt(standard_error ^ 2 + previous_standard_error ^ 2)
        end as raw_z
    from compared

),

final as (

    select
        wave_year,
        survey,
        indicator_id,
        indicator_label_fr,
        indicator_label_en,
        segment_type,
        segment_value,
        unit,
        value,
        base_n,
        effective_n,
        previous_wave_year,
        previous_value,
        case when is_comparable then
                case when unit = 'share' then 100 * (value - previous_value)
                    else value - previous_value
                end
        end as change,
        case when unit = 'share' then 'points' else unit end as change_unit,
        case when is_comparable and isfinite(raw_z) then raw_z end as z_statistic,
        coalesce(is_comparable and isfinite(raw_z) and abs(raw_z) >= {{ z_95() }}, false)
            as is_significant_95,
        comparability,
        comparability_note
    from tested

)

select * from final
