-- One row per wave × survey × indicator × segment: the value (share 0-1, mean, or count),
-- its unweighted base, weighted base, effective n, standard error and 95 % interval, and
-- disclosure control (suppressed under `min_publish_base`, flagged under `caution_base`).
-- Incremental by wave: a run computes only waves not yet in the table (or listed in the
-- `rebuild_waves` var), so adding a wave never rewrites an earlier wave's figures.
{{ config(materialized='incremental_by_wave') }}
{%- set waves = waves_to_build() %}

-- read twice (waves, sums): `not materialized`, each use scans the table for its own columns
with members as not materialized (

    select * from {{ ref('int_indicator_members') }}
    where {{ wave_filter(waves) }}

),

-- the waves this run computes: segments and weights of the other waves are not read
waves as materialized (

    select distinct survey, wave_year from members

),

segments as not materialized (

    select segments.*
    from {{ ref('int_respondent_segments') }} as segments
    semi join waves using (survey, wave_year)

),

weights as (

    select weights.*
    from {{ ref('int_respondent_weights') }} as weights
    semi join waves using (survey, wave_year)

),

-- linearised standard errors of the weighted waves' shares and means (raking residuals)
linearised as (

    select linearised.*
    from {{ ref('int_indicator_variance') }} as linearised
    semi join waves using (survey, wave_year)

),

catalogue as (

    select * from {{ ref('indicator_catalogue') }}

),

segment_labels as (

    select * from {{ ref('int_segment_labels') }}

),

-- provenance of each figure: is the wave synthetic, does a publication pin the figure
wave_flags as (

    select survey, wave_year, is_synthetic from {{ ref('waves') }}

),

pins as (

    select * from {{ ref('int_indicator_pins') }}

),

indicator_segment_types as (

    select
        survey,
        indicator_id,
        unnest(string_split(segment_types, '|')) as segment_type
    from catalogue

),

-- Respondents who belong to exactly the same segments share a profile. Members are summed by
-- profile first, then each profile's sums go to its segments: the same sums as joining every
-- member to every segment (all sums are additive), but the large join is members × one
-- profile instead of members × segments (62 million rows at 10 × 100,000 respondents). A
-- profile is the sorted list of a respondent's segment numbers (small integers: exact, and
-- cheap to group by).
segment_ids as materialized (

    select
        *,
        row_number() over (order by survey, wave_year, segment_type, segment_value) as segment_id
    from (
        select distinct survey, wave_year, segment_type, segment_value from segments
    ) as distinct_segments

),

respondent_segment_sets as (

    select
        segments.survey,
        segments.wave_year,
        segments.respondent_key,
        list_sort(list(segment_ids.segment_id)) as segment_set
    from segments
    inner join segment_ids using (survey, wave_year, segment_type, segment_value)
    group by segments.survey, segments.wave_year, segments.respondent_key

),

profiles as materialized (

    select
        *,
        row_number() over (order by survey, wave_year, segment_set) as profile_id
    from (
        select distinct survey, wave_year, segment_set from respondent_segment_sets
    ) as distinct_sets

),

respondent_profiles as (

    select sets.survey, sets.wave_year, sets.respondent_key, profiles.profile_id
    from respondent_segment_sets as sets
    inner join profiles using (survey, wave_year, segment_set)

),

profile_segments as (

    select profile_segment_ids.profile_id, segment_ids.segment_type, segment_ids.segment_value
    from (
        select profile_id, unnest(segment_set) as segment_id from profiles
    ) as profile_segment_ids
    inner join segment_ids using (segment_id)

),

by_profile as (

    select
        members.survey,
        members.wave_year,
        members.indicator_id,
        respondent_profiles.profile_id,
        any_value(members.unit) as unit,
        count(*) as base_n,
        sum(weights.weight) as weighted_base,
        sum(weights.weight * weights.weight) as sum_weight_squared,
        sum(case when members.is_numerator then weights.weight else 0 end) as weighted_numerator,
        sum(weights.weight * members.numeric_value) as weighted_sum,
        sum(weights.weight * members.numeric_value * members.numeric_value)
            as weighted_sum_squared
    from members
    inner join weights using (survey, wave_year, respondent_key)
    inner join respondent_profiles using (survey, wave_year, respondent_key)
    group by all

),

aggregated as (

    -- each indicator by the segment types of its catalogue row
    select
        by_profile.wave_year,
        by_profile.survey,
        by_profile.indicator_id,
        profile_segments.segment_type,
        profile_segments.segment_value,
        any_value(by_profile.unit) as unit,
        cast(sum(by_profile.base_n) as bigint) as base_n,
        sum(by_profile.weighted_base) as weighted_base,
        sum(by_profile.sum_weight_squared) as sum_weight_squared,
        sum(by_profile.weighted_numerator) as weighted_numerator,
        sum(by_profile.weighted_sum) as weighted_sum,
        sum(by_profile.weighted_sum_squared) as weighted_sum_squared
    from by_profile
    inner join indicator_segment_types using (survey, indicator_id)
    inner join profile_segments using (profile_id, segment_type)
    group by
        by_profile.wave_year, by_profile.survey, by_profile.indicator_id,
        profile_segments.segment_type, profile_segments.segment_value

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

-- weighted waves: the linearised standard error, and for shares the sample size that gives
-- a simple random sample the same variance (p (1 - p) / se², Kish's n when p is 0 or 1) for
-- the Wilson interval; unweighted waves: the simple random sampling formulas
with_variance as (

    select
        estimated.*,
        linearised.standard_error as linearised_standard_error,
        case
            when estimated.unit = 'share' and linearised.standard_error is not null
                then {{ srs_equivalent_n('estimated.estimate', 'linearised.standard_error',
                                         'estimated.effective_n') }}
            else estimated.effective_n
        end as interval_n
    from estimated
    left join linearised using (survey, wave_year, indicator_id, segment_type, segment_value)

),

with_intervals as (

    select
        *,
        case
            when unit in ('share', 'mean') and linearised_standard_error is not null
                then linearised_standard_error
            when unit = 'share' then sqrt(estimate * (1 - estimate) / effective_n)
            when unit = 'mean' then standard_deviation / sqrt(effective_n)
        end as standard_error,
        case
            when unit = 'share' then {{ wilson_bound('estimate', 'interval_n', 'low') }}
            when unit = 'mean' and linearised_standard_error is not null
                then estimate - t_quantile(0.975, effective_n - 1) * linearised_standard_error
            when unit = 'mean' then estimate - t_quantile(0.975, effective_n - 1)
                * standard_deviation / sqrt(effective_n)
        end as interval_low,
        case
            when unit = 'share' then {{ wilson_bound('estimate', 'interval_n', 'high') }}
            when unit = 'mean' and linearised_standard_error is not null
                then estimate + t_quantile(0.975, effective_n - 1) * linearised_standard_error
            when unit = 'mean' then estimate + t_quantile(0.975, effective_n - 1)
                * standard_deviation / sqrt(effective_n)
        end as interval_high
    from with_variance

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
        catalogue.base_label_en,
        {{ provenance('wave_flags.is_synthetic', 'pins.wave_year is not null') }} as provenance
    from with_intervals
    inner join catalogue using (survey, indicator_id)
    left join segment_labels using (survey, wave_year, segment_type, segment_value)
    left join wave_flags using (survey, wave_year)
    left join pins using (survey, wave_year, indicator_id, segment_type, segment_value)

)

select * from final
