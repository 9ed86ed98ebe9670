-- Published figures of every wave, typed; `tolerance_low/high` is the interval a computed
-- figure must fall in to count as reproduced (printed precision, or an explicit range for
-- figures printed as words such as "one in ten").
with source as (

    select * from {{ source('landed', 'published_figures') }}

),

typed as (

    select
        cast(wave_year as integer) as wave_year,
        survey,
        indicator_id,
        segment_type,
        segment_value,
        cast(value as double) as published_value,
        unit as published_unit,
        cast(printed_decimals as integer) as printed_decimals,
        try_cast(nullif(range_low, '') as double) as range_low,
        try_cast(nullif(range_high, '') as double) as range_high,
        base as base_description,
        source as published_source,
        note as published_note
    from source

),

final as (

    select
        *,
        coalesce(range_low, published_value - 0.5 * pow(10, -printed_decimals)) as tolerance_low,
        coalesce(range_high, published_value + 0.5 * pow(10, -printed_decimals)) as tolerance_high
    from typed

)

select * from final
