"""Interface wording of the site, French and English (figures and labels come from the data).

No digit may appear here: every number the site prints must come from the snapshot (the
tests read every page and check it), except the confidence level, given once as `level`.
"""

TEXTS = {
    "fr": {
        "site_title": "Baromètre de l'IA dans le cinéma et l'audiovisuel",
        "site_owner": "Observatoire de l'IA — CNC",
        "home": "Accueil",
        "colon": "\u00a0: ",
        "skip": "Aller au contenu",
        "nav_label": "Pages du baromètre",
        "language_switch": "English",
        "other_lang": "en",
        "level": "95\u00a0%",
        "banner_title": "Données synthétiques",
        "banner": "Les réponses individuelles derrière ces chiffres sont synthétiques "
                  "(vague(s) {waves}) : elles ont été générées pour reproduire les chiffres "
                  "publiés par le CNC. Ce site montre la chaîne de calcul ; les chiffres autres "
                  "que ceux publiés ne décrivent pas la réalité.",
        "key_figures": "Chiffres clés de la vague {wave}",
        "key_intro": "Professionnels du cinéma et de l'audiovisuel, vague {wave}. Chaque chiffre "
                     "est donné avec son intervalle de confiance et sa base.",
        "by_segment": "Par profession, genre et âge",
        "interval": "Intervalle de confiance à {level}",
        "interval_short": "IC {level}",
        "base": "Base",
        "base_n": "n (non pondéré)",
        "change_since": "Évolution depuis {wave}",
        "no_previous": "Première vague de la série : pas d'évolution.",
        "points": "pts",
        "segment_type": "Ventilation",
        "segment": "Segment",
        "wave": "Vague",
        "value": "Valeur",
        "change": "Évolution",
        "significance": "Significativité (seuil {level})",
        "comparability": "Comparabilité",
        "notes": "Remarques",
        "significant": "significative",
        "not_significant": "non significative",
        "not_assessable": "non évaluable",
        "comparable": "comparable",
        "comparable_with_caveat": "comparable, avec réserve",
        "break": "rupture de série : pas d'évolution calculée",
        "series_start": "début de série",
        "low_base": "base faible : à lire avec prudence",
        "synthetic_only": "artefact du générateur synthétique",
        "synthetic_only_note": "Chiffres en gris : artefacts du générateur synthétique, "
                               "pas des constats. Aucune significativité n'est revendiquée.",
        "reproduces_published": "reproduit le chiffre publié",
        "low_base_note": "Barres pâles et mention « base faible » : peu de répondants, "
                         "à lire avec prudence.",
        "suppressed_note": "Les chiffres calculés sur trop peu de répondants ne sont pas "
                           "publiés.",
        "download": "Télécharger les données de « {label} » (CSV)",
        "table_caption": "{label} — données du graphique",
        "chart_label": "Graphique : {label}, par vague et par segment, avec intervalles de "
                       "confiance. Les données sont dans le tableau qui suit.",
        "chart_noscript": "Le graphique nécessite JavaScript ; ses données sont dans le "
                          "tableau.",
        "table_region": "Tableau défilable : {label}",
        "themes": "Thèmes",
        "percent_axis": "%",
        "mean_axis": "Moyenne",
        "count_axis": "Répondants",
        "method": "Les parts sont pondérées quand l'enquête l'est ; n est le nombre de "
                  "répondants de la base. Intervalles : Wilson pour les parts, t de Student "
                  "pour les moyennes.",
        "footer": "Site généré à partir de l'instantané publié de l'entrepôt de l'Observatoire.",
    },
    "en": {
        "site_title": "AI barometer of film and television",
        "site_owner": "AI Observatory — CNC",
        "home": "Home",
        "colon": ": ",
        "skip": "Skip to content",
        "nav_label": "Barometer pages",
        "language_switch": "Français",
        "other_lang": "fr",
        "level": "95%",
        "banner_title": "Synthetic data",
        "banner": "The individual answers behind these figures are synthetic (wave(s) "
                  "{waves}): they were generated to reproduce the figures the CNC published. "
                  "This site shows the computation; figures other than the published ones do not "
                  "describe reality.",
        "key_figures": "Key figures of the {wave} wave",
        "key_intro": "Film and television professionals, {wave} wave. Every figure comes with "
                     "its confidence interval and its base.",
        "by_segment": "By profession, gender and age",
        "interval": "{level} confidence interval",
        "interval_short": "{level} CI",
        "base": "Base",
        "base_n": "n (unweighted)",
        "change_since": "Change since {wave}",
        "no_previous": "First wave of the series: no change.",
        "points": "pts",
        "segment_type": "Breakdown",
        "segment": "Segment",
        "wave": "Wave",
        "value": "Value",
        "change": "Change",
        "significance": "Significance ({level} level)",
        "comparability": "Comparability",
        "notes": "Notes",
        "significant": "significant",
        "not_significant": "not significant",
        "not_assessable": "not assessable",
        "comparable": "comparable",
        "comparable_with_caveat": "comparable, with a caveat",
        "break": "series break: no change computed",
        "series_start": "series start",
        "low_base": "low base: read with caution",
        "synthetic_only": "artefact of the synthetic generator",
        "synthetic_only_note": "Figures in grey: artefacts of the synthetic generator, not "
                               "findings. No significance is claimed for them.",
        "reproduces_published": "reproduces the published figure",
        "low_base_note": "Pale bars and \u201clow base\u201d: few respondents, read with "
                         "caution.",
        "suppressed_note": "Figures computed on too few respondents are not published.",
        "download": "Download the data of \u201c{label}\u201d (CSV)",
        "table_caption": "{label} — chart data",
        "chart_label": "Chart: {label}, by wave and segment, with confidence intervals. The "
                       "data are in the table that follows.",
        "chart_noscript": "The chart needs JavaScript; its data are in the table.",
        "table_region": "Scrollable table: {label}",
        "themes": "Themes",
        "percent_axis": "%",
        "mean_axis": "Mean",
        "count_axis": "Respondents",
        "method": "Shares are weighted when the survey is; n is the number of respondents in "
                  "the base. Intervals: Wilson for shares, Student's t for means.",
        "footer": "Site generated from the Observatory warehouse's published snapshot.",
    },
}
