-- Figures a publication pins, per wave: the wave's published figures, the from-value a stated
-- change implies (in its from-wave) and the to-wave figure of a stated change. In a synthetic
-- wave a pinned figure reproduces a publication; any other figure is an artefact of the
-- generator (`provenance` in fct_indicator).
with figures as (

    select * from {{ ref('stg_landed__published_figures') }}

),

changes as (

    select * from {{ ref('stg_landed__published_changes') }}

),

-- a figure is named by its wave and its four keys: survey, indicator, segment type and value
pins as (

    select
        wave_year, survey, indicator_id, segment_type, segment_value,
        'published_figure' as pinned_by
    from figures
    union all
    select
        from_wave_year, survey, indicator_id, segment_type, segment_value,
        'stated_change_from' as pinned_by
    from changes
    where implied_from_value is not null
    union all
    select
        to_wave_year, survey, indicator_id, segment_type, segment_value,
        'stated_change_to' as pinned_by
    from changes

),

final as (

    select
        wave_year, survey, indicator_id, segment_type, segment_value,
        string_agg(distinct pinned_by, '|' order by pinned_by) as pinned_by
    from pins
    group by wave_year, survey, indicator_id, segment_type, segment_value

)

select * from final
