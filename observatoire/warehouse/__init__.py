"""The warehouse build: dbt run in a subprocess, the dbt-duckdb plugin (pseudonyms, t
quantiles) and the pseudonymisation key."""
