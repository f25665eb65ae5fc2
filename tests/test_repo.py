"""Repository-level checks: idcf/ matches nbs/, notebooks are clean, nbdev_test really fails on errors."""
import filecmp
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, venv_bin


def _copy_project(dst: Path) -> Path:
    for name in ("settings.ini", "setup.py"):
        shutil.copy2(ROOT / name, dst / name)
    shutil.copytree(ROOT / "nbs", dst / "nbs", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(ROOT / "idcf", dst / "idcf", ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def _diff_trees(a: Path, b: Path, pattern: str) -> list[str]:
    "Relative paths under `a`/`b` matching `pattern` whose bytes differ or that exist on one side only."
    fa = {p.relative_to(a) for p in a.rglob(pattern) if "__pycache__" not in p.parts}
    fb = {p.relative_to(b) for p in b.rglob(pattern) if "__pycache__" not in p.parts}
    out = sorted(str(p) for p in fa ^ fb)
    out += sorted(str(p) for p in fa & fb if not filecmp.cmp(a / p, b / p, shallow=False))
    return out


def test_export_and_clean_in_sync(tmp_path):
    "Running nbdev_export and nbdev_clean on a copy of the project must not change any file."
    proj = _copy_project(tmp_path)
    for cmd in ("nbdev_export", "nbdev_clean"):
        r = subprocess.run([venv_bin(cmd)], cwd=proj, capture_output=True, text=True)
        assert r.returncode == 0, f"{cmd} failed:\n{r.stdout}\n{r.stderr}"
    stale_py = _diff_trees(ROOT / "idcf", proj / "idcf", "*.py")
    dirty_nb = _diff_trees(ROOT / "nbs", proj / "nbs", "*.ipynb")
    msg = []
    if stale_py:
        msg.append("idcf/ is out of sync with nbs/ (run `nbdev_export` and commit): " + ", ".join(f"idcf/{p}" for p in stale_py))
    if dirty_nb:
        msg.append("notebooks are not clean (run `nbdev_clean` and commit): " + ", ".join(f"nbs/{p}" for p in dirty_nb))
    assert not msg, "\n".join(msg)


def _notebook(path: Path, sources: list[str]) -> None:
    cells = [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [],
              "source": s} for i, s in enumerate(sources)]
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb))


def _run_nbdev_test(proj: Path, nb: str) -> subprocess.CompletedProcess:
    return subprocess.run([venv_bin("nbdev_test"), "--path", f"nbs/{nb}"], cwd=proj, capture_output=True, text=True)


def test_nbdev_test_fails_when_a_cell_raises(tmp_path):
    (tmp_path / "nbs").mkdir()
    shutil.copy2(ROOT / "settings.ini", tmp_path / "settings.ini")
    _notebook(tmp_path / "nbs" / "good.ipynb", ["x = 1", "assert x == 1"])
    _notebook(tmp_path / "nbs" / "bad.ipynb", ["x = 1", "assert x == 2, 'deliberate failure'"])
    good, bad = _run_nbdev_test(tmp_path, "good.ipynb"), _run_nbdev_test(tmp_path, "bad.ipynb")
    assert good.returncode == 0, good.stderr
    assert bad.returncode != 0
    assert "deliberate failure" in bad.stderr


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert any(line.strip() == "make test" for line in ci.splitlines()), ".ci/run must call `make test`"
    assert "make test" in readme and "make demo" in readme


def _code_cells(nb: dict):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_notebooks_are_committed_without_outputs():
    "CelebA's terms forbid redistributing its images: no notebook in nbs/ may carry outputs into git."
    with_outputs = [p.name for p in sorted((ROOT / "nbs").glob("*.ipynb"))
                    if any(c.get("outputs") for c in _code_cells(json.loads(p.read_text())))]
    assert not with_outputs, f"notebooks with outputs (clear them before committing): {with_outputs}"


def test_papermill_sees_every_parameter():
    "papermill silently ignores parameter lines it cannot parse (e.g. an '=' inside a comment)."
    import ast
    import papermill
    checked = 0
    for p in sorted((ROOT / "nbs").glob("*.ipynb")):
        cells = [c for c in _code_cells(json.loads(p.read_text())) if "parameters" in c.get("metadata", {}).get("tags", [])]
        if not cells:
            continue
        assigned = {t.id for node in ast.parse("".join(cells[0]["source"])).body if isinstance(node, ast.Assign)
                    for t in node.targets if isinstance(t, ast.Name)}
        seen = set(papermill.inspect_notebook(str(p)))
        assert assigned == seen, f"{p.name}: papermill does not see {sorted(assigned - seen)}"
        checked += 1
    assert checked >= 3


def test_functions_and_cells_fit_on_a_screen():
    "Exported functions ≤ 40 lines, notebook code cells ≤ 60 lines (the style the project follows)."
    import ast
    long = [f"idcf/{p.name}:{n.name} ({n.end_lineno - n.lineno + 1} lines)"
            for p in sorted((ROOT / "idcf").glob("*.py")) if p.name != "_modidx.py"
            for n in ast.walk(ast.parse(p.read_text())) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            and n.end_lineno - n.lineno + 1 > 40]
    long += [f"nbs/{p.name} cell {c.get('id')} ({len(''.join(c['source']).splitlines())} lines)"
             for p in sorted((ROOT / "nbs").glob("*.ipynb")) for c in json.loads(p.read_text())["cells"]
             if c["cell_type"] == "code" and len("".join(c["source"]).splitlines()) > 60]
    assert not long, "too long: " + ", ".join(long)


def test_inference_modules_do_not_import_the_training_code():
    "restore, evaluate, report and cli learn presets and run names from idcf.runs, never from idcf.train."
    code = "import sys, idcf.restore, idcf.evaluate, idcf.report, idcf.cli; print(sorted(m for m in sys.modules if m.startswith('idcf.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert "idcf.runs" in out and "idcf.train" not in out, out
