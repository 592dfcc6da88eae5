"""`hashes`: the same digests as hashlib, without loading it."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidencebot import hashes


@given(st.binary(max_size=4096))
def test_sha256_is_hashlibs(data: bytes) -> None:
    assert hashes.sha256(data) == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("algo", ["sha1", "sha256"])
@given(data=st.binary(max_size=4096))
def test_digest_is_hashlibs(algo: str, data: bytes) -> None:
    assert hashes.digest(algo, data) == hashlib.new(algo, data).digest()


@given(st.binary(max_size=4096), st.integers(1, 64))
def test_blake2b_is_hashlibs(data: bytes, size: int) -> None:
    assert hashes.blake2b(data, size) == hashlib.blake2b(data, digest_size=size).digest()


def test_digest_refuses_another_hash() -> None:
    with pytest.raises(ValueError, match="md5"):
        hashes.digest("md5", b"")


def test_reading_a_config_and_writing_a_tree_load_no_openssl() -> None:
    """hashlib imports OpenSSL's module (2.4 ms of a command)."""
    probe = ("import sys\nimport evidencebot.config, evidencebot.ledger.trees, "
             "evidencebot.evidence.record\n"
             "from evidencebot import hashes\nhashes.digest('sha1', b'')\n"
             "print(sorted(m for m in ('hashlib', '_hashlib') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
