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
    if not path.exists() and _create_key_file(path):
        print(f"[observatoire] no {ENV_VAR} set: created a random pseudonymisation key in "
              f"{path} (keep it private; set {ENV_VAR} to use your own)", file=sys.stderr)
    return path.read_text().strip().encode()


def _create_key_file(path: Path) -> bool:
    """Write a random key to `path` unless it exists; True if this call created it.

    The key is written to a private temporary file (mode 0600 from its creation, never
    readable by others) and linked into place: `link` fails if another process (dbt opens
    several connections at once) created the key first, so every process reads one complete
    key, never a half-written one or a second key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
            handle.flush()
            os.fsync(handle.fileno())
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


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
