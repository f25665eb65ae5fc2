"""Golden NIQE values from basicsr 1.4.2's own implementation (the reference that idcf.niqe is tested against).

Run once, by hand, with the extracted basicsr 1.4.2 source distribution (PyPI `basicsr-1.4.2.tar.gz`):

    pip download --no-deps --no-binary :all: --no-build-isolation basicsr==1.4.2 -d /tmp/b && tar xzf /tmp/b/basicsr-1.4.2.tar.gz -C /tmp/b
    python tests/golden/niqe_basicsr.py /tmp/b/basicsr-1.4.2 > tests/golden/niqe_basicsr.json

basicsr's package __init__ imports its whole training stack, so only the three modules that NIQE uses are loaded,
from their files, with its metric registry replaced by a no-op decorator and `scipy.ndimage.filters` (removed from
recent SciPy) pointing at `scipy.ndimage`. The images come from scikit-image (no shared data needed).
"""
import hashlib, importlib.util, json, sys, types
from pathlib import Path

import scipy.ndimage

from golden_images import niqe_test_images


def load_basicsr_niqe(root: Path):
    sys.modules.setdefault("scipy.ndimage.filters", scipy.ndimage)
    pkgs = ["basicsr", "basicsr.utils", "basicsr.metrics"]
    for p in pkgs:
        m = types.ModuleType(p); m.__path__ = [str(root / p.replace(".", "/"))]; sys.modules[p] = m
    reg = types.ModuleType("basicsr.utils.registry")
    reg.METRIC_REGISTRY = types.SimpleNamespace(register=lambda: (lambda f: f))
    sys.modules["basicsr.utils.registry"] = reg
    def load(name):
        spec = importlib.util.spec_from_file_location(name, root / (name.replace(".", "/") + ".py"))
        mod = importlib.util.module_from_spec(spec); sys.modules[name] = mod; spec.loader.exec_module(mod); return mod
    sys.modules["basicsr.utils"].bgr2ycbcr = load("basicsr.utils.color_util").bgr2ycbcr
    for name in ["basicsr.utils.matlab_functions", "basicsr.metrics.metric_util"]: load(name)
    return load("basicsr.metrics.niqe")


if __name__ == "__main__":
    root = Path(sys.argv[1])
    niqe = load_basicsr_niqe(root)
    out = {"reference": "basicsr 1.4.2 basicsr/metrics/niqe.py calculate_niqe(img_bgr, crop_border=0, input_order='HWC', convert_to='y')",
           "niqe_py_sha256": hashlib.sha256((root / "basicsr/metrics/niqe.py").read_bytes()).hexdigest(),
           "images": {}}
    for name, rgb in niqe_test_images().items():
        out["images"][name] = {"shape": list(rgb.shape), "sha256": hashlib.sha256(rgb.tobytes()).hexdigest(),
                               "niqe": float(niqe.calculate_niqe(rgb[..., ::-1], 0, input_order="HWC", convert_to="y"))}
    print(json.dumps(out, indent=1))
