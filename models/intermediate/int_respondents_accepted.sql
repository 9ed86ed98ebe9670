-- Respondents who pass every blocking quality check: the only ones figures are computed on.
{{ config(materialized='incremental_by_wave') }}
{%- set waves = waves_to_build() %}

with quality as (

    select * from {{ ref('int_respondent_quality') }}
    where {{ wave_filter(waves) }}

),

final as (

    select survey, wave_year, respondent_key, source_file, source_row
    from quality
    where not is_quarantined

)

select * from final
