-- Every quality finding, one row per respondent × check × offending cell, with provenance.
-- Checks and thresholds are configuration (`quality_rules` seed); which ones quarantine a
-- respondent and which only flag is its `is_blocking` column.
{{ config(materialized='incremental_by_wave') }}
{%- set waves = waves_to_build() %}

-- Inputs read several times are `not materialized`: each use scans the table for its own
-- columns. Materialised (DuckDB's default for a CTE used more than once), the long answers
-- were copied whole, then re-read five times: most of this model's time (docs/benchmarks.md,
-- "What the numbers changed").
with respondents as not materialized (

    select * from {{ ref('stg_landed__respondents') }}
    where {{ wave_filter(waves) }}

),

responses as not materialized (

    select * from {{ ref('int_responses_decoded') }}
    where {{ wave_filter(waves) }}

),

attributes as not materialized (

    -- routing conditions name the wave's own question ids (not concepts), or segments
    select
        survey, wave_year, respondent_key, question_id as attr_key, option_key as attr_value,
        is_selected
    from {{ ref('int_responses_decoded') }}
    where invalid_reason is null and {{ wave_filter(waves) }}
    union all
    select
        survey, wave_year, respondent_key, 'segment.' || segment_type as attr_key,
        segment_value as attr_value, true as is_selected
    from {{ ref('int_respondent_segments') }}
    where {{ wave_filter(waves) }}

),

codebook as (

    select * from {{ ref('stg_landed__codebooks') }}

),

rules as (

    select * from {{ ref('quality_rules') }}

),

questions as (

    select distinct survey, wave_year, question_id, universe, is_required, grid_id
    from codebook

),

universes as (

    -- each distinct routing condition once (six questions are asked when `ai_tried=yes`)
    select distinct survey, wave_year, universe
    from questions
    where universe <> ''

),

universe_conditions as (

    {{ explode_conditions('universes', ['survey', 'wave_year', 'universe'], 'universe') }}

),

routed as (

    select survey, wave_year, questions.question_id, matched.respondent_key
    from ({{ match_conditions('universe_conditions', 'attributes',
                              ['survey', 'wave_year', 'universe']) }}) as matched
    inner join questions using (survey, wave_year, universe)

),

answered as (

    -- an invalid answer counts as an answer here: it is reported once, as invalid_code or
    -- out_of_range, not a second time as a required question left unanswered
    select distinct survey, wave_year, respondent_key, question_id
    from responses
    where question_id is not null

),

expected as (

    -- respondent × question the respondent should have been asked
    select survey, wave_year, respondents.respondent_key, questions.question_id
    from respondents
    inner join questions using (survey, wave_year)
    where questions.universe = ''
    union all
    select survey, wave_year, respondent_key, question_id from routed

),

duplicate_ids as (

    select
        survey, wave_year, respondent_key, 'duplicate_id' as check_id,
        'id already used at an earlier row of the file' as detail,
        'respondent_id' as column_name, null as raw_value
    from respondents
    where id_occurrence > 1

),

fingerprints as (

    select
        survey,
        wave_year,
        respondent_key,
        count(*) as answers_n,
        -- order-free fingerprint of the set of cells (two 64-bit hashes, combined by sum and
        -- xor): fixed-size aggregate states, unlike an ordered string_agg or a list, so the
        -- aggregation streams and spills instead of holding every answer in memory
        cast(sum(hash(column_name || '=' || raw_value)) as varchar) || ':'
        || cast(bit_xor(hash(raw_value || '@' || column_name)) as varchar) as fingerprint
    from responses
    group by all

),

duplicate_answers as (

    select
        survey, wave_year, respondent_key, 'duplicate_answers' as check_id,
        'same answers as an earlier respondent' as detail, null as column_name, null as raw_value
    from (
        select
            fingerprints.*,
            row_number() over (
                partition by fingerprints.survey, fingerprints.wave_year, fingerprint
                order by respondents.source_file, respondents.source_row
            ) as fingerprint_occurrence
        from fingerprints
        inner join respondents using (survey, wave_year, respondent_key)
    ) as numbered
    where fingerprint_occurrence > 1
        and answers_n >= (
            select cast(threshold as integer) from rules
            where check_id = 'duplicate_answers'
        )

),

invalid_answers as (

    select
        survey, wave_year, respondent_key,
        case when invalid_reason = 'out_of_range' then 'out_of_range' else 'invalid_code' end
            as check_id,
        invalid_reason as detail, column_name, raw_value
    from responses
    where invalid_reason is not null

),

broken_routing as (

    select
        survey, wave_year, respondent_key, 'routing' as check_id,
        'answered although the routing condition "' || questions.universe || '" does not hold'
            as detail,
        responses.column_name, responses.raw_value
    from responses
    inner join questions using (survey, wave_year, question_id)
    left join expected using (survey, wave_year, respondent_key, question_id)
    where responses.invalid_reason is null and expected.respondent_key is null

),

missing_required as (

    select
        survey, wave_year, respondent_key,
        'missing_required' as check_id, 'required question unanswered' as detail,
        question_id as column_name, null as raw_value
    from expected
    inner join questions using (survey, wave_year, question_id)
    left join answered using (survey, wave_year, respondent_key, question_id)
    where questions.is_required and answered.respondent_key is null

),

medians as (

    select survey, wave_year, median(duration_seconds) as median_seconds
    from respondents
    group by all

),

speeders as (

    select
        respondents.survey, respondents.wave_year, respondents.respondent_key,
        'speeder' as check_id,
        'completed in ' || respondents.duration_seconds || ' s; wave median '
        || medians.median_seconds || ' s' as detail,
        'ended_at' as column_name, null as raw_value
    from respondents
    inner join medians using (survey, wave_year)
    where respondents.duration_seconds
        < medians.median_seconds * (
            select cast(threshold as double) from rules
            where check_id = 'speeder'
        )

),

straightliners as (

    select
        survey, wave_year, respondent_key,
        'straightliner' as check_id,
        'same answer to all ' || count(*) || ' items of grid ' || questions.grid_id as detail,
        questions.grid_id as column_name, any_value(responses.raw_value) as raw_value
    from responses
    inner join questions using (survey, wave_year, question_id)
    where questions.grid_id is not null and responses.invalid_reason is null
    group by survey, wave_year, respondent_key, questions.grid_id
    having count(
            *) >= (
            select cast(threshold as integer) from rules
            where check_id = 'straightliner'
        )
        and count(distinct responses.raw_value) = 1

),

findings as (

    {{ union_all_ctes([
        'duplicate_ids', 'duplicate_answers', 'invalid_answers', 'broken_routing',
        'missing_required', 'speeders', 'straightliners',
    ]) }}

),

final as (

    select
        survey,
        wave_year,
        respondent_key,
        check_id,
        rules.is_blocking,
        findings.detail,
        respondents.source_file,
        respondents.source_row,
        findings.column_name,
        findings.raw_value
    from findings
    inner join rules using (check_id)
    inner join respondents using (survey, wave_year, respondent_key)

)

select * from final
