-- Raw answers decoded with the codebook of their wave: question, option key, selection,
-- numeric value, and why an answer is invalid (unknown column, code outside the codebook).
{{ config(materialized='incremental_by_wave') }}
{%- set waves = waves_to_build() %}

with responses as (

    select * from {{ ref('stg_landed__responses') }}
    where {{ wave_filter(waves) }}

),

respondents as (

    select * from {{ ref('stg_landed__respondents') }}
    where {{ wave_filter(waves) }}

),

codebook as (

    select * from {{ ref('stg_landed__codebooks') }}

),

question_columns as (

    select distinct
        survey,
        wave_year,
        column_name,
        question_id,
        question_type,
        case when question_type = 'multi' then option_code end as column_option_code
    from codebook

),

decoded as (

    select
        responses.*,
        respondents.respondent_key,
        question_columns.question_id,
        question_columns.question_type,
        case
            when question_columns.question_type = 'multi' then question_columns.column_option_code
            else responses.raw_value
        end as option_code,
        case
            when question_columns.question_type = 'multi' then responses.raw_value = '1'
            when question_columns.question_type is not null then true
        end as is_selected
    from responses
    left join question_columns using (survey, wave_year, column_name)
    -- the respondent of the file's row
    inner join respondents using (source_file, source_row)

),

final as (

    select
        decoded.survey,
        decoded.wave_year,
        decoded.respondent_key,
        decoded.source_file,
        decoded.source_row,
        decoded.column_name,
        decoded.raw_value,
        decoded.question_id,
        decoded.question_type,
        decoded.option_code,
        codebook.option_key,
        decoded.is_selected,
        case
            when decoded.question_type in ('scale', 'numeric') then try_cast(decoded.raw_value as double)
        end as numeric_value,
        case
            when decoded.question_id is null then 'unknown_column'
            when decoded.question_type = 'multi' and decoded.raw_value not in ('0', '1')
                then 'invalid_code'
            when decoded.question_type in ('scale', 'numeric')
                and try_cast(decoded.raw_value as double) is null
                then 'not_a_number'
            when decoded.question_type = 'scale' and codebook.option_key is null
                then 'out_of_range'
            when decoded.question_type <> 'numeric' and codebook.option_key is null
                then 'invalid_code'
        end as invalid_reason
    from decoded
    left join codebook using (survey, wave_year, question_id, option_code)

)

select * from final
