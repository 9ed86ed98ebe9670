-- One row per wave × survey × indicator × segment: the value (share 0-1, mean, or count),
-- its unweighted base, weighted base, effective n, standard error and 95 % interval, and
-- disclosure control (suppressed under `min_publish_base`, flagged under `caution_base`).
-- Incremental by wave: a run computes only waves not yet in the table (or listed in the
-- `rebuild_waves` var), so adding a wave never rewrites an earlier wave's figures.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['wave_year', 'survey'],
    on_schema_change='fail',
) }}

with members as (

    select * from {{ ref('int_indicator_members') }}
    {% if is_incremental() %}
        where not exists (
                select 1 from {{ this }} as published
                where published.wave_year = int_indicator_members.wave_year
                    and published.survey = int_indicator_members.survey
            )
            {% if var('rebuild_waves', []) %}
                or wave_year in ({{ var('rebuild_waves') | join(', ') }})
            {% endif %}
    {% endif %}

),

segments as (

    select * from {{ ref('int_respondent_segments') }}

),

weights as (

    select * from {{ ref('int_respondent_weights') }}

),

catalogue as (

    select * from {{ ref('indicator_catalogue') }}

),

segment_labels as (

    select * from {{ ref('int_segment_labels') }}

),

indicator_segment_types as (

    select
        survey,
        indicator_id,
        unnest(string_split(segment_types, '|')) as segment_type
    from catalogue

),

weighted_members as (

    -- each member with its weight and the segment types its indicator is broken down by,
    -- then joined to segments on all four keys (joining segments to the types first made a
    -- product of every respondent's segments with every indicator)
    select
        members.*,
        weights.weight,
        types.segment_type
    from members
    inner join weights
        on weights.survey = members.survey
        and weights.wave_year = members.wave_year
        and weights.respondent_key = members.respondent_key
    inner join indicator_segment_types as types
        on types.survey = members.survey
        and types.indicator_id = members.indicator_id

),

segmented as (

    select
        weighted_members.*,
        segments.segment_value
    from weighted_members
    inner join segments
        on segments.survey = weighted_members.survey
        and segments.wave_year = weighted_members.wave_year
        and segments.respondent_key = weighted_members.respondent_key
        and segments.segment_type = weighted_members.segment_type

),

aggregated as (

    select
        wave_year,
        survey,
        indicator_id,
        segment_type,
        segment_value,
        any_value(unit) as unit,
        count(*) as base_n,
        sum(weight) as weighted_base,
        sum(weight * weight) as sum_weight_squared,
        sum(case when is_numerator then weight else 0 end) as weighted_numerator,
        sum(weight * numeric_value) as weighted_sum,
        sum(weight * numeric_value * numeric_value) as weighted_sum_squared
    from segmented
    group by all

),

estimated as (

    select
        *,
        weighted_base * weighted_base / sum_weight_squared as effective_n,
        case unit
            when 'share' then weighted_numerator / weighted_base
            when 'mean' then weighted_sum / weighted_base
            when 'count' then base_n
        end as estimate,
        case
            when unit = 'mean'
                then sqrt(greatest(
                        weighted_sum_squared / weighted_base
                        - (weighted_sum / weighted_base) ^ 2, 0
                    ) * base_n / greatest(base_n - 1, 1
                    ))
        end as standard_deviation
    from aggregated

),

with_intervals as (

    select
        *,
        case unit
            when 'share' then sqrt(estimate * (1 - estimate) / effective_n)
            when 'mean' then standard_deviation / sqrt(effective_n)
        end as standard_error,
        case unit
            when 'share' then {{ wilson_bound('estimate', 'effective_n', 'low') }}
            when 'mean' then estimate - t_quantile(0.975, effective_n - 1)
                * standard_deviation / sqrt(effective_n)
        end as interval_low,
        case unit
            when 'share' then {{ wilson_bound('estimate', 'effective_n', 'high') }}
            when 'mean' then estimate + t_quantile(0.975, effective_n - 1)
                * standard_deviation / sqrt(effective_n)
        end as interval_high
    from estimated

),

final as (

    select
        with_intervals.wave_year,
        with_intervals.survey,
        with_intervals.indicator_id,
        catalogue.label_fr as indicator_label_fr,
        catalogue.label_en as indicator_label_en,
        with_intervals.segment_type,
        with_intervals.segment_value,
        segment_labels.segment_label_fr,
        segment_labels.segment_label_en,
        case
            when with_intervals.base_n < {{ var('min_publish_base') }} then null
            else with_intervals.estimate
        end as value,
        with_intervals.unit,
        with_intervals.base_n,
        with_intervals.weighted_base,
        with_intervals.effective_n,
        case when with_intervals.base_n >= {{ var('min_publish_base') }}
                then with_intervals.standard_error
        end as standard_error,
        case when with_intervals.base_n >= {{ var('min_publish_base') }}
                then with_intervals.interval_low
        end as ci_low,
        case when with_intervals.base_n >= {{ var('min_publish_base') }}
                then with_intervals.interval_high
        end as ci_high,
        with_intervals.base_n < {{ var('min_publish_base') }} as is_suppressed,
        case
            when with_intervals.base_n < {{ var('min_publish_base') }}
                then 'base under ' || {{ var('min_publish_base') }} || ' respondents'
        end as suppression_reason,
        with_intervals.base_n < {{ var('caution_base') }} as is_low_base,
        catalogue.base_label_fr,
        catalogue.base_label_en
    from with_intervals
    inner join catalogue
        on catalogue.survey = with_intervals.survey
        and catalogue.indicator_id = with_intervals.indicator_id
    left join segment_labels
        on segment_labels.survey = with_intervals.survey
        and segment_labels.segment_type = with_intervals.segment_type
        and segment_labels.segment_value = with_intervals.segment_value
        and segment_labels.wave_year = with_intervals.wave_year

)

select * from final
