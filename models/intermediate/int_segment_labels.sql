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
    inner join waves using (survey)
    where conditions.segment_value <> '*'

),

everyone as (

    select
        survey, wave_year, 'all' as segment_type, 'all' as segment_value,
        'Ensemble' as segment_label_fr, 'All respondents' as segment_label_en
    from waves

),

simple as (

    {{ union_all_ctes(['from_options', 'explicit', 'everyone']) }}

),

crossed as (

    -- crossed segment types (segment_types.crosses = a|b): "label a × label b"
    {%- set labels = ['segment_label_fr', 'segment_label_en'] %}
    {{ crossed_segments('simple', ['survey', 'wave_year'], label_columns=labels) }}

),

final as (

    {{ union_all_ctes(['simple', 'crossed']) }}

)

select * from final
