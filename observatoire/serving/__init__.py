"""Serving the published snapshot to BI tools that speak PostgreSQL, and the data catalog.

- `postgres`: a local PostgreSQL cluster under `data/postgres/` (or a server of the user's own,
  `OBSERVATOIRE_PG_DSN`), its roles and passwords;
- `load`: the atomic load of a published snapshot into the served schema;
- `catalog`: the dbt docs site, built to render offline.

`python -m observatoire.serving start|stop|status|load` (`make serve`, `make serve-stop`).
"""
