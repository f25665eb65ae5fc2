"""Golden outputs of the shipped models, for `tests/test_shipped.py`.

Run from the repository root of the commit whose behaviour is the reference:
`python tests/golden/shipped_outputs.py tests/golden/shipped_outputs.npz <preset>`.
History: the cpu128 models' goldens were written at 7101ce7 (the last commit before the issue-16 redesign); when
`runs.SHIPPED_PRESET` came, their key `stage1_cpu128` was renamed `stage1` and `preset` added, the arrays untouched.
When another preset's models are shipped, its goldens are written by the commit that ships them: the cpu128rq
goldens (the models shipped since) by the commit that set `runs.SHIPPED_PRESET = "cpu128rq"`, with AdaIN off
for these soft-decoding models as `idcf restore` runs them.
They were rewritten by the commit that shipped the Stage IIIs retrained on the 12,000-iteration Stage IIs
(same preset, same code: only the weights changed).
Uses only functions that exist in every version compared: `load_codeformer`, `load_vqgan` and the models'
own forward passes. The npz stores the preset it was written for (`preset`)."""
import sys
import numpy as np
import torch
from pathlib import Path
from skimage import data, transform
from idcf.checkpoint import load_codeformer, load_vqgan

def inputs(size: int = 128) -> np.ndarray:
    "A deterministic degraded face: the astronaut's head, 4x downsampled, upsampled and noisy, uint8 (1, S, S, 3)."
    a = data.astronaut()[20:220, 140:340]
    sharp = (transform.resize(a, (size, size), anti_aliasing=True) * 255).round().astype(np.uint8)
    rng = np.random.default_rng(0)
    small = transform.resize(sharp, (size // 4, size // 4), anti_aliasing=True)
    soft = np.clip(transform.resize(small, (size, size)) * 255 + rng.normal(0, 8, (size, size, 3)), 0, 255).round().astype(np.uint8)
    return soft[None]

def outputs(root: Path, preset: str) -> dict:
    x = torch.from_numpy(inputs()).permute(0, 3, 1, 2).float() / 127.5 - 1
    u8 = lambda y: ((y.detach().float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    ck = root / "results" / "checkpoints"
    out = {}
    with torch.inference_mode():
        for lam, ws in (("0", (0.5,)), ("0.1", (0.0, 0.5, 1.0))):
            m = load_codeformer(ck / f"stage3-{preset}-lambda{lam}.safetensors").eval()
            adain = m.cfg.decode != "soft"        # the inference default (codeformer.inference_colour); published: on
            for w in ws: out[f"stage3_lambda{lam}_w{w:g}"] = u8(m(x, w=w, adain=adain)[0])
        out["stage1"] = u8(load_vqgan(ck / f"stage1-{preset}.safetensors").eval()(x)[0])
    return out

if __name__ == "__main__":
    torch.manual_seed(0)
    preset = sys.argv[2]
    np.savez_compressed(sys.argv[1], inputs=inputs(), preset=np.array(preset), **outputs(Path.cwd(), preset))
