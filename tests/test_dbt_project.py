"""dbt project hygiene: docs generate offline, every consumed column documented, no config
key dbt would silently ignore."""

from __future__ import annotations

import json


def test_docs_generate_offline_and_documents_marts(shipped_catalog):
    target = shipped_catalog  # dbt docs generate --static of the shipped warehouse
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    assert (target / "index.html").is_file()
    nodes = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    tables = {n["metadata"]["name"] for n in catalog["nodes"].values()}
    for name, node in nodes.items():
        assert node["description"], f"{name} has no description"
        if node["path"].startswith(("marts", "reports")):
            assert name in tables
            columns = catalog["nodes"][node["unique_id"]]["columns"]
            undocumented = [c for c in columns if not node["columns"].get(c, {}).get("description")]
            assert not undocumented, f"{name}: undocumented columns {undocumented}"
    # contracts where BI tools read
    for name in ("fct_indicator", "fct_indicator_trend", "dim_wave"):
        assert nodes[name]["config"]["contract"]["enforced"] is True
    assert nodes["fct_indicator"]["config"]["materialized"] == "incremental_by_wave"
    # landed files are parsed once per wave, not once per consumer (no staging view), and the
    # respondent-level models compute only the waves they do not hold yet
    for name in ("stg_landed__respondents", "stg_landed__responses", "int_responses_decoded",
                 "dim_respondent", "int_indicator_members"):
        assert nodes[name]["config"]["materialized"] == "incremental_by_wave", name
    # long relations that only reshape incremental tables are views over them, never written
    for name in ("int_responses_harmonised", "int_respondent_attributes", "fct_response"):
        assert nodes[name]["config"]["materialized"] == "view", name
        parents = [p.split(".")[-1] for p in nodes[name]["depends_on"]["nodes"]
                   if p.startswith("model.")]
        assert parents and all(nodes[p]["config"]["materialized"] in ("incremental_by_wave", "view")
                               for p in parents), name
    # weights: a view over the accepted respondents and the raking of weighted waves
    assert nodes["int_respondent_weights"]["config"]["materialized"] == "view"
