"""Shared pytest fixtures: the repository root, the ../shared folder (tests skip without it), temp results."""
import os
from pathlib import Path

import pytest

from idcf.core import repo_root, shared_root

ROOT = repo_root()


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared() -> Path:
    p = shared_root()
    if p is None:
        pytest.skip("../shared is absent (a user's machine): this test needs the shared data/weights")
    return p


@pytest.fixture()
def results_tmp(tmp_path, monkeypatch) -> Path:
    "Point results_root() at a temporary folder for the duration of a test."
    out = tmp_path / "results"
    monkeypatch.setenv("IDCF_RESULTS", str(out))
    return out


def venv_bin(name: str) -> str:
    "Path of a console script installed beside the running interpreter."
    import sys
    p = Path(sys.executable).parent / name
    return str(p) if p.exists() else name
