-- One row per question of each wave's codebook, with French and English wording.
with codebook as (

    select * from {{ ref('stg_landed__codebooks') }}

),

final as (

    select distinct
        survey || ':' || wave_year || ':' || question_id as question_key,
        survey,
        wave_year,
        question_id,
        question_position,
        question_type,
        grid_id,
        wording_fr,
        wording_en,
        universe,
        is_required
    from codebook

)

select * from final
