"""End to end: smoke-trained checkpoints → `make table1` → table, figures, paper (issue 'Evaluation and Table 1')."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT


@pytest.mark.usefixtures("shared")
def test_make_table1_end_to_end(tmp_path, monkeypatch):
    results = tmp_path / "results"
    env = {**os.environ, "IDCF_RESULTS": str(results)}
    env.pop("IN_TEST", None)
    code = "from idcf.testing import ensure_checkpoints; ensure_checkpoints('smoke')"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=ROOT)
    papers = tmp_path / "papers"
    papers.mkdir()
    for t in (ROOT / "papers").glob("paper.template.*"):
        (papers / t.name).write_text(t.read_text())
    r = subprocess.run(["make", "table1", "PRESET=smoke", "LIMIT=6", f"PAPERS={papers}", "UPDATE_README=False",
                        f"VENV={Path(sys.executable).parent.parent}"], env=env, cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for f in ["table1.csv", "table1.md", "table1.tex", "summary.json",
              "figures/lambda_tradeoff.png", "figures/lambda_tradeoff.pdf", "figures/ids_per_image.png",
              "figures/ids_per_image.pdf", "figures/qualitative_public.png", "figures/qualitative_celeba.png",
              "eval/executed/evaluate.ipynb", "eval/executed/table1.ipynb"]:
        assert (results / f).is_file(), f
    ev = results / "eval" / "celeba_wild-test-large-seed2022-n6"
    for m in ("degraded-input", "codeformer-lambda-0", "id-codeformer-lambda-0.1", "stage-i-vqgan-on-ground-truth-ceiling"):
        assert (ev / f"{m}.csv").is_file() and (ev / f"{m}.json").is_file()
    assert (ev / "run.json").is_file()
    md = (papers / "paper.md").read_text()
    summary = json.loads((results / "summary.json").read_text())
    diff = summary["values"]["id_codeformer_lambda_0_1_minus_codeformer_lambda_0.ids_arcface"]["value"]
    assert f"{diff:+.4f}" in md                    # the paper quotes the generated number
    assert "{{" not in md and "{{" not in (papers / "paper.tex").read_text()


@pytest.mark.usefixtures("shared")
def test_unavailable_metrics_are_reported_with_their_reason(tmp_path, monkeypatch):
    "Hide every backbone (empty torch hub): LPIPS and FID must appear as unavailable, with the reason, in CSV and table."
    import torch
    from idcf.testing import ensure_checkpoints
    from idcf.runs import SMOKE_DATA
    from idcf.datasets import build_identity_dataset
    from idcf.evaluate import Method, EvalConfig, evaluate_methods, load_results
    from idcf.report import summarise, write_table1
    monkeypatch.setenv("IDCF_RESULTS", str(tmp_path / "results"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "empty_hub"))
    man = build_identity_dataset(SMOKE_DATA, progress=False)
    out = evaluate_methods([Method("Degraded input")], man, EvalConfig(limit=4, metrics=("psnr", "lpips", "fid")))
    df, s = load_results(out)["Degraded input"]
    run = json.loads((out / "run.json").read_text())
    (out / "run.json").write_text(json.dumps({**run, "status": "running"}))     # as if still running, or killed
    with pytest.raises(RuntimeError, match="still running or was interrupted"): load_results(out)
    assert list(load_results(out, partial_ok=True)) == ["Degraded input"]
    (out / "run.json").write_text(json.dumps(run))
    assert (df["lpips_alex"] == "unavailable").all()
    assert "alexnet-owt-7be5be79.pth" in s["unavailable"]["lpips"] and s["set_metrics"]["fid"] == "unavailable"
    write_table1(summarise(load_results(out), n_boot=200), json.loads((out / "testset.json").read_text()), tmp_path)
    md = (tmp_path / "table1.md").read_text()
    assert any(line.startswith("| Degraded input") and "unavailable" in line for line in md.splitlines())
    assert "LPIPS↓: unavailable — LPIPS-alex needs torchvision's ImageNet weights alexnet-owt-7be5be79.pth" in md


@pytest.mark.usefixtures("shared")
def test_ceiling_row_reconstructs_the_ground_truth(tmp_path, monkeypatch):
    "The Stage I ceiling is the VQGAN's reconstruction of the clean face, not of the degraded one."
    import numpy as np
    import torch
    from idcf.checkpoint import save_weights, load_vqgan
    from idcf.datasets import build_identity_dataset, read_manifest
    from idcf.evaluate import CEILING, Method, EvalConfig, evaluate_methods, load_results, _reconstruct, testset_dir
    from idcf.imageio import read_image
    from idcf.metrics import psnr
    from idcf.codeformer import to_tensor, to_uint8
    from idcf.runs import SMOKE_DATA
    from idcf.vqgan import CodeFormerConfig, VQAutoEncoder
    monkeypatch.setenv("IDCF_RESULTS", str(tmp_path / "results"))
    torch.manual_seed(0)
    ck = save_weights(VQAutoEncoder(CodeFormerConfig.preset("smoke")), tmp_path / "vq.safetensors")
    man = build_identity_dataset(SMOKE_DATA, progress=False)
    out = evaluate_methods([Method(CEILING, str(ck), stage=1, source="hq")], man, EvalConfig(limit=4, metrics=("psnr",)))
    df, s = load_results(out)[CEILING]
    assert s["method"]["source"] == "hq"
    vq, tdir = load_vqgan(ck), testset_dir(man, out.name)
    rows = read_manifest(tdir / "test.csv")
    assert list(df["lq"]) == [r["lq"] for r in rows]
    load = lambda key: np.stack([read_image(tdir / r[key]).rgb for r in rows])
    recon = lambda u8: to_uint8(_reconstruct(vq, to_tensor(u8)))
    gt = load("hq")
    from_hq = [psnr(g, o) for g, o in zip(gt, recon(gt))]
    from_lq = [psnr(g, o) for g, o in zip(gt, recon(load("lq")))]
    # a few pixels may round differently between batch sizes/thread counts: 1e-3 dB is far below
    # the gap between reconstructing the clean and the degraded face
    assert np.abs(df["psnr"] - from_hq).max() < 1e-3
    assert np.abs(df["psnr"] - from_lq).max() > 1e-2


def test_paper_templates_have_no_hand_typed_numbers():
    from idcf.report import hand_typed_numbers
    for t in sorted((ROOT / "papers").glob("paper.template.*")):
        assert hand_typed_numbers(t.read_text()) == [], f"{t.name}: numbers typed by hand, use placeholders"


@pytest.mark.usefixtures("shared")
def test_ground_truth_embeddings_are_computed_once_per_test_set(tmp_path, monkeypatch):
    "The dlib (and ArcFace) embeddings of the ground truth do not depend on the method: one pass per test set."
    from idcf.runs import SMOKE_DATA
    from idcf.datasets import build_identity_dataset
    from idcf.evaluate import Method, Scorer, prepare_testset
    monkeypatch.setenv("IDCF_RESULTS", str(tmp_path / "results"))
    man = build_identity_dataset(SMOKE_DATA, progress=False)
    test_manifest = prepare_testset(man, limit=4)[0]
    sc = Scorer(test_manifest, man, "cpu", metrics=("dlib",))
    calls, embed = [], sc.dlib.embed
    monkeypatch.setattr(sc.dlib, "embed", lambda faces: calls.append(len(faces)) or embed(faces))
    ids = [sc.score(Method(name), sc.lq)[0]["ids_dlib"].to_numpy() for name in ("Degraded input", "Degraded input, again")]
    assert calls == [4, 4, 4]                        # the first method's output, the ground truth once, the second output
    assert (ids[0] == ids[1]).all()


def test_default_methods_find_the_shipped_models_when_results_go_elsewhere(tmp_path, monkeypatch):
    "IDCF_RESULTS moves runs and tables, not the weights tracked in the repository."
    from idcf.core import shipped_root
    from idcf.evaluate import default_methods
    monkeypatch.setenv("IDCF_RESULTS", str(tmp_path / "elsewhere"))
    from idcf.runs import SHIPPED_PRESET
    shipped = {p.name for p in shipped_root().glob(f"stage3-{SHIPPED_PRESET}-lambda*.safetensors")
               if not p.name.endswith(".resume.safetensors")}          # carried training states are not shipped models
    if not shipped: pytest.skip(f"no shipped {SHIPPED_PRESET} models in this checkout")
    found = {Path(m.checkpoint).name: Path(m.checkpoint).parent for m in default_methods() if m.checkpoint}
    assert shipped <= set(found) and {found[n] for n in shipped} == {shipped_root()}
