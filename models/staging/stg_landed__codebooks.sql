-- One row per question × answer option of every codebook; `column_name` is the raw file's
-- column that holds the answer (one per option for multi-select questions).
with source as (

    select * from {{ source('landed', 'codebooks') }}

),

final as (

    select
        instrument as survey,
        cast(wave_year as integer) as wave_year,
        question_id,
        variable,
        cast(position as integer) as question_position,
        question_type,
        nullif(grid_id, '') as grid_id,
        wording_fr,
        wording_en,
        coalesce(universe, '') as universe,
        lower(is_required) = 'true' as is_required,
        option_code,
        option_key,
        label_fr as option_label_fr,
        label_en as option_label_en,
        case
            when question_type = 'multi' then variable || '__' || option_code
            else variable
        end as column_name
    from source

)

select * from final
