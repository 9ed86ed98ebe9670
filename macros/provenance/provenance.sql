{#- Provenance of a figure: `measured` (real respondent data), `reproduces_published` (synthetic
    wave, a publication pins the figure: int_indicator_pins) or `synthetic_only` (synthetic
    wave, nothing published pins it: an artefact of the generator). A wave missing from the
    waves seed (is_synthetic null) is never claimed measured. -#}
{% macro provenance(is_synthetic, is_pinned) -%}
    case
        when {{ is_synthetic }} = false then 'measured'
        when {{ is_pinned }} then 'reproduces_published'
        else 'synthetic_only'
    end
{%- endmacro %}
