"""The README's `papermill nbs/train_stage2.ipynb -p lambda_ids 0.1` as a new user meets it on a fresh clone."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, venv_bin

from idcf.runs import SHIPPED_PRESET
COMMITTED = ROOT / "results" / "runs" / f"stage2-{SHIPPED_PRESET}-ref2-lambda0.1-seed0"     # a finished record (λ = 0.1's is in progress)


@pytest.mark.usefixtures("shared")
def test_readme_stage2_command_uses_shipped_stage1_and_keeps_the_committed_record(tmp_path):
    from idcf.datasets import BuildConfig, build_identity_dataset
    if not (ROOT / "results" / "checkpoints" / f"stage1-{SHIPPED_PRESET}.safetensors").is_file(): pytest.skip(f"no shipped {SHIPPED_PRESET} Stage I")
    results = tmp_path / "results"                    # a fresh clone: the committed run records, no training state
    run = results / "runs" / COMMITTED.name
    shutil.copytree(COMMITTED, run, ignore=shutil.ignore_patterns("ckpt", "*.pth"))   # what git tracks of it
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    data = build_identity_dataset(BuildConfig(size=128, seed=0, max_identities=12), progress=False)   # 128 px, small
    env = {**os.environ, "IDCF_RESULTS": str(results)}
    env.pop("IN_TEST", None)
    r = subprocess.run([venv_bin("papermill"), "nbs/train_stage2.ipynb", "-p", "lambda_ids", "0.1", "-p", "preset", SHIPPED_PRESET,
                        "-p", "iters", "2", "-p", "references", "2", "-p", "data", str(data)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "using the shipped Stage I weights" in r.stdout + r.stderr
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before          # the committed record is untouched
    new = run.with_name(run.name + "-2")
    assert (new / "train_stage2.ipynb").is_file() and (new / "net_g_ema.pth").is_file()
    assert '"status": "finished"' in (new / "run.json").read_text()


def test_bad_parameter_ends_in_one_line_and_leaves_no_folder(tmp_path):
    env = {**os.environ, "IDCF_RESULTS": str(tmp_path / "results")}
    env.pop("IN_TEST", None)
    r = subprocess.run([venv_bin("papermill"), "nbs/train_stage2.ipynb", "-p", "lambda_ids", "-1", "-p", "preset", "cpu128"],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode != 0
    last = [l for l in r.stderr.splitlines() if l.strip()][-1]
    assert "lambda_ids: -1 must be a finite number ≥ 0" in last, last
    runs = tmp_path / "results" / "runs"
    assert not runs.exists() or not any(runs.glob("stage2-*"))          # no junk run folder
