-- Every published figure next to the value the warehouse computes, the difference, and a
-- status: reproduced (inside the printed-precision interval), exception (listed with its
-- reason in the `published_exceptions` seed) or not reproduced (with the reason).
with published as (

    select * from {{ ref('stg_landed__published_figures') }}

),

indicators as (

    select * from {{ ref('fct_indicator') }}

),

exceptions as (

    select * from {{ ref('published_exceptions') }}

),

joined as (

    select
        published.*,
        indicators.base_n,
        indicators.is_suppressed,
        case published.published_unit
            when 'pct' then 100 * indicators.value
            else indicators.value
        end as computed_value,
        indicators.indicator_id is not null as is_computed,
        exceptions.reason as exception_reason
    from published
    left join indicators using (wave_year, survey, indicator_id, segment_type, segment_value)
    left join exceptions using (wave_year, survey, indicator_id, segment_type, segment_value)

),

final as (

    select
        wave_year, survey, indicator_id, segment_type, segment_value,
        published_value,
        published_unit,
        printed_decimals,
        tolerance_low,
        tolerance_high,
        computed_value,
        base_n,
        computed_value - published_value as difference,
        case
            when computed_value between tolerance_low - 1e-9 and tolerance_high + 1e-9
                then 'reproduced'
            when exception_reason is not null then 'exception'
            else 'not_reproduced'
        end as status,
        case
            when computed_value between tolerance_low - 1e-9 and tolerance_high + 1e-9 then null
            when exception_reason is not null then exception_reason
            when not is_computed then 'no computed figure for this indicator and segment'
            when is_suppressed then 'computed figure suppressed (base too small)'
            else 'computed ' || round(computed_value, 3) || ' outside ['
                || round(tolerance_low, 3) || ', ' || round(tolerance_high, 3) || ']'
        end as reason,
        base_description,
        published_source,
        published_note
    from joined

)

select * from final
