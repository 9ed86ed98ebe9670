-- One row per row of a landed respondent file: pseudonymised key, provenance, timestamps.
-- The raw respondent id stays here (staging) for duplicate checks and never reaches a mart.
with source as (

    select * from {{ source('landed', 'respondent_files') }}

),

final as (

    select
        {{ landed_survey('filename') }} as survey,
        {{ landed_wave_year('filename') }} as wave_year,
        {{ respondent_key(landed_survey('filename'), landed_wave_year('filename'), 'respondent_id') }}
            as respondent_key,
        respondent_id,
        regexp_extract(filename, '[^/]+$') as source_file,
        cast(source_row as integer) as source_row,
        try_cast(started_at as timestamp) as started_at,
        try_cast(ended_at as timestamp) as ended_at,
        date_diff('second', try_cast(started_at as timestamp), try_cast(ended_at as timestamp))
            as duration_seconds
    from source

)

select * from final
