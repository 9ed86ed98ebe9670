{#- A series that falls to exactly 0 from a non-zero value: the mark of an answer no longer
    read (an option mapped to nothing by the crosswalk, a renamed code), not of a real change.
    Shares are flagged when the previous wave's share would predict at least `min_expected`
    respondents in the numerator of this wave's base (P(0) under e^-min_expected: not chance);
    means whenever they fall to exactly 0. Rows name the series and both values. -#}
{% test no_fall_to_zero(model, min_expected=10) %}

    select
        wave_year, survey, indicator_id, segment_type, segment_value,
        unit, previous_wave_year, previous_value, value, base_n
    from {{ model }}
    where value = 0
        and previous_value <> 0
        and (unit = 'mean' or (unit = 'share' and previous_value * base_n >= {{ min_expected }}))

{% endtest %}
