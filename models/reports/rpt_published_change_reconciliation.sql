-- Every stated change (published_changes seeds) next to the change fct_indicator_trend
-- computes, and a status: reproduced (inside the printed-precision interval, against the
-- stated from-wave), exception (a documented contradiction, listed with its reason in the
-- `published_exceptions` seed under the from-wave) or not reproduced (with the reason). The
-- arithmetic is spelt out: to-wave figure − stated change = implied from-value, next to the
-- from-wave's own published figure and the computed one.
with changes as (

    select * from {{ ref('stg_landed__published_changes') }}

),

-- each input under the name of the wave a change reads it at (its from- or to-wave), so that
-- it joins the change on the same column names: the to-wave's computed change and published
-- figure; the from-wave's computed figure, published figure and exception
trends as (

    select * rename (wave_year as to_wave_year) from {{ ref('fct_indicator_trend') }}

),

from_indicators as (

    select * rename (wave_year as from_wave_year) from {{ ref('fct_indicator') }}

),

from_figures as (

    select * rename (wave_year as from_wave_year) from {{ ref('stg_landed__published_figures') }}

),

to_figures as (

    select * rename (wave_year as to_wave_year) from {{ ref('stg_landed__published_figures') }}

),

exceptions as (

    select * rename (wave_year as from_wave_year) from {{ ref('published_exceptions') }}

),

joined as (

    select
        changes.*,
        trends.indicator_id is not null as is_computed,
        trends.previous_wave_year as computed_from_wave_year,
        trends.comparability,
        trends.provenance,
        trends.change as computed_change,
        case when from_indicators.unit = 'share' then 100 * from_indicators.value
            else from_indicators.value
        end as computed_from_value,
        case when trends.unit = 'share' then 100 * trends.value else trends.value end
            as computed_to_value,
        from_figures.published_value as published_from_value,
        from_figures.printed_decimals as from_printed_decimals,
        to_figures.published_value as published_to_value,
        to_figures.printed_decimals as to_printed_decimals,
        exceptions.reason as exception_reason
    from changes
    left join trends using (to_wave_year, survey, indicator_id, segment_type, segment_value)
    left join from_indicators using (from_wave_year, survey, indicator_id, segment_type, segment_value)
    left join from_figures using (from_wave_year, survey, indicator_id, segment_type, segment_value)
    left join to_figures using (to_wave_year, survey, indicator_id, segment_type, segment_value)
    left join exceptions using (from_wave_year, survey, indicator_id, segment_type, segment_value)

),

checked as (

    select
        *,
        coalesce(
            computed_from_wave_year = from_wave_year
            and computed_change between tolerance_low - 1e-9 and tolerance_high + 1e-9,
            false
        ) as is_reproduced,
        abs(computed_from_value - implied_from_value)
        <= 0.5 * pow(10, -printed_decimals) + 1e-9 as is_implied_from_value_reproduced
    from joined

),

final as (

    select
        survey,
        indicator_id,
        segment_type,
        segment_value,
        from_wave_year,
        to_wave_year,
        published_change,
        printed_decimals,
        tolerance_low,
        tolerance_high,
        computed_change,
        computed_change - published_change as difference,
        case
            when is_reproduced then 'reproduced'
            when exception_reason is not null then 'exception'
            else 'not_reproduced'
        end as status,
        case
            when is_reproduced then null
            when exception_reason is not null then exception_reason
            when not is_computed
                then 'no computed figure for this indicator and segment in ' || to_wave_year
            when coalesce(computed_from_wave_year <> from_wave_year, true)
                then 'the computed change is against '
                    || coalesce(cast(computed_from_wave_year as varchar), 'no earlier wave')
                    || ', not ' || from_wave_year
            when computed_change is null
                then 'no change computed (' || comparability || ', or a value suppressed)'
            else 'computed ' || round(computed_change, 3) || ' outside ['
                || round(tolerance_low, 3) || ', ' || round(tolerance_high, 3) || ']'
        end as reason,
        published_to_value,
        implied_from_value,
        published_from_value,
        computed_from_value,
        computed_to_value,
        is_implied_from_value_reproduced,
        to_wave_year || ' published '
        || coalesce(printf('%.*f', to_printed_decimals, published_to_value), '?')
        || ' − stated change ' || printf('%.*f', printed_decimals, published_change)
        || ' = implied ' || from_wave_year || ' value '
        || coalesce(printf('%.*f', printed_decimals, implied_from_value), '?')
        || case
            when published_from_value is null
                then '; no ' || from_wave_year || ' figure published'
            else '; ' || from_wave_year || ' published '
                || printf('%.*f', from_printed_decimals, published_from_value)
                || coalesce(
                    ' (implied − published = '
                    || printf('%.*f', printed_decimals, implied_from_value - published_from_value)
                    || ')',
                    ''
                )
        end
        || coalesce(
            '; computed ' || from_wave_year || ' value ' || printf('%.2f', computed_from_value),
            ''
        ) as arithmetic,
        comparability,
        provenance,
        published_source,
        published_note
    from checked

)

select * from final
