"""Pseudonyms: HMAC-SHA256 (checked against RFC 4231 and Python's hmac), one id or a batch,
the warehouse's respondent keys are the pseudonyms of survey:wave:id, and the key file is
created private (0600) once, by one process, then reused (directly and through dbt)."""

from __future__ import annotations

import csv
import hashlib
import hmac
import os
import re
import stat
import subprocess
import sys

import pytest

from observatoire.spec import PROJECT_ROOT
from observatoire.warehouse.pseudonym import ENV_VAR, load_key, pseudonym, pseudonyms
from tests.conftest import dbt_in, project_copy, query

# RFC 4231, test case 2: HMAC-SHA256 of "what do ya want for nothing?" under the key "Jefe"
RFC4231_CASE2 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_pseudonym_is_hmac_sha256_truncated_to_64_bits():
    assert pseudonym(b"Jefe", "what do ya want for nothing?") == RFC4231_CASE2[:16]


def _hmac16(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:16]


def _landed_respondents() -> int:
    """Data rows of every shipped respondent file (each with a unique id), read directly."""
    total = 0
    for path in sorted((PROJECT_ROOT / "seeds" / "raw").glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            total += sum(1 for _ in csv.DictReader(handle))
    return total


def test_batch_pseudonyms_are_hmacs_of_each_value_and_keep_nulls():
    values = ["pro:2024:R0001", None, "public:2024:42", "", "pro:2024:R0001", "é:ü"]
    batch = pseudonyms(b"some key", values)
    assert batch[1] is None
    assert batch == [None if v is None else _hmac16(b"some key", v) for v in values]
    assert batch[0] == batch[4] and batch[0] != batch[2]
    assert pseudonyms(b"another key", values)[0] != batch[0]


def test_warehouse_keys_are_pseudonyms_of_survey_wave_and_id(shipped_warehouse):
    rows = query(shipped_warehouse, """
        select survey, wave_year, respondent_id, respondent_key
        from staging.stg_landed__respondents where id_occurrence = 1""")
    assert len(rows) == _landed_respondents()  # every landed respondent (ids unique)
    key = os.environ["OBSERVATOIRE_PSEUDONYM_KEY"].encode()
    for survey, wave_year, respondent_id, respondent_key in rows:
        assert respondent_key == _hmac16(key, f"{survey}:{wave_year}:{respondent_id}")


# --- the key file: created private once, then reused ----------------------------------------

KEY_FILE = "pseudonym.key"


@pytest.fixture
def no_env_key(tmp_path, monkeypatch):
    """No key in the environment; the data folder is a fresh tmp folder."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("OBSERVATOIRE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_key_file_created_private_then_reused(no_env_key, capsys):
    previous = os.umask(0)  # even with a permissive umask the key is never readable by others
    try:
        key = load_key()
    finally:
        os.umask(previous)
    path = no_env_key / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert re.fullmatch(rb"[0-9a-f]{64}", key)
    assert capsys.readouterr().err == (
        f"[observatoire] no {ENV_VAR} set: created a random pseudonymisation key in {path} "
        f"(keep it private; set {ENV_VAR} to use your own)\n")
    written = path.stat().st_mtime_ns
    assert load_key() == key  # reused: same key, no message, file untouched
    assert capsys.readouterr().err == ""
    assert path.stat().st_mtime_ns == written
    assert sorted(p.name for p in no_env_key.iterdir()) == [KEY_FILE]  # no temporary left


def test_concurrent_first_runs_agree_on_one_key(no_env_key):
    """dbt opens several connections at once: every process must read the same key."""
    code = "from observatoire.warehouse.pseudonym import load_key; print(load_key().decode())"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(8)]
    outputs = [p.communicate(timeout=120) for p in procs]
    keys = {out.strip() for out, _ in outputs}
    assert keys == {(no_env_key / KEY_FILE).read_text()}
    assert sum("created a random pseudonymisation key" in err for _, err in outputs) == 1
    assert sorted(p.name for p in no_env_key.iterdir()) == [KEY_FILE]


def test_key_from_environment_writes_no_file(no_env_key, monkeypatch):
    monkeypatch.setenv(ENV_VAR, "from-the-environment")
    assert load_key() == b"from-the-environment"
    assert not no_env_key.exists()


def test_dbt_creates_the_key_file_and_reuses_it(no_env_key, parsed_project, tmp_path):
    """Through the dbt plugin: the first build creates the key, the second reuses it, and
    the warehouse's keys are HMACs under the key in the file."""
    keys = []
    for run in ("first", "second"):
        project, warehouse = project_copy(parsed_project, tmp_path / run)
        dbt_in(project, warehouse, ["run", "--quiet", "--select", "stg_landed__respondents"],
               capture=True)
        keys.append(query(warehouse, """
            select survey, wave_year, respondent_id, respondent_key
            from staging.stg_landed__respondents where id_occurrence = 1 order by all"""))
    path = no_env_key / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys[0] == keys[1] and len(keys[0]) == _landed_respondents()
    key = path.read_text().encode()
    assert all(respondent_key == _hmac16(key, f"{survey}:{wave}:{respondent_id}")
               for survey, wave, respondent_id, respondent_key in keys[0])
