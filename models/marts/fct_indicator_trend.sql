-- One row per indicator × segment × wave: the value, the previous wave's value, the change
-- (points for shares), a z statistic on effective sample sizes (raked shares: the size of
-- equal variance, from their linearised standard error) and its 95 % significance,
-- and the comparability with the previous wave. Across a break, no change is computed.
-- Each row carries the provenance of its weaker end: a synthetic_only change never claims
-- significance (is_significant_95 null, as wherever no z is computed).
with indicators as (

    select * from {{ ref('fct_indicator') }}

),

comparability as (

    select * from {{ ref('int_indicator_comparability') }}

),

waves as (

    select survey, cast(wave_year as integer) as wave_year, is_weighted from {{ ref('waves') }}

),

-- the z of a share uses, per wave, the n of a simple random sample with the same variance:
-- the effective n in unweighted waves, p (1 - p) / se² from the linearised standard error of
-- raked shares (as their Wilson interval in fct_indicator)
with_variance_n as (

    select
        indicators.*,
        case
            when coalesce(waves.is_weighted, false) and indicators.unit = 'share'
                then {{ srs_equivalent_n('indicators.value', 'indicators.standard_error',
                                         'indicators.effective_n') }}
            else indicators.effective_n
        end as variance_n
    from indicators
    left join waves using (survey, wave_year)

),

ordered as (

    select
        indicators.*,
        lag(indicators.wave_year) over series as previous_wave_year,
        lag(indicators.provenance) over series as previous_provenance,
        lag(indicators.value) over series as previous_value,
        lag(indicators.variance_n) over series as previous_variance_n,
        lag(indicators.standard_error) over series as previous_standard_error
    from with_variance_n as indicators
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
        comparability.comparability_note,
        -- a change is only as real as its weaker end (a series start has one end)
        case
            when 'synthetic_only' in (ordered.provenance, ordered.previous_provenance)
                then 'synthetic_only'
            when 'reproduces_published' in (ordered.provenance, ordered.previous_provenance)
                then 'reproduces_published'
            else 'measured'
        end as trend_provenance
    from ordered
    left join comparability using (survey, wave_year, indicator_id)

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
                            (value * variance_n + previous_value * previous_variance_n)
                            / (variance_n + previous_variance_n)
                        )
                        * (
                            1 - (value * variance_n + previous_value * previous_variance_n)
                            / (variance_n + previous_variance_n)
                        )
                        * (1 / variance_n + 1 / previous_variance_n)
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
        -- null where no z is computed (counts, series starts, breaks) and where an end is an
        -- artefact of the generator: a synthetic_only change never claims significance
        case when is_comparable and isfinite(raw_z) and trend_provenance <> 'synthetic_only'
                then abs(raw_z) >= {{ z_95() }}
        end as is_significant_95,
        comparability,
        comparability_note,
        trend_provenance as provenance
    from tested

)

select * from final
