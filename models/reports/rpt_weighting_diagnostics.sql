-- Per wave and survey: how weighting went — raking iterations, largest gap between weighted
-- sample and population margins, weight range, Kish design effect and effective sample size,
-- and the 95 % margin of error of a 50 % share at that effective size.
-- read twice (categories, summary): `not materialized`, each use reads what it needs
with weights as not materialized (

    select * from {{ ref('int_respondent_weights') }}

),

margins as (

    select * from {{ ref('population_margins') }}

),

answers as (

    -- answers of the surveys with margins (the public poll); the join to the margin
    -- questions below keeps the quota answers, the join to weights accepted respondents
    select survey, wave_year, respondent_key, question_id, option_key
    from {{ ref('int_responses_harmonised') }}
    where is_selected
        and {{ in_surveys_with_margins('survey') }}

),

margin_components as (

    select distinct
        survey,
        variable,
        unnest(string_split(variable, '*')) as question_id,
        unnest(range(1, len(string_split(variable, '*')) + 1)) as component_no
    from margins

),

respondent_categories as (

    select
        answers.survey,
        answers.wave_year,
        answers.respondent_key,
        components.variable,
        string_agg(answers.option_key, '*' order by components.component_no) as category
    from answers
    inner join margin_components as components using (survey, question_id)
    group by all

),

category_weights as (

    select
        categories.survey,
        categories.wave_year,
        categories.variable,
        categories.category,
        sum(weights.weight) as category_weight
    from respondent_categories as categories
    inner join weights using (survey, wave_year, respondent_key)
    group by all

),

weighted_margins as (

    select
        *,
        category_weight / sum(category_weight) over (
            partition by survey, wave_year, variable
        ) as weighted_share
    from category_weights

),

margin_gaps as (

    select
        weighted_margins.survey,
        weighted_margins.wave_year,
        max(abs(weighted_margins.weighted_share - margins.share_pct / 100)) as max_margin_error
    from weighted_margins
    inner join margins using (survey, variable, category)
    group by all

),

summary as (

    select
        survey,
        wave_year,
        count(*) as respondents_n,
        max(raking_iterations) as raking_iterations,
        min(weight) as min_weight,
        max(weight) as max_weight,
        sum(weight) as sum_weight,
        count(*) * sum(weight * weight) / (sum(weight) * sum(weight)) as design_effect,
        sum(weight) * sum(weight) / sum(weight * weight) as effective_n
    from weights
    group by all

),

final as (

    select
        summary.*,
        margin_gaps.max_margin_error,
        {{ z_95() }} * sqrt(0.25 / summary.effective_n) as margin_of_error_50pct
    from summary
    left join margin_gaps using (survey, wave_year)

)

select * from final
