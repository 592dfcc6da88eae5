"""SHA-1, SHA-256 and BLAKE2b from CPython's own modules: `hashlib` loads OpenSSL first
(about 2.4 ms of every command that reads a config or writes a tree, and of every hook),
and what is hashed here is small (config files, reports, a tracker, the trees of a few
folders, a document's lines)."""

from __future__ import annotations

from typing import Any

try:  # CPython 3.12 and later
    from _sha2 import sha256 as _sha256  # type: ignore[import-not-found]
except ImportError:
    try:  # CPython 3.11
        from _sha256 import sha256 as _sha256  # type: ignore[import-not-found,no-redef]
    except ImportError:  # pragma: no cover - an interpreter without CPython's modules
        from hashlib import sha256 as _sha256  # type: ignore[assignment]


def sha256(data: bytes) -> str:
    """The SHA-256 of ``data``, as 64 lowercase hex digits (`hashlib.sha256(...).hexdigest()`)."""
    return _sha256(data).hexdigest()


def digest(algo: str, data: bytes) -> bytes:
    """``hashlib.new(algo, data).digest()`` for "sha1" or "sha256" (git's object ids)."""
    if algo == "sha256":
        return _sha256(data).digest()  # type: ignore[no-any-return]
    if algo != "sha1":
        raise ValueError(f"unsupported hash {algo!r}")
    try:
        from _sha1 import sha1 as new  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - an interpreter without CPython's modules
        from hashlib import sha1 as new
    h: Any = new(data)
    return h.digest()  # type: ignore[no-any-return]


def blake2b(data: bytes, size: int) -> bytes:
    """``hashlib.blake2b(data, digest_size=size).digest()``."""
    try:
        from _blake2 import blake2b as new  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - an interpreter without CPython's module
        from hashlib import blake2b as new
    return new(data, digest_size=size).digest()  # type: ignore[no-any-return]
