-- Nothing is lost: every landed respondent row is either accepted or quarantined, per file.
with landed as (
    select source_file, count(*) as landed_n
    from {{ ref('stg_landed__respondents') }}
    group by all
),

decided as (
    select
        source_file,
        count(*) filter (where not is_quarantined) as accepted_n,
        count(*) filter (where is_quarantined) as quarantined_n
    from {{ ref('int_respondent_quality') }}
    group by all
)

select landed.source_file, landed.landed_n, decided.accepted_n, decided.quarantined_n
from landed
left join decided using (source_file)
where decided.source_file is null or landed.landed_n <> decided.accepted_n + decided.quarantined_n
