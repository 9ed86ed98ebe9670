"""The auditor's report, trends part: per wave and survey, the figures and changes counted by
provenance, the stated (published) changes next to the computed ones, and every series' change
against the previous wave with its significance, comparability and provenance. HTML is built
from named fields (`_records`)."""

from __future__ import annotations

from observatoire.report.auditor import STATUS_CSS, _esc, _table

PROVENANCE_LABELS = {
    "measured": "mesuré / measured",
    "reproduces_published": "reproduit un chiffre publié / reproduces a published figure",
    "synthetic_only": "synthétique seulement / synthetic only",
}
COMPARABILITY_CSS = {"comparable": "ok", "comparable_with_caveat": "warn", "break": "bad"}


def _records(con, sql: str, params: list) -> list[dict]:
    """Rows of a query as dicts keyed by column name."""
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _number(value, digits: int = 1) -> str:
    return "" if value is None else f'<span class="num">{value:.{digits}f}</span>'


def provenance_counts(con, wave: int, survey: str) -> str:
    """Figures and changes of a wave per provenance, with the changes whose significance is
    withheld because an end is an artefact of the generator."""
    figures, changes = (dict(con.execute(
        f"select provenance, count(*) from marts.{table} where wave_year = ? and survey = ? "
        "group by provenance", [wave, survey]).fetchall())
        for table in ("fct_indicator", "fct_indicator_trend"))
    withheld = con.execute(
        "select count(*) from marts.fct_indicator_trend where wave_year = ? and survey = ? "
        "and provenance = 'synthetic_only' and z_statistic is not null",
        [wave, survey]).fetchone()[0]
    return ("<h3>Provenance des chiffres / Provenance of the figures</h3>" + _table(
        ["provenance", "chiffres / figures", "évolutions / changes"],
        [[label, _number(figures.get(name, 0), 0), _number(changes.get(name, 0), 0)]
         for name, label in PROVENANCE_LABELS.items()])
        + f"<p><small>{withheld} évolutions avec une extrémité synthétique seulement : "
        f"significativité non affichée / {withheld} changes with a synthetic-only end: "
        "significance withheld (<code>is_significant_95</code> null).</small></p>")


def trends_section(con, wave: int, survey: str) -> str:
    """Changes against the previous wave: the stated (published) changes next to the computed
    ones, then every series with its change, significance, comparability and provenance."""
    stated = _records(con, """
        select indicator_id, segment_type, segment_value, from_wave_year, published_change,
            computed_change, status, reason, arithmetic, comparability
        from reports.rpt_published_change_reconciliation
        where to_wave_year = ? and survey = ?
        order by indicator_id, segment_type, segment_value""", [wave, survey])
    series = _records(con, """
        select trend.indicator_id, trend.segment_type, trend.segment_value,
            trend.previous_wave_year, trend.unit, trend.previous_value, trend.value,
            trend.change, trend.change_unit, trend.z_statistic, trend.is_significant_95,
            trend.comparability, trend.comparability_note, trend.provenance,
            stated.published_change
        from marts.fct_indicator_trend as trend
        left join reports.rpt_published_change_reconciliation as stated
            on stated.to_wave_year = trend.wave_year
            and stated.from_wave_year = trend.previous_wave_year
            and stated.survey = trend.survey
            and stated.indicator_id = trend.indicator_id
            and stated.segment_type = trend.segment_type
            and stated.segment_value = trend.segment_value
        where trend.wave_year = ? and trend.survey = ?
        order by trend.indicator_id, trend.segment_type, trend.segment_value""",
                      [wave, survey])
    compared = [r for r in series if r["previous_wave_year"] is not None]
    starts = len(series) - len(compared)
    reproduced = sum(1 for r in stated if r["status"] == "reproduced")
    parts = [f"<h3>Évolutions publiées / Stated changes — {reproduced} of {len(stated)} "
             "reproduced</h3>"]
    parts.append("<p>aucune / none</p>" if not stated else _table(
        ["indicator", "segment", "depuis / since", "publiée / published (pts)",
         "calculée / computed (pts)", "statut / status", "raison, calcul / reason, arithmetic"],
        [[_esc(r["indicator_id"]), f"{_esc(r['segment_type'])}={_esc(r['segment_value'])}",
          _esc(r["from_wave_year"]), _number(r["published_change"]),
          _number(r["computed_change"], 2),
          f'<span class="{STATUS_CSS[r["status"]]}">{r["status"]}</span>',
          f"{_esc(r['reason'])}<br><small>{_esc(r['arithmetic'])}</small>"] for r in stated]))
    by_comparability: dict[str, int] = {}
    for r in compared:
        by_comparability[r["comparability"]] = by_comparability.get(r["comparability"], 0) + 1
    summary = ", ".join(f"{n} {c}" for c, n in sorted(by_comparability.items()))
    parts.append(f"<h3>Évolutions calculées / Computed changes — {len(compared)} series "
                 f"against an earlier wave ({_esc(summary) or 'none'}), {starts} series "
                 "starting</h3>")
    parts.append(_table(
        ["indicator", "segment", "depuis / since", "avant / before", "maintenant / now",
         "évolution / change", "publiée / published", "z", "significative / significant",
         "comparabilité / comparability", "provenance"],
        [[_esc(r["indicator_id"]), f"{_esc(r['segment_type'])}={_esc(r['segment_value'])}",
          _esc(r["previous_wave_year"]),
          _number(None if r["previous_value"] is None else
                  r["previous_value"] * (100 if r["unit"] == "share" else 1), 2),
          _number(None if r["value"] is None else
                  r["value"] * (100 if r["unit"] == "share" else 1), 2),
          f'{_number(r["change"], 2)} <small>{_esc(r["change_unit"])}</small>',
          _number(r["published_change"]), _number(r["z_statistic"], 2),
          {True: "oui / yes", False: "non / no", None: "—"}[r["is_significant_95"]],
          f'<span class="{COMPARABILITY_CSS.get(r["comparability"], "")}">'
          f'{_esc(r["comparability"])}</span><br><small>{_esc(r["comparability_note"])}'
          "</small>",
          PROVENANCE_LABELS[r["provenance"]]] for r in compared]))
    return "".join(parts)
