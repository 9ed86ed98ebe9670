-- One row per landed row × raw column holding an answer (keyed by file and row). Empty
-- cells (item non-response or routing) are dropped by UNPIVOT. Driven by the file's header:
-- no SQL per question.
{{ config(materialized='incremental_by_wave') }}
{%- set waves = waves_to_build() %}

with source as (

    select * from {{ source('landed', 'respondent_files') }}
    where {{ landed_file_filter(waves) }}

),

labelled as (

    select
        *,
        -- once per landed row, not once per unpivoted cell
        {{ landed_file_columns(prefix='file_') }}
    from source

),

unpivoted as (

    unpivot labelled
    on columns(* exclude (
        filename, file_survey, file_wave_year, source_file, respondent_id, source_row,
        started_at, ended_at
    ))
    into name column_name value raw_value

),

final as (

    select
        file_survey as survey,
        file_wave_year as wave_year,
        source_file,
        cast(source_row as integer) as source_row,
        column_name,
        trim(raw_value) as raw_value
    from unpivoted
    where trim(raw_value) <> ''

)

select * from final
