-- French and English labels of every segment value: from the `segments` seed, or, for
-- segments made one per answer option (`*`), from the codebook's option labels.
with segment_conditions as (

    {{ explode_conditions(
        ref('segments'),
        ['survey', 'segment_type', 'segment_value', 'label_fr', 'label_en'],
        'condition'
    ) }}

),

codebook as (

    select * from {{ ref('stg_landed__codebooks') }}

),

waves as (

    select distinct survey, wave_year from codebook

),

from_options as (

    select distinct
        codebook.survey,
        codebook.wave_year,
        conditions.segment_type,
        codebook.option_key as segment_value,
        codebook.option_label_fr as segment_label_fr,
        codebook.option_label_en as segment_label_en
    from segment_conditions as conditions
    inner join codebook
        on codebook.survey = conditions.survey
        and codebook.question_id = conditions.attr_key
    where conditions.segment_value = '*'

),

explicit as (

    select distinct
        waves.survey,
        waves.wave_year,
        conditions.segment_type,
        conditions.segment_value,
        conditions.label_fr as segment_label_fr,
        conditions.label_en as segment_label_en
    from segment_conditions as conditions
    inner join waves on waves.survey = conditions.survey
    where conditions.segment_value <> '*'

),

everyone as (

    select
        survey, wave_year, 'all' as segment_type, 'all' as segment_value,
        'Ensemble' as segment_label_fr, 'All respondents' as segment_label_en
    from waves

),

simple as (

    select * from from_options
    union all
    select * from explicit
    union all
    select * from everyone

),

crossed as (

    -- crossed segment types (segment_types.crosses = a|b): "label a × label b"
    select
        first_part.survey,
        first_part.wave_year,
        types.segment_type,
        first_part.segment_value || '|' || second_part.segment_value as segment_value,
        first_part.segment_label_fr || ' × ' || second_part.segment_label_fr as segment_label_fr,
        first_part.segment_label_en || ' × ' || second_part.segment_label_en as segment_label_en
    from {{ ref('segment_types') }} as types
    inner join simple as first_part
        on
        types.survey = first_part.survey
        and split_part(types.crosses, '|', 1) = first_part.segment_type
    inner join simple as second_part
        on
        first_part.survey = second_part.survey
        and first_part.wave_year = second_part.wave_year
        and split_part(types.crosses, '|', 2) = second_part.segment_type
    where coalesce(types.crosses, '') <> ''

),

final as (

    select * from simple
    union all
    select * from crossed

)

select * from final
