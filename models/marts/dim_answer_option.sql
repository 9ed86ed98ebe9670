-- One row per answer option of each question and wave, with French and English labels.
with codebook as (

    select * from {{ ref('stg_landed__codebooks') }}

),

final as (

    select
        survey || ':' || wave_year || ':' || question_id || ':' || option_code as answer_option_key,
        survey || ':' || wave_year || ':' || question_id as question_key,
        survey,
        wave_year,
        question_id,
        option_code,
        option_key,
        option_label_fr,
        option_label_en
    from codebook
    where option_code is not null

)

select * from final
