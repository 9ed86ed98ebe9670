"""Keyed pseudonyms (HMAC-SHA256) for respondent ids.

The key comes from the environment variable OBSERVATOIRE_PSEUDONYM_KEY. Where none is set,
the first run creates a random key in `data/pseudonym.key` (git-ignored, never committed) and
says so; later runs reuse it, so pseudonyms are stable on one machine.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sys
from pathlib import Path

from observatoire.conventions import DATA, ENV_DATA_DIR, ENV_PSEUDONYM_KEY

ENV_VAR = ENV_PSEUDONYM_KEY


def key_file() -> Path:
    return Path(os.environ.get(ENV_DATA_DIR, DATA)) / "pseudonym.key"


def load_key() -> bytes:
    """The pseudonymisation key: from the environment, else from (or created in) data/."""
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return from_env.encode()
    path = key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
        print(f"[observatoire] no {ENV_VAR} set: created a random pseudonymisation key in "
              f"{path} (keep it private; set {ENV_VAR} to use your own)", file=sys.stderr)
    return path.read_text().strip().encode()


def pseudonym(key: bytes, value: str) -> str:
    """HMAC-SHA256 of value under key, as 16 hex characters (64 bits)."""
    return pseudonyms(key, [value])[0]


def pseudonyms(key: bytes, values: list[str | None]) -> list[str | None]:
    """`pseudonym` of each value (None stays None), keying the HMAC once for the whole list."""
    keyed = hmac.new(key, digestmod=hashlib.sha256)
    out: list[str | None] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        digest = keyed.copy()
        digest.update(value.encode())
        out.append(digest.hexdigest()[:16])
    return out
