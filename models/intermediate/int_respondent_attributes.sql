-- Everything a condition can test, in one long relation: answers (key = question id, value =
-- option key) and segments (key = segment.<type>). Indicator bases and numerators match here.
-- A view over tables incremental by wave: writing it would cost more than reading it.
{{ config(materialized='view') }}

with answers as (

    select
        survey, wave_year, respondent_key, concept_id as attr_key, concept_option_key as attr_value,
        is_selected
    from {{ ref('int_responses_harmonised') }}

),

segments as (

    select
        survey, wave_year, respondent_key, 'segment.' || segment_type as attr_key,
        segment_value as attr_value, true as is_selected
    from {{ ref('int_respondent_segments') }}

),

final as (

    {{ union_all_ctes(['answers', 'segments']) }}

)

select * from final
