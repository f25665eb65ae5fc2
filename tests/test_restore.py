"""`idcf restore` on real photos and on every kind of bad input (issue 'Restoration people can use')."""
import importlib.resources
import json
import resource
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from conftest import venv_bin
from idcf.checkpoint import save_weights
from idcf.cli import main
from idcf.codeformer import CodeFormer
from idcf.imageio import read_image, write_image
from idcf.vqgan import CodeFormerConfig

T1 = Path(importlib.resources.files("insightface")) / "data" / "images" / "t1.jpg"
HANKS = Path(importlib.resources.files("insightface")) / "data" / "images" / "Tom_Hanks_54745.png"


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    "A small CodeFormer the test builds itself (random weights: the pipeline is under test, not quality)."
    torch.manual_seed(0)
    return save_weights(CodeFormer(CodeFormerConfig.preset("smoke")), tmp_path_factory.mktemp("ck") / "smoke.safetensors")


def run(args, ckpt):
    return main(["restore", *map(str, args), "--checkpoint", str(ckpt)])


def report(out):
    return json.loads((Path(out) / "report.json").read_text())


def test_console_script_restores_all_faces_of_a_group_photo(tmp_path, ckpt):
    r = subprocess.run([venv_bin("idcf"), "restore", str(T1), "-o", str(tmp_path), "--checkpoint", str(ckpt),
                        "--all-faces", "--batch", "4"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rep = report(tmp_path)
    (photo,) = rep["photos"]
    assert len(photo["faces"]) == 6 and all(len(f["box"]) == 4 and f["score"] > 0.9 for f in photo["faces"])
    assert set(photo["timings_s"]) >= {"detect_align", "restore", "paste_back", "total"}
    assert rep["model"]["checkpoint"] == str(ckpt) and rep["fidelity"] == 0.5
    assert read_image(tmp_path / "t1.jpg").size == read_image(T1).size          # a JPEG input comes back as a JPEG
    assert len(list((tmp_path / "crops").glob("t1_face*_input.png"))) == 6


def test_bad_files_are_reported_and_the_batch_carries_on(tmp_path, ckpt):
    src = tmp_path / "in"; src.mkdir()
    (src / "corrupt.jpg").write_bytes(T1.read_bytes()[:800])
    (src / "notes.jpg").write_text("this is not an image")
    write_image(src / "noface.png", np.full((300, 300, 3), 120, np.uint8))
    (src / "good.jpg").write_bytes(T1.read_bytes())
    assert run([src, "-o", tmp_path / "out"], ckpt) == 1            # non-zero: some inputs failed
    rep = report(tmp_path / "out")
    errors = {Path(f["input"]).name: f["error"] for f in rep["failed"]}
    assert "corrupt or unsupported image" in errors["corrupt.jpg"]
    assert "not an image" in errors["notes.jpg"] or "corrupt" in errors["notes.jpg"]
    assert "no face found" in errors["noface.png"]
    assert [Path(p["input"]).name for p in rep["photos"]] == ["good.jpg"]   # processing continued


def test_grayscale_input(tmp_path, ckpt):
    g = tmp_path / "gray.png"
    cv2.imwrite(str(g), cv2.cvtColor(read_image(HANKS).rgb, cv2.COLOR_RGB2GRAY))
    assert run([g, "-o", tmp_path / "out"], ckpt) == 0
    p = report(tmp_path / "out")["photos"][0]
    assert p["mode"] == "gray" and "grayscale input restored in colour" in p["notes"]


def test_rgba_input_keeps_its_alpha(tmp_path, ckpt):
    rgb = read_image(HANKS).rgb
    alpha = np.tile(np.linspace(0, 255, rgb.shape[1]).astype(np.uint8), (rgb.shape[0], 1))
    write_image(tmp_path / "rgba.png", rgb, alpha)
    assert run([tmp_path / "rgba.png", "-o", tmp_path / "out"], ckpt) == 0
    out = read_image(tmp_path / "out" / "rgba.png")
    assert out.mode == "rgba" and np.array_equal(out.alpha, alpha)


def test_16bit_input(tmp_path, ckpt):
    rgb = read_image(HANKS).rgb
    cv2.imwrite(str(tmp_path / "deep.png"), cv2.cvtColor(rgb.astype(np.uint16) * 257, cv2.COLOR_RGB2BGR))
    assert run([tmp_path / "deep.png", "-o", tmp_path / "out"], ckpt) == 0
    assert "16-bit input written as 8-bit" in report(tmp_path / "out")["photos"][0]["notes"]


def test_inputs_are_never_overwritten_and_outputs_only_with_overwrite(tmp_path, ckpt):
    photo = tmp_path / "face.png"
    write_image(photo, read_image(HANKS).rgb)
    before = photo.read_bytes()
    assert run([photo, "-o", tmp_path], ckpt) == 1                     # output would replace the input
    assert photo.read_bytes() == before and "overwrite an input" in report(tmp_path)["failed"][0]["error"]
    out = tmp_path / "out"
    assert run([photo, "-o", out], ckpt) == 0
    stamp, rep = (out / "face.png").stat().st_mtime_ns, (out / "report.json").read_bytes()
    assert run([photo, "-o", out], ckpt) == 2                          # the earlier report.json is there: refused at once
    assert (out / "face.png").stat().st_mtime_ns == stamp and (out / "report.json").read_bytes() == rep
    (out / "report.json").unlink()                                     # outputs without a report: refused per file
    assert run([photo, "-o", out], ckpt) == 1 and (out / "face.png").stat().st_mtime_ns == stamp
    assert "--overwrite" in report(out)["failed"][0]["error"]
    assert main(["restore", str(photo), "-o", str(out), "--checkpoint", str(ckpt), "--overwrite"]) == 0


def test_fidelity_outside_its_range_is_refused(tmp_path, ckpt, capsys):
    photo = tmp_path / "face.png"
    write_image(photo, read_image(HANKS).rgb)
    assert main(["restore", str(photo), "-o", str(tmp_path / "o"), "--checkpoint", str(ckpt), "--fidelity", "1.5"]) == 2
    assert "--fidelity 1.5: expected a weight in [0, 1]" in capsys.readouterr().err
    assert not (tmp_path / "o" / "report.json").exists()


def test_aligned_input(tmp_path, ckpt):
    sq = cv2.resize(read_image(HANKS).rgb[:, :], (96, 96))
    write_image(tmp_path / "a.png", sq)
    assert main(["restore", str(tmp_path / "a.png"), "-o", str(tmp_path / "o"), "--checkpoint", str(ckpt), "--aligned"]) == 0
    assert read_image(tmp_path / "o" / "a.png").size == (96, 96)
    write_image(tmp_path / "wide.png", np.zeros((64, 96, 3), np.uint8))
    assert main(["restore", str(tmp_path / "wide.png"), "-o", str(tmp_path / "o2"), "--checkpoint", str(ckpt), "--aligned"]) == 1


def test_very_large_photo_without_running_out_of_memory(tmp_path, ckpt):
    "A 40-megapixel photo: detection on a downscaled copy, paste-back only inside the face regions."
    big = cv2.resize(read_image(T1).rgb, (7680, 5316), interpolation=cv2.INTER_LINEAR)
    write_image(tmp_path / "big.jpg", big, quality=90)
    del big
    code = ("import resource, sys; from idcf.cli import main; "
            f"rc = main(['restore', {str(tmp_path / 'big.jpg')!r}, '-o', {str(tmp_path / 'out')!r}, '--checkpoint', {str(ckpt)!r}, '--all-faces', '--no-crops']); "
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')]; "   # this process's own peak: ru_maxrss
            "print('PEAK_MB', int(hwm[0].split()[1]) // 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024); "
            "sys.exit(rc)")                 # would include the parent's memory, which Linux carries into a vfork+exec child
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    peak = int(r.stdout.split("PEAK_MB")[1].split()[0])
    assert peak < 3000, f"peak memory {peak} MB for a 40 MP photo"       # the photo itself is 122 MB as RGB
    assert len(report(tmp_path / "out")["photos"][0]["faces"]) == 6
    assert main(["restore", str(tmp_path / "big.jpg"), "-o", str(tmp_path / "o2"), "--checkpoint", str(ckpt), "--max-megapixels", "10"]) == 1
    assert "exceeds the limit" in report(tmp_path / "o2")["failed"][0]["error"]
