"""Pseudonyms: HMAC-SHA256 (checked against RFC 4231 and Python's hmac), one id or a batch,
and the warehouse's respondent keys are the pseudonyms of survey:wave:id."""

from __future__ import annotations

import hashlib
import hmac
import os

from observatoire.pseudonym import pseudonym, pseudonyms
from tests.conftest import query

# RFC 4231, test case 2: HMAC-SHA256 of "what do ya want for nothing?" under the key "Jefe"
RFC4231_CASE2 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_pseudonym_is_hmac_sha256_truncated_to_64_bits():
    assert pseudonym(b"Jefe", "what do ya want for nothing?") == RFC4231_CASE2[:16]


def _hmac16(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:16]


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
    assert len(rows) > 2000
    key = os.environ["OBSERVATOIRE_PSEUDONYM_KEY"].encode()
    for survey, wave_year, respondent_id, respondent_key in rows:
        assert respondent_key == _hmac16(key, f"{survey}:{wave_year}:{respondent_id}")
