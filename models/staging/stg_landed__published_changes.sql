-- Changes stated by a wave's publication against an earlier wave, typed; `tolerance_low/high`
-- is the interval a computed change (points) must fall in to count as reproduced (printed
-- precision), as for published figures.
-- depends_on: {{ source('landed', 'published_changes') }}
with source as (

    {% if landed_files_exist('published/published_changes_*.csv') %}
        select * from {{ source('landed', 'published_changes') }}
    {% else %}
        -- no wave states a change yet: the file's columns, no row
        select
            survey, indicator_id, segment_type, segment_value, from_wave, to_wave,
            change_points, printed_decimals, implied_from_value, source, note
        from (
            select
                cast(null as varchar) as survey,
                cast(null as varchar) as indicator_id,
                cast(null as varchar) as segment_type,
                cast(null as varchar) as segment_value,
                cast(null as varchar) as from_wave,
                cast(null as varchar) as to_wave,
                cast(null as varchar) as change_points,
                cast(null as varchar) as printed_decimals,
                cast(null as varchar) as implied_from_value,
                cast(null as varchar) as source,
                cast(null as varchar) as note
        ) as empty_file
        where false
    {% endif %}

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
