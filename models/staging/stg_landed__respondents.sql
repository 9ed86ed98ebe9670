-- One row per row of a landed respondent file: pseudonymised key, provenance, timestamps.
-- The raw respondent id stays here (staging) and never reaches a mart. A repeated id gets a
-- distinct key for each repeat (id + row), so that the repeats can be quarantined.
{{ config(materialized='incremental_by_wave') }}
{%- set waves = waves_to_build() %}

with source as (

    select * from {{ source('landed', 'respondent_files') }}
    where {{ landed_file_filter(waves) }}

),

labelled as (

    select
        {{ landed_file_columns() }},
        respondent_id,
        cast(source_row as integer) as source_row,
        try_cast(started_at as timestamp) as started_at,
        try_cast(ended_at as timestamp) as ended_at
    from source

),

numbered as (

    select
        *,
        row_number() over (
            partition by survey, wave_year, respondent_id order by source_file, source_row
        ) as id_occurrence
    from labelled

),

final as (

    select
        survey,
        wave_year,
        {{ respondent_key('survey', 'wave_year',
            "respondent_id || case when id_occurrence > 1 then '#' || source_row else '' end") }}
            as respondent_key,
        respondent_id,
        id_occurrence,
        source_file,
        source_row,
        started_at,
        ended_at,
        date_diff('second', started_at, ended_at) as duration_seconds
    from numbered

)

select * from final
