-- Changes stated by a wave's publication against an earlier wave, typed; `tolerance_low/high`
-- is the interval a computed change (points) must fall in to count as reproduced (printed
-- precision), as for published figures.
with source as (

    select * from {{ source('landed', 'published_changes') }}

),

typed as (

    select
        survey,
        indicator_id,
        segment_type,
        segment_value,
        cast(from_wave as integer) as from_wave_year,
        cast(to_wave as integer) as to_wave_year,
        cast(change_points as double) as published_change,
        cast(printed_decimals as integer) as printed_decimals,
        try_cast(nullif(implied_from_value, '') as double) as implied_from_value,
        source as published_source,
        note as published_note
    from source

),

final as (

    select
        *,
        published_change - 0.5 * pow(10, -printed_decimals) as tolerance_low,
        published_change + 0.5 * pow(10, -printed_decimals) as tolerance_high
    from typed

)

select * from final
