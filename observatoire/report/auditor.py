"""The auditor's report: GX Data Docs (offline) plus one summary page per wave.

Each wave page shows, per survey: respondents landed / accepted / quarantined by check, every
Great Expectations check run (passed, failed, blocking or flag only) with a link into the Data
Docs, and the reconciliation of every published figure with a chart. Pages are static HTML
with inline styles and an inline PNG chart: they render offline, with no external request.
"""

from __future__ import annotations

import base64
import html
import io
import shutil
from pathlib import Path

import duckdb

from observatoire import spec
from observatoire.warehouse import reuse

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:70rem;
color:#1d2330;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:2px solid #e3e7ef}
.banner{background:#fff4d6;border:1px solid #e6c65c;padding:.6rem 1rem;border-radius:6px}
table{border-collapse:collapse;width:100%;margin:.6rem 0 1.2rem;font-size:.9rem}
th,td{border-bottom:1px solid #e3e7ef;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f9}.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#17713a;font-weight:600}.bad{color:#b3261e;font-weight:600}.warn{color:#9a6700}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{background:#f3f5f9;border-radius:8px;
padding:.7rem 1rem;min-width:9rem}.card b{display:block;font-size:1.5rem}
small{color:#5b6475}img{max-width:100%}
"""


def _esc(value) -> str:
    return "" if value is None else html.escape(str(value))


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _status(ok: bool, blocking: bool = True) -> str:
    if ok:
        return '<span class="ok">✔ passed / réussi</span>'
    css = "bad" if blocking else "warn"
    word = "failed / échoué" if blocking else "flagged / signalé"
    return f'<span class="{css}">✘ {word}</span>'


def _chart(rows: list[dict]) -> str:
    """Published vs computed percentages (dot plot), as an inline PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r["published_unit"] == "pct" and r["computed_value"] is not None]
    if not rows:
        return ""
    height = max(2.5, 0.22 * len(rows) + 1)
    fig, ax = plt.subplots(figsize=(8, height), dpi=90)
    labels = [f"{r['indicator_id']} · {r['segment_type']}={r['segment_value']}" for r in rows]
    y = range(len(rows))
    ax.scatter([r["published_value"] for r in rows], y, marker="|", s=160, color="#1d2330",
               label="published / publié")
    ax.scatter([r["computed_value"] for r in rows], y, s=18,
               color=["#17713a" if r["status"] == "reproduced" else "#b3261e" for r in rows],
               label="computed / calculé")
    ax.set_yticks(list(y), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("%")
    ax.grid(axis="x", alpha=.3)
    ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode()
    return (f'<img alt="Published vs computed figures" '
            f'src="data:image/png;base64,{data}">')


def _docs_link(docs_dir: Path, out_dir: Path, gx_suite: str, label: str) -> str:
    """Relative link to the Data Docs page of a validation run, else to the docs index."""
    matches = sorted((docs_dir / "validations" / gx_suite).glob(f"{label}/**/*.html"))
    target = matches[-1] if matches else docs_dir / "index.html"
    return target.relative_to(out_dir).as_posix()


def _link(docs_dir: Path, out_dir: Path, gx_suite: str, label: str) -> str:
    return f'<a href="{_docs_link(docs_dir, out_dir, gx_suite, label)}">voir / view</a>'


STATUS_CSS = {"reproduced": "ok", "exception": "warn", "not_reproduced": "bad"}


def _records(con, sql: str, params: list) -> list[dict]:
    """Rows of a query as dicts keyed by column name (pages are built from named fields)."""
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

def _wave_page(con, wave: int, out_dir: Path, docs_dir: Path) -> str:
    from observatoire.report import trends  # imports this module's helpers
    parts = [f"<h1>Rapport qualité — vague {wave} / Quality report — wave {wave}</h1>"]
    waves = _records(con, "select survey, title_fr, title_en, is_synthetic, data_note, landed_n, "
                     "respondents_n, quarantined_n, fieldwork_start_date, fieldwork_end_date "
                     "from marts.dim_wave where wave_year = ? order by survey", [wave])
    if any(w["is_synthetic"] for w in waves):
        parts.append('<p class="banner"><b>Données synthétiques / Synthetic data.</b> '
                     'The respondent-level files of this wave were generated from its '
                     'published figures; the real files are confidential.</p>')
    for w in waves:
        survey, landed = w["survey"], w["landed_n"]
        accepted, quarantined = w["respondents_n"], w["quarantined_n"]
        parts.append(f"<h2>{_esc(w['title_fr'])} <small>/ {_esc(w['title_en'])} ({survey})"
                     "</small></h2>")
        parts.append(f"<p><small>Terrain / fieldwork {w['fieldwork_start_date']} → "
                     f"{w['fieldwork_end_date']}. {_esc(w['data_note'])}</small></p>")
        parts.append(
            '<div class="cards">'
            f'<div class="card"><b>{landed}</b>reçus / landed</div>'
            f'<div class="card"><b>{accepted}</b>acceptés / accepted</div>'
            f'<div class="card"><b>{quarantined}</b>en quarantaine / quarantined</div>'
            f'<div class="card"><b>{"✔" if landed == accepted + quarantined else "✘"}</b>'
            'reçus = acceptés + quarantaine</div></div>')
        checks = _records(
            con, "select check_id, check_label_fr, check_label_en, is_blocking, respondents_n, "
            "findings_n from reports.rpt_quality_summary where wave_year = ? and survey = ? "
            "order by is_blocking desc, check_id", [wave, survey])
        parts.append("<h3>Contrôles des répondants / Respondent checks</h3>")
        parts.append(_table(
            ["check", "libellé / label", "effet / effect", "répondants / respondents",
             "constats / findings"],
            [[_esc(c["check_id"]),
              f"{_esc(c['check_label_fr'])}<br><small>{_esc(c['check_label_en'])}</small>",
              "quarantaine / quarantine" if c["is_blocking"] else
              "signalé, conservé / flagged, kept",
              f'<span class="num">{c["respondents_n"]}</span>',
              f'<span class="num">{c["findings_n"]}</span>']
             for c in checks]))
        parts.append(_quarantine_table(con, wave, survey))
        results = _records(
            con, "select suite, batch, expectation_type, \"column\", check_id, is_blocking, "
            "success, unexpected_count, element_count, observed_value "
            "from quality.dq_validation_result where wave_year = ? and survey = ? "
            "order by suite, batch desc, expectation_type", [wave, survey])
        passed = sum(1 for r in results if r["success"])
        flagged = sum(1 for r in results if not r["success"] and not r["is_blocking"])
        parts.append(f"<h3>Great Expectations — {len(results)} contrôles / checks: "
                     f"{passed} réussis / passed, {flagged} signalés / flagged, "
                     f"{len(results) - passed - flagged} en échec / failed</h3>")
        parts.append(_table(
            ["suite", "lot / batch", "expectation", "colonne / column", "statut / status",
             "inattendus / unexpected", "lignes / rows", "Data Docs"],
            [[_esc(r["suite"]), _esc(r["batch"]), _esc(r["expectation_type"]),
              _esc(r["column"]), _status(r["success"], r["is_blocking"]),
              f'<span class="num">{_esc(r["unexpected_count"])}</span>',
              f'<span class="num">{r["element_count"]}</span>',
              _link(docs_dir, out_dir, r["suite"], f"{survey}_{wave}_{r['batch']}")]
             for r in results]))
        recon = _records(
            con, "select survey, indicator_id, segment_type, segment_value, published_value, "
            "published_unit, computed_value, status, reason, base_n from "
            "reports.rpt_published_reconciliation where wave_year = ? and survey = ? "
            "order by indicator_id, segment_type, segment_value", [wave, survey])
        reproduced = sum(1 for r in recon if r["status"] == "reproduced")
        parts.append(f"<h3>Chiffres publiés / Published figures — {reproduced} of {len(recon)} "
                     "reproduced</h3>")
        parts.append(_chart(recon))
        parts.append(_table(
            ["indicator", "segment", "publié / published", "calculé / computed", "base n",
             "statut / status", "raison / reason"],
            [[_esc(r["indicator_id"]), f"{_esc(r['segment_type'])}={_esc(r['segment_value'])}",
              f'<span class="num">{r["published_value"]:g}</span>',
              '<span class="num">' + ("" if r["computed_value"] is None
                                      else f"{r['computed_value']:.3f}") + "</span>",
              f'<span class="num">{_esc(r["base_n"])}</span>',
              f'<span class="{STATUS_CSS[r["status"]]}">{r["status"]}</span>',
              _esc(r["reason"])] for r in recon]))
        parts.append(trends.provenance_counts(con, wave, survey))
        parts.append(trends.trends_section(con, wave, survey))
    parts.append(f'<p><a href="methodology_{wave}.html">Note méthodologique / Methodology</a> · '
                 '<a href="data_docs/index.html">Great Expectations Data Docs</a> · '
                 '<a href="index.html">toutes les vagues / all waves</a></p>')
    return _page(f"Quality report {wave}", "".join(parts))


QUARANTINE_SHOWN = 200  # findings listed per survey; the rest are counted, all in the table


def _quarantine_table(con, wave: int, survey: str) -> str:
    """Every quarantine finding: file and row, rule, question, value as landed, what was
    allowed (marts.dq_quarantine), so an auditor can check each against the codebook."""
    findings = _records(
        con, "select source_file, source_row, check_id, check_label_fr, check_label_en, "
        "question_id, column_name, raw_value, reason, allowed from marts.dq_quarantine "
        "where wave_year = ? and survey = ? order by source_file, source_row, check_id, "
        "column_name", [wave, survey])
    title = f"<h3>Quarantaine / Quarantine — {len(findings)} constats / findings</h3>"
    if not findings:
        return title + "<p>Aucun constat / no finding.</p>"
    shown = findings[:QUARANTINE_SHOWN]
    more = (f"<p><small>{len(findings) - len(shown)} more in marts.dq_quarantine.</small></p>"
            if len(findings) > len(shown) else "")
    return title + _table(
        ["fichier, ligne / file, row", "règle / rule", "question", "colonne / column",
         "valeur reçue / raw value", "constat / finding", "autorisé / allowed"],
        [[f"{_esc(f['source_file'])}, {f['source_row']}",
          f"{_esc(f['check_id'])}<br><small>{_esc(f['check_label_fr'])} / "
          f"{_esc(f['check_label_en'])}</small>",
          _esc(f["question_id"]), _esc(f["column_name"]), _esc(f["raw_value"]),
          _esc(f["reason"]), _esc(f["allowed"])] for f in shown]) + more


def _methodology_page(con, wave: int) -> str:
    """Methodology note of a wave (AAPOR transparency elements), from the warehouse."""
    parts = [f"<h1>Note méthodologique — vague {wave} / Methodology note — wave {wave}</h1>"]
    waves = _records(
        con, "select survey, title_fr, title_en, sponsor, population_fr, population_en, "
        "recruitment_fr, recruitment_en, mode, fieldwork_start_date, fieldwork_end_date, "
        "landed_n, respondents_n, quarantined_n, is_weighted, is_synthetic, data_note "
        "from marts.dim_wave where wave_year = ? order by survey", [wave])
    for w in waves:
        diags = _records(
            con, "select raking_iterations, max_margin_error, min_weight, max_weight, "
            "design_effect, effective_n, margin_of_error_50pct "
            "from reports.rpt_weighting_diagnostics where wave_year = ? and survey = ?",
            [wave, w["survey"]])
        diag = diags[0] if diags else None
        checks = _records(
            con, "select check_label_en, is_blocking, respondents_n "
            "from reports.rpt_quality_summary "
            "where wave_year = ? and survey = ? and respondents_n > 0 order by check_id",
            [wave, w["survey"]])
        weighting = (
            f"Raking to population margins (seed <code>population_margins</code>), "
            f"{diag['raking_iterations']} iterations, largest margin gap "
            f"{diag['max_margin_error']:.1e}; weights {diag['min_weight']:.2f}–"
            f"{diag['max_weight']:.2f}; design effect {diag['design_effect']:.2f}, effective n "
            f"{diag['effective_n']:.0f}." if w["is_weighted"] and diag else
            "Unweighted (every weight is 1; effective n = n).")
        moe = (f"±{100 * diag['margin_of_error_50pct']:.1f} points for a 50 % share (95 %)"
               if diag else "n/a")
        found = "; ".join(
            f"{c['check_label_en']}: {c['respondents_n']} "
            f"({'quarantined' if c['is_blocking'] else 'flagged, kept'})"
            for c in checks) or "no finding"
        rows = [
            ("Commanditaire / Sponsor", _esc(w["sponsor"])),
            ("Population",
             f"{_esc(w['population_fr'])}<br><small>{_esc(w['population_en'])}</small>"),
            ("Échantillon / Sample",
             f"{_esc(w['recruitment_fr'])}<br><small>{_esc(w['recruitment_en'])}</small>"),
            ("Mode", _esc(w["mode"])),
            ("Terrain / Fieldwork", f"{w['fieldwork_start_date']} → {w['fieldwork_end_date']}"),
            ("Taille / Size", f"{w['landed_n']} landed, {w['respondents_n']} accepted, "
             f"{w['quarantined_n']} quarantined"),
            ("Pondération / Weighting", weighting),
            ("Marge d'erreur / Margin of error", moe + "; every figure in fct_indicator has "
             "its own Wilson (shares) or t (means) 95 % interval" + (
                 ": standard errors linearised over the raking margins (calibration residual "
                 "variance), Wilson on the sample size of equal variance" if w["is_weighted"] else
                 " on its effective n")),
            ("Contrôle qualité / Quality procedures", "Great Expectations suites on landed and "
             f"accepted data; findings: {_esc(found)}"),
            ("Diffusion / Disclosure", "figures on fewer than <code>min_publish_base</code> "
             "respondents are suppressed, under <code>caution_base</code> flagged"),
            ("Limites / Limitations", _esc(w["data_note"]) + (
                ". Non-probability sample: intervals describe sampling variability only, "
                "not coverage or self-selection bias." if not w["is_weighted"] else
                ". Quota sample from an online panel: weighting corrects the quota variables "
                "only; intervals treat the sample as drawn at random, then raked.")),
        ]
        parts.append(f"<h2>{_esc(w['title_fr'])} <small>/ {_esc(w['title_en'])} "
                     f"({w['survey']})</small></h2>")
        parts.append(_table(["", ""], [[f"<b>{k}</b>", v] for k, v in rows]))
    return _page(f"Methodology {wave}", "".join(parts))


def _page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{_esc(title)}'
            f"</title><style>{CSS}</style></head><body>{body}</body></html>")


DOCS_FINGERPRINT = "fingerprint.txt"  # what a Data Docs folder (or the report) was built from


def report_fingerprint(warehouse: Path, project_root: Path) -> str | None:
    """What the report shows: the warehouse as its recorded steps left it (None when it was
    built by hand: the report is then always rebuilt), the project's configuration seeds and
    the code of the report and of Data Docs."""
    state = reuse.warehouse_state(warehouse)
    if state is None:
        return None
    package = Path(__file__).resolve().parents[1]
    code = reuse.files_under(package, ["report", "quality"], {".py"})
    config = sorted((Path(project_root) / "seeds").glob("*.csv"))
    return reuse.digest([state, reuse.files_digest(code, package),
                         reuse.files_digest(config, Path(project_root))])


def _data_docs(warehouse: Path, docs_dir: Path, previous: Path | None) -> None:
    """Data Docs of the GX context beside the warehouse into docs_dir; a copy of `previous`
    (the published Data Docs) when the context's suites and results and the code that renders
    them are unchanged since it was built."""
    gx_dir = Path(warehouse).parent / "gx"  # the run's GX context (observatoire.quality)
    code = Path(__file__).resolve().parents[1] / "quality"
    fingerprint = reuse.digest([
        reuse.files_digest(reuse.files_under(gx_dir, ["."]), gx_dir),
        reuse.files_digest(reuse.files_under(code, ["."], {".py"}), code)])
    mark = previous / DOCS_FINGERPRINT if previous is not None else None
    if mark is not None and mark.is_file() and mark.read_text() == fingerprint:
        shutil.copytree(previous, docs_dir, symlinks=True)
        return
    from observatoire.quality.data_docs import build_offline_docs
    from observatoire.quality.gx_runner import get_context

    build_offline_docs(get_context(Path(warehouse).parent, load_suites=False), docs_dir)
    (docs_dir / DOCS_FINGERPRINT).write_text(fingerprint)


def _carry_catalog(previous: Path | None, out_dir: Path) -> None:
    """The data catalog installed in the previous report (a link to a versioned folder,
    observatoire.serving.catalog), copied into the new one: the index links to it, and the
    catalog step keeps it when still current."""
    link = previous / "catalog" if previous is not None else None
    if link is None or not link.is_symlink() or not link.resolve().is_dir():
        return
    target = link.resolve()
    shutil.copytree(target, out_dir / target.name)
    (out_dir / "catalog").symlink_to(target.name)


def build_report(warehouse: Path, out_dir: Path, *, project_root: Path = spec.PROJECT_ROOT,
                 previous: Path | None = None) -> Path:
    """Build Data Docs and the per-wave summary pages into out_dir; returns index.html.
    `previous`: the report published before: copied whole when the warehouse, configuration
    and code it was built from are unchanged (`report_fingerprint`), else its Data Docs are
    kept if still current."""
    fingerprint = report_fingerprint(warehouse, project_root)
    mark = previous / DOCS_FINGERPRINT if previous is not None else None
    if fingerprint and mark is not None and mark.is_file() and mark.read_text() == fingerprint:
        shutil.copytree(previous, out_dir, symlinks=True, dirs_exist_ok=True)
        return out_dir / "index.html"
    out_dir.mkdir(parents=True, exist_ok=True)
    docs_dir = out_dir / "data_docs"
    _data_docs(warehouse, docs_dir, previous / "data_docs" if previous is not None else None)
    _carry_catalog(previous, out_dir)
    links = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        waves = [w for (w,) in con.execute(
            "select distinct wave_year from marts.dim_wave order by 1 desc").fetchall()]
        for wave in waves:
            (out_dir / f"wave_{wave}.html").write_text(_wave_page(con, wave, out_dir, docs_dir),
                                                       encoding="utf-8")
            (out_dir / f"methodology_{wave}.html").write_text(_methodology_page(con, wave),
                                                              encoding="utf-8")
            links.append(f'<li><a href="wave_{wave}.html">Vague / wave {wave}</a> · '
                         f'<a href="methodology_{wave}.html">méthodologie / methodology</a></li>')
    index = out_dir / "index.html"
    index.write_text(_page("Observatoire IA — quality reports", (
        "<h1>Observatoire IA — rapports qualité / quality reports</h1>"
        f"<ul>{''.join(links)}</ul>"
        '<p><a href="data_docs/index.html">Great Expectations Data Docs</a></p>'
        '<p><a href="catalog/index.html">Catalogue des données / Data catalog</a></p>')),
        encoding="utf-8")
    if fingerprint:
        (out_dir / DOCS_FINGERPRINT).write_text(fingerprint)
    return index
