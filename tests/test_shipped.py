"""The shipped models load and restore as they did when they were shipped.

The golden outputs were written by `tests/golden/shipped_outputs.py` (its docstring says at which commit) with the
models' plain forward passes; here the same faces go through today's inference path (`restore_faces`: fused
attention, batching, the one uint8 conversion) and `load_vqgan`. The goldens name their preset, which must be the
one the repository ships."""
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = np.load(ROOT / "tests" / "golden" / "shipped_outputs.npz")
CK = ROOT / "results" / "checkpoints"
PRESET = str(GOLDEN["preset"])


def _close(got: np.ndarray, want: np.ndarray):
    d = np.abs(got.astype(int) - want.astype(int))
    assert d.max() <= 2 and d.mean() < 0.05, (d.max(), d.mean())   # float rounding of fused vs plain attention only


@pytest.mark.parametrize("key", [k for k in GOLDEN.files if k.startswith("stage3_")])
def test_shipped_codeformer_restores_as_before(key):
    from idcf.checkpoint import load_codeformer
    from idcf.codeformer import fast_inference, restore_faces
    lam, w = key.removeprefix("stage3_lambda").split("_w")
    model = fast_inference(load_codeformer(CK / f"stage3-{PRESET}-lambda{lam}.safetensors"))
    _close(restore_faces(model, GOLDEN["inputs"], w=float(w), colour_fix=False), GOLDEN[key])   # the network alone: input_colour is tested in 02_codeformer


def test_shipped_stage1_reconstructs_as_before():
    from idcf.checkpoint import load_vqgan
    from idcf.codeformer import to_tensor, to_uint8
    from idcf.evaluate import _reconstruct
    _close(to_uint8(_reconstruct(load_vqgan(CK / f"stage1-{PRESET}.safetensors"), to_tensor(GOLDEN["inputs"]))), GOLDEN["stage1"])


def test_the_goldens_are_of_the_shipped_models():
    "Goldens of another preset would test weights that `idcf restore` no longer uses."
    from idcf.runs import SHIPPED_PRESET
    from idcf.restore import SHIPPED
    assert PRESET == SHIPPED_PRESET and all((CK / f).is_file() for f in SHIPPED.values()), (PRESET, SHIPPED)


def test_the_comparison_can_fail():
    "A different fidelity gives a different face: the tolerance above is not so loose that anything passes."
    from idcf.checkpoint import load_codeformer
    from idcf.codeformer import fast_inference, restore_faces
    model = fast_inference(load_codeformer(CK / f"stage3-{PRESET}-lambda0.1.safetensors"))
    with pytest.raises(AssertionError):
        _close(restore_faces(model, GOLDEN["inputs"], w=1.0, colour_fix=False), GOLDEN["stage3_lambda0.1_w0"])


def test_the_carried_long_run_resumes_with_todays_code():
    "The committed carry of the long Stage I (written by the code of its session) loads into today's networks and optimisers."
    from idcf.train import TrainConfig, resolve, build_networks, optimisers, FaceBatcher, load_carry, load_state
    carried = CK / "stage1-cpu128rq-lambda0-seed0.resume.safetensors"
    if not carried.exists(): pytest.skip("no carried long run in results/checkpoints")
    cfg = resolve(TrainConfig(stage=1, preset="cpu128rq", perceptual="ssim"), check_files=False)
    nets = build_networks(cfg, torch.device("cpu"))
    before = nets["ema"].state_dict()["encoder.blocks.0.weight"].clone()
    _, opts = optimisers(cfg, nets)
    it, extra = load_state(load_carry(carried), nets, opts, FaceBatcher(torch.zeros(2, 3, 128, 128, dtype=torch.uint8), 8, 0), "cpu")
    assert it > 0 and extra["elapsed_s"] > 0 and tuple(extra["code_counts"].shape) == (2, 512)
    assert not torch.equal(nets["ema"].state_dict()["encoder.blocks.0.weight"], before)
    assert len(opts["g"].state) == len([p for p in nets["model"].parameters() if p.requires_grad])


def test_the_warm_start_state_fits_the_residual_preset():
    "cpu128rq starts from the committed cpu128long networks: everything but the residual codes loads, shapes and all."
    from idcf.train import TrainConfig, resolve, build_networks, load_carry
    cfg = resolve(TrainConfig(stage=1, preset="cpu128rq", perceptual="ssim"))       # check_files: the warm state is there
    st, nets = load_carry(cfg.init_ckpt), build_networks(cfg, torch.device("cpu"))
    for k in ("model", "ema", "disc"):
        rep = nets[k].load_state_dict(st[k], strict=False)
        assert rep.unexpected_keys == [] and rep.missing_keys == (["quantize.residual"] if k != "disc" else [])
    assert st["iter"] == 14_900
