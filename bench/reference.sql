-- Reference for the benchmark: the professional survey's fct_indicator rows (wave, survey,
-- indicator, segment type and value, value, base_n) computed straight from the raw CSV files,
-- in ONE hand-written DuckDB script. What a DuckDB expert would write for this questionnaire:
-- wide (one row per respondent, one column per cell), no unpivot, no generic condition
-- matching, no pseudonyms; the practical limit of this machine for the same figures.
--
-- It does the same work that changes figures: the blocking quality checks that quarantine a
-- respondent (duplicate id, duplicate answers, code outside the codebook, scale out of range,
-- broken routing, required question unanswered; quality_rules seed), then shares, means and
-- counts per segment, with disclosure control (value null under 10 respondents). It does not
-- compute intervals, labels, weights (the professional survey is unweighted: weight 1) or the
-- non-blocking flags (speeders, straight-liners), which change no figure.
--
-- Hand-written for the pro questionnaire (seeds/codebooks/pro_<wave>.csv, identical across
-- the scale waves); the segment types computed for each indicator come from
-- seeds/indicator_catalogue.csv. Inputs (DuckDB variables, set by bench/run.py):
--   raw_glob        e.g. 'data/bench/10x100000/seeds/raw/pro_*.csv'
--   catalogue_path  e.g. 'data/bench/10x100000/seeds/indicator_catalogue.csv'
--   landed_file_pattern  a landed file's name (observatoire/conventions.py, LANDED_FILE_IN_PATH)
-- Output: temp table reference_indicator.

-- 1. Landed cells, one row per respondent, trimmed ('' -> null), survey and wave from the file name.
create or replace temp table landed as
select
    regexp_extract(filename, getvariable('landed_file_pattern'), 1) as survey,
    cast(regexp_extract(filename, getvariable('landed_file_pattern'), 2) as integer) as wave_year,
    filename,
    cast(source_row as integer) as source_row,
    respondent_id,
    nullif(trim(columns(* exclude (filename, source_row, respondent_id, started_at, ended_at))), '')
from read_csv(getvariable('raw_glob'), all_varchar = true, union_by_name = true,
              filename = true, header = true);

-- 2. Blocking checks, column-wise; quarantined respondents leave every figure. Repeats first,
-- on a narrow projection (a window carries every column it is given).
create or replace temp table repeats as
with keyed as (
    select
        rowid as rid,
        survey,
        wave_year,
        respondent_id,
        filename,
        source_row,
        hash(*columns(* exclude (survey, wave_year, filename, source_row, respondent_id)))
            as answers_hash,
        concat_ws(',', *columns(* exclude (survey, wave_year, filename, source_row, respondent_id)))
            as answers_text
    from landed
),

-- repeats are rare: group first, number only the rows of repeated keys
repeated as (
    select keyed.*
    from keyed
    semi join (select survey, wave_year, respondent_id from keyed group by all
               having count(*) > 1) as ids using (survey, wave_year, respondent_id)
    union
    select keyed.*
    from keyed
    semi join (select survey, wave_year, answers_hash from keyed group by all
               having count(*) > 1) as answers using (survey, wave_year, answers_hash)
),

numbered as (
    select
        rid,
        -- answered cells (codes hold no comma)
        length(answers_text) - length(replace(answers_text, ',', '')) + (answers_text <> '')::int
            as answers_n,
        -- duplicate id: every repeat after the first row of the id in its wave
        row_number() over (partition by survey, wave_year, respondent_id
                           order by filename, source_row) as id_occurrence,
        -- duplicate answers: same cells as an earlier respondent (64-bit hash of every cell)
        row_number() over (partition by survey, wave_year, answers_hash
                           order by filename, source_row) as answers_occurrence
    from repeated
)

select rid
from numbered
where id_occurrence > 1 or (answers_occurrence > 1 and answers_n >= 20);

create or replace temp table accepted as
with checked as (
    select
        *,
        -- codes outside the codebook (multi-select cells 0/1, grid 1-5, scale 0-10)
        regexp_full_match(
            concat_ws(',', *columns('^(profession|use_cases|limits|non_use_reasons|concerns|ai_software)__\d+$')),
            '([01](,[01])*)?') as multi_valid,
        regexp_full_match(concat_ws(',', *columns('^benefit_')), '([1-5](,[1-5])*)?') as grid_valid,
        gender not in ('1', '2', '3') or age_band not in ('1', '2', '3', '4')
        or sector not in ('1', '2', '3') or ai_tried not in ('1', '2')
        or ai_frequency not in ('1', '2', '3', '4') or genai_tried not in ('1', '2')
        or genai_frequency not in ('1', '2', '3', '4') or genai_since not in ('1', '2', '3', '4')
        or satisfaction not in ('1', '2', '3', '4')
        or impact_score not in ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10')
        or training_taken not in ('1', '2') or training_wanted not in ('1', '2')
        or company_ai_expert not in ('1', '2') or company_plans_ai_expert not in ('1', '2')
            as single_invalid,
        -- valid answers the routing reads (an invalid code quarantines anyway)
        ai_tried = '1' as ai_yes,
        ai_tried = '2' or ai_frequency = '4' as non_user_or_not_adopted,
        profession__2 = '1' as is_producer,
        coalesce(*columns('^benefit_'), '') <> '' as grid_answered,
        coalesce(*columns('^use_cases__'), '') <> '' as uses_answered,
        coalesce(*columns('^limits__'), '') <> '' as limits_answered,
        coalesce(*columns('^non_use_reasons__'), '') <> '' as non_use_answered,
        coalesce(*columns('^concerns__'), '') <> '' as concerns_answered,
        coalesce(*columns('^ai_software__'), '') <> '' as software_answered,
        coalesce(*columns('^profession__'), '') <> '' as profession_answered,
    from landed
    where rowid not in (select rid from repeats)
)

select *
from checked
where not (
    not multi_valid or not grid_valid or coalesce(single_invalid, false)
    -- broken routing: an answer to a question whose universe (codebook) does not hold
    or (ai_frequency is not null and not coalesce(ai_yes, false))
    or (genai_tried is not null and not coalesce(ai_yes, false))
    or (genai_frequency is not null and not coalesce(genai_tried = '1', false))
    or (genai_since is not null and not coalesce(genai_frequency in ('1', '2', '3'), false))
    or (uses_answered and not coalesce(ai_frequency in ('1', '2', '3'), false))
    or (satisfaction is not null and not coalesce(ai_yes, false))
    or (software_answered and not coalesce(ai_yes, false))
    or (grid_answered and not coalesce(ai_yes, false))
    or (limits_answered and not coalesce(satisfaction in ('2', '3', '4'), false))
    or (non_use_answered and not coalesce(non_user_or_not_adopted, false))
    or (company_ai_expert is not null and not coalesce(is_producer, false))
    or (company_plans_ai_expert is not null and not coalesce(company_ai_expert = '2', false))
    -- required questions unanswered
    or not profession_answered or gender is null or sector is null
);

-- 3. Segments, long: one row per accepted respondent × segment (segments seed, by hand).
create or replace temp table segments as
with simple as (
    select rowid as rid, survey, wave_year, 'all' as segment_type, 'all' as segment_value from accepted
    union all
    select rowid, survey, wave_year, 'profession',
        unnest(list_filter(['scenariste', 'producteur', 'realisateur', 'chef_operateur'],
            (k, i) -> [profession__1, profession__2, profession__3, profession__4][i] = '1'))
    from accepted
    union all
    select rowid, survey, wave_year, 'profession', 'realisateur_or_chef_operateur'
    from accepted where profession__3 = '1' or profession__4 = '1'
    union all
    -- single-choice segments, a row for each one answered
    select rid, survey, wave_year, segment_type, segment_value
    from (
        select rowid as rid, survey, wave_year,
            unnest(['gender', 'age_band', 'sector']) as segment_type,
            unnest([
                ['femme', 'homme', 'autre'][cast(gender as integer)],
                case when age_band = '4' then '60_plus' when age_band is not null then 'under_60' end,
                ['cinema_only', 'audiovisual_only', 'both'][cast(sector as integer)]
            ]) as segment_value
        from accepted
    )
    where segment_value is not null
    union all
    select rowid, survey, wave_year, 'usage_frequency',
        case ai_frequency when '1' then 'regular_or_daily' when '2' then 'regular_or_daily'
            when '3' then 'occasional' when '4' then 'tried_not_adopted' end
    from accepted where ai_frequency is not null
    union all
    select rowid, survey, wave_year, 'usage_frequency', 'non_user'
    from accepted where ai_tried = '2'
)

select * from simple
union all
select p.rid, p.survey, p.wave_year, 'profession_x_usage', p.segment_value || '|' || u.segment_value
from simple as p
inner join simple as u on u.rid = p.rid and u.segment_type = 'usage_frequency'
where p.segment_type = 'profession';

-- 4. Indicators of the catalogue, wide: base and numerator flags per accepted respondent.
create or replace temp table members as
select
    rowid as rid,
    ai_tried is not null as b_ai,
    ai_tried = '1' as n_ai_tried,
    genai_tried = '1' as n_genai_tried,
    genai_frequency is not null as b_genai_frequency,
    genai_frequency in ('1', '2', '3') as n_genai_continued,
    genai_frequency in ('1', '2') as n_genai_regular_or_daily,
    genai_since is not null as b_genai_since,
    genai_since in ('1', '2') as n_genai_started_within_year,
    uses_answered as b_use_cases,
    use_cases__1 = '1' as n_uc1, use_cases__2 = '1' as n_uc2, use_cases__3 = '1' as n_uc3,
    use_cases__4 = '1' as n_uc4, use_cases__5 = '1' as n_uc5, use_cases__6 = '1' as n_uc6,
    use_cases__7 = '1' as n_uc7, use_cases__8 = '1' as n_uc8, use_cases__9 = '1' as n_uc9,
    use_cases__10 = '1' as n_uc10,
    satisfaction is not null as b_satisfaction,
    satisfaction = '1' as n_very_satisfied,
    satisfaction in ('1', '2') as n_satisfied_or_very,
    satisfaction in ('2', '3', '4') as b_limits_question,
    coalesce(non_user_or_not_adopted, false) as b_non_use_reasons,
    limits_answered as b_limits,
    limits__1 = '1' as n_limit1, limits__2 = '1' as n_limit2,
    non_use_answered as b_non_use,
    non_use_reasons__1 = '1' as n_non_use1, non_use_reasons__2 = '1' as n_non_use2,
    cast(impact_score as double) as impact,
    training_taken is not null as b_training_taken, training_taken = '1' as n_training_taken,
    training_wanted is not null as b_training_wanted, training_wanted = '1' as n_training_wanted,
    company_ai_expert is not null as b_company_ai_expert,
    company_ai_expert = '1' as n_company_ai_expert,
    company_plans_ai_expert is not null as b_company_plans,
    company_plans_ai_expert = '1' as n_company_plans,
    concerns_answered as b_concerns,
    concerns__1 = '1' as n_concern1,
    sector is not null as b_sector,
    sector in ('1', '3') as n_cinema,
    sector in ('2', '3') as n_audiovisual,
    software_answered as b_software,
    ai_software__1 = '1' as n_consumer_software
from accepted;

-- 5. One pass over respondent × segment: base and numerator counts of every indicator.
create or replace temp table aggregated as
select
    s.survey, s.wave_year, s.segment_type, s.segment_value,
    count(*) as respondents,
    count_if(b_ai) as b_ai, count_if(n_ai_tried) as n_ai_tried,
    count_if(n_genai_tried) as n_genai_tried,
    count_if(b_genai_frequency) as b_genai_frequency,
    count_if(n_genai_continued) as n_genai_continued,
    count_if(n_genai_regular_or_daily) as n_genai_regular_or_daily,
    count_if(b_genai_since) as b_genai_since,
    count_if(n_genai_started_within_year) as n_genai_started_within_year,
    count_if(b_use_cases) as b_use_cases,
    count_if(n_uc1) as n_uc1, count_if(n_uc2) as n_uc2, count_if(n_uc3) as n_uc3,
    count_if(n_uc4) as n_uc4, count_if(n_uc5) as n_uc5, count_if(n_uc6) as n_uc6,
    count_if(n_uc7) as n_uc7, count_if(n_uc8) as n_uc8, count_if(n_uc9) as n_uc9,
    count_if(n_uc10) as n_uc10,
    count_if(b_satisfaction) as b_satisfaction,
    count_if(n_very_satisfied) as n_very_satisfied,
    count_if(n_satisfied_or_very) as n_satisfied_or_very,
    count_if(b_limits_question) as b_limits_question,
    count_if(b_non_use_reasons) as b_non_use_reasons,
    count_if(b_limits) as b_limits, count_if(n_limit1) as n_limit1, count_if(n_limit2) as n_limit2,
    count_if(b_non_use) as b_non_use, count_if(n_non_use1) as n_non_use1,
    count_if(n_non_use2) as n_non_use2,
    count(impact) as b_impact, sum(impact) as sum_impact,
    count_if(b_training_taken) as b_training_taken, count_if(n_training_taken) as n_training_taken,
    count_if(b_training_wanted) as b_training_wanted,
    count_if(n_training_wanted) as n_training_wanted,
    count_if(b_company_ai_expert) as b_company_ai_expert,
    count_if(n_company_ai_expert) as n_company_ai_expert,
    count_if(b_company_plans) as b_company_plans, count_if(n_company_plans) as n_company_plans,
    count_if(b_concerns) as b_concerns, count_if(n_concern1) as n_concern1,
    count_if(b_sector) as b_sector, count_if(n_cinema) as n_cinema,
    count_if(n_audiovisual) as n_audiovisual,
    count_if(b_software) as b_software, count_if(n_consumer_software) as n_consumer_software
from segments as s
inner join members as m using (rid)
group by all;

-- 6. Long again (indicator id, base, numerator or sum), the catalogue's segment types only,
-- disclosure control.
create or replace temp table reference_indicator as
with long as (
    select survey, wave_year, segment_type, segment_value, unnest([
        {indicator_id: 'respondents', unit: 'count', base_n: respondents, num: null},
        {indicator_id: 'ai_tried', unit: 'share', base_n: b_ai, num: n_ai_tried},
        {indicator_id: 'genai_tried', unit: 'share', base_n: b_ai, num: n_genai_tried},
        {indicator_id: 'genai_continued', unit: 'share', base_n: b_genai_frequency, num: n_genai_continued},
        {indicator_id: 'genai_regular_or_daily', unit: 'share', base_n: b_genai_frequency, num: n_genai_regular_or_daily},
        {indicator_id: 'genai_started_within_year', unit: 'share', base_n: b_genai_since, num: n_genai_started_within_year},
        {indicator_id: 'use_case_recherche_documentaire', unit: 'share', base_n: b_use_cases, num: n_uc1},
        {indicator_id: 'use_case_reformulation', unit: 'share', base_n: b_use_cases, num: n_uc2},
        {indicator_id: 'use_case_source_inspiration', unit: 'share', base_n: b_use_cases, num: n_uc3},
        {indicator_id: 'use_case_traduction', unit: 'share', base_n: b_use_cases, num: n_uc4},
        {indicator_id: 'use_case_test_idees', unit: 'share', base_n: b_use_cases, num: n_uc5},
        {indicator_id: 'use_case_illustration_storyboard', unit: 'share', base_n: b_use_cases, num: n_uc6},
        {indicator_id: 'use_case_versions_multiples', unit: 'share', base_n: b_use_cases, num: n_uc7},
        {indicator_id: 'use_case_retranscription_soustitrage', unit: 'share', base_n: b_use_cases, num: n_uc8},
        {indicator_id: 'use_case_montage_video', unit: 'share', base_n: b_use_cases, num: n_uc9},
        {indicator_id: 'use_case_effets_visuels', unit: 'share', base_n: b_use_cases, num: n_uc10},
        {indicator_id: 'satisfaction_very_satisfied', unit: 'share', base_n: b_satisfaction, num: n_very_satisfied},
        {indicator_id: 'satisfaction_satisfied_or_very', unit: 'share', base_n: b_satisfaction, num: n_satisfied_or_very},
        {indicator_id: 'base_limits_question', unit: 'count', base_n: b_limits_question, num: null},
        {indicator_id: 'base_non_use_reasons', unit: 'count', base_n: b_non_use_reasons, num: null},
        {indicator_id: 'limit_qualite_insuffisante', unit: 'share', base_n: b_limits, num: n_limit1},
        {indicator_id: 'limit_biais', unit: 'share', base_n: b_limits, num: n_limit2},
        {indicator_id: 'non_use_ne_remplace_pas_humain', unit: 'share', base_n: b_non_use, num: n_non_use1},
        {indicator_id: 'non_use_problemes_ethiques', unit: 'share', base_n: b_non_use, num: n_non_use2},
        {indicator_id: 'impact_score_mean', unit: 'mean', base_n: b_impact, num: sum_impact},
        {indicator_id: 'training_taken', unit: 'share', base_n: b_training_taken, num: n_training_taken},
        {indicator_id: 'training_wanted', unit: 'share', base_n: b_training_wanted, num: n_training_wanted},
        {indicator_id: 'company_has_ai_expert', unit: 'share', base_n: b_company_ai_expert, num: n_company_ai_expert},
        {indicator_id: 'company_plans_ai_expert', unit: 'share', base_n: b_company_plans, num: n_company_plans},
        {indicator_id: 'concern_droit_auteur', unit: 'share', base_n: b_concerns, num: n_concern1},
        {indicator_id: 'works_in_cinema', unit: 'share', base_n: b_sector, num: n_cinema},
        {indicator_id: 'works_in_audiovisual', unit: 'share', base_n: b_sector, num: n_audiovisual},
        {indicator_id: 'consumer_ai_software_used', unit: 'share', base_n: b_software, num: n_consumer_software}
    ]) as i
    from aggregated
),

catalogue as (
    select indicator_id, unnest(string_split(segment_types, '|')) as segment_type
    from read_csv(getvariable('catalogue_path'), all_varchar = true, header = true)
    where survey = 'pro'
)

select
    long.wave_year,
    long.survey,
    long.i.indicator_id as indicator_id,
    long.segment_type,
    long.segment_value,
    case
        when long.i.base_n < 10 then null
        when long.i.unit = 'count' then cast(long.i.base_n as double)
        else cast(long.i.num as double) / long.i.base_n
    end as value,
    cast(long.i.base_n as bigint) as base_n
from long
inner join catalogue
    on catalogue.indicator_id = long.i.indicator_id
    and catalogue.segment_type = long.segment_type
where long.i.base_n > 0;
