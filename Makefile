# One command for the tests (`make test`) and one for the main job (`make demo`); each creates or
# updates the repo-local virtualenv from settings.ini + requirements.lock first.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.idcf-installed
# Smoke runs made by the test-suite go here, so `make test` leaves `git status` clean.
TEST_OUT ?= $(CURDIR)/.test-out
NO_DEPS := $(shell sed -n 's/^no_deps_requirements *= *//p' settings.ini)

.PHONY: venv test demo lab lock clean-test data train-cpu train-long round3 carry table1 bench

venv: $(STAMP)

$(STAMP): settings.ini setup.py requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e .
	@# facenet-pytorch pins torch<2.3 in its metadata but runs on current torch: install it without deps.
	$(BIN)/python -m pip install --quiet --no-deps -c requirements.lock $(NO_DEPS)
	@touch $(STAMP)

test: venv
	@rm -rf $(TEST_OUT) && mkdir -p $(TEST_OUT)
	$(BIN)/python -m pytest -q tests/test_repo.py::test_export_and_clean_in_sync
	@# Two notebooks at a time on two cores: one thread each (two 2-thread OpenMP pools on two cores stall each other).
	OMP_NUM_THREADS=1 IDCF_RESULTS=$(TEST_OUT)/results $(BIN)/nbdev_test --n_workers 2 --timing
	IDCF_RESULTS=$(TEST_OUT)/results $(BIN)/python -m pytest -q tests
	@git diff --quiet -- nbs idcf || { echo "make test changed tracked files in nbs/ or idcf/:"; git status --short -- nbs idcf; exit 1; }

# The main job: restore insightface's t1.jpg with the shipped CodeFormer and ID-CodeFormer into results/demo/.
demo: venv
	$(BIN)/idcf demo

# As root (containers, this project's machines) JupyterLab refuses to start without --allow-root.
lab: venv
	$(BIN)/jupyter lab --notebook-dir=nbs $(if $(filter 0,$(shell id -u)),--allow-root)

# Refresh the transitive pins after changing `requirements` in settings.ini.
lock: venv
	$(BIN)/python -m pip freeze --exclude-editable | grep -v -i -E '^(jupytext|idcf)[= ]' > requirements.lock

clean-test:
	rm -rf $(TEST_OUT)

# ---- research pipeline ------------------------------------------------------------------------
PRESET ?= auto
LIMIT ?= 0
PAPERS ?=
UPDATE_README ?= True
NEW_TESTSET ?= False
PM := $(BIN)/papermill --log-output

# Aligned CelebA identities (128 px) into the cache (~3 min on 2 idle CPU cores; resumable).
data: venv
	$(BIN)/python -c "from idcf.datasets import *; print(build_identity_dataset(BuildConfig(size=128, seed=0)))"

# The first small-scale schedule on the CPU (preset cpu128, ~3 h on 2 cores; its models were shipped until cpu128rq's
# replaced them): Stage I; Stage II and III for λ = 0 and 0.1; then the rest of the Stage II λ sweep. Every step
# resumes where it stopped; the perceptual term is SSIM (LPIPS-VGG weights are not available offline).
SWEEP ?= 0.03 0.3 1.0
train-cpu: venv
	$(PM) nbs/train_stage1.ipynb -p preset cpu128 -p perceptual ssim
	for l in 0.0 0.1; do $(PM) nbs/train_stage2.ipynb -p preset cpu128 -p lambda_ids $$l || exit 1; done
	for l in 0.0 0.1; do $(PM) nbs/train_stage3.ipynb -p preset cpu128 -p lambda_ids $$l -p perceptual ssim || exit 1; done
	for l in $(SWEEP); do $(PM) nbs/train_stage2.ipynb -p preset cpu128 -p lambda_ids $$l || exit 1; done

# The long CPU schedule (preset cpu128rq: cpu128long's Stage I with two residual codes per token; many hours, several
# sessions). Stage I resumes where it stopped — from the run's ckpt/latest.pt, or on a fresh machine from its carried
# state results/checkpoints/<run>.resume.safetensors — and once finished it is shipped (fp16) and skipped from then
# on. `make carry` writes the carried states of the unfinished runs (commit them) and the Stage I and II learning curves
# (`make carry CEILING=True` also scores the EMA weights as Table 1's ceiling row, a few minutes). Then Stages II
# and III for λ = 0 (CodeFormer) and 0.1 (ID-CodeFormer), each resumable the same way; a finished Stage II is
# shipped (fp16, results/checkpoints/stage2-…) so its Stage III can start on another machine, and a finished Stage III
# too; then `idcf ship`, and the reference-guided ID-CodeFormer (2 reference photos, λ = 0.1, issue 17) on the same
# Stage I. A stage whose weights are shipped is not trained again: a fresh clone goes on where the repository stands.
# `make carry` keeps results/checkpoints within 40 MB: a state that does not fit is not carried (it says so).
LONG := cpu128rq
LONG_STAGE1 := results/runs/stage1-$(LONG)-lambda0-seed0
SHIP = $(BIN)/python -c "from idcf.restore import ship_stage; print(ship_stage($(1), '$(LONG)', $(2), references=$(3)))"
HAS = $(BIN)/python -c "import sys; from idcf.runs import shipped_weights as w; sys.exit(not w($(1), '$(LONG)', $(2), $(3)).is_file())"
# A carried Stage III state holds the whole network (it may have taken the shipped Stage II's place in the budget).
S3_CARRIED = $(BIN)/python -c "import sys; from idcf.runs import carry_path, latest_run; sys.exit(not carry_path(latest_run(3, '$(LONG)', $(1), 0, $(2))).is_file())"
# Stage II, then Stage III, of λ = $(1) with $(2) reference photos; what is shipped or carried already (a fresh clone) is skipped.
# Stage II trains the preset's 6,000 iterations, then continues to $(3) (`-p iters` continues a finished run, the learning
# rate back to 2e-4 until 80 % of $(3)): CodeFormer and ID-CodeFormer got 12,000 (then ROUND2), the reference-guided one 6,000.
define CHAIN
if $(call HAS,3,$(1),$(2)); then echo "Stage III of $(LONG) λ=$(1) references=$(2) is shipped: nothing to train"; else \
  { $(call S3_CARRIED,$(1),$(2)) || { { $(call HAS,2,$(1),$(2)) || { $(PM) nbs/train_stage2.ipynb -p preset $(LONG) -p lambda_ids $(1) -p references $(2) && \
  $(PM) nbs/train_stage2.ipynb -p preset $(LONG) -p lambda_ids $(1) -p references $(2) -p iters $(3); }; } && \
  $(call SHIP,2,$(1),$(2)); }; } && \
  $(PM) nbs/train_stage3.ipynb -p preset $(LONG) -p lambda_ids $(1) -p references $(2) -p perceptual ssim && \
  $(call SHIP,3,$(1),$(2)); fi
endef
# The second Stage II round of the shipped CodeFormer and ID-CodeFormer (README, "A second Stage II round"): Stage II goes
# on from the shipped Stage III's encoder and transformer for 12,000 iterations at lr 5e-5 (a run folder -2), then Stage
# III is trained again from it and shipped. Skipped once the shipped Stage III's record says its Stage II was that
# continuation (an `init_ckpt` in its Stage II config); an interrupted round resumes where it stopped.
S3_SHIPPED = $$($(BIN)/python -c "from idcf.runs import shipped_weights as w; print(w(3, '$(LONG)', $(1), 0))")
# One Stage II round of λ = $(1): on from the shipped Stage III's encoder and transformer, 12,000 iterations at lr 5e-5.
ROUND = $(PM) nbs/train_stage2.ipynb -p preset $(LONG) -p lambda_ids $(1) -p init_ckpt $(call S3_SHIPPED,$(1)) -p iters 12000 -p lr 5e-5
ROUND2_DONE = $(BIN)/python -c "import json, sys; from idcf.runs import shipped_weights as w; \
  sys.exit(not json.loads(w(3, '$(LONG)', $(1), 0).with_suffix('.run.json').read_text())['stage2']['config'].get('init_ckpt'))"
define ROUND2
if $(call ROUND2_DONE,$(1)); then echo "Stage III of $(LONG) λ=$(1) is shipped from the second Stage II round: nothing to train"; else \
  $(call ROUND,$(1)) && \
  $(PM) nbs/train_stage3.ipynb -p preset $(LONG) -p lambda_ids $(1) -p perceptual ssim && $(call SHIP,3,$(1),0); fi
endef
train-long: venv
	test -f results/checkpoints/stage1-$(LONG).safetensors || $(PM) nbs/train_stage1.ipynb -p preset $(LONG) -p perceptual ssim
	$(PM) nbs/stage1_progress.ipynb $(LONG_STAGE1)/stage1_progress.ipynb -p run $(LONG_STAGE1)
	$(call SHIP,1,0.0,0)
	$(call CHAIN,0.0,0,12000)
	$(call ROUND2,0.0)
	$(call CHAIN,0.1,0,12000)
	$(call ROUND2,0.1)
	$(BIN)/idcf ship --preset $(LONG)
	$(call CHAIN,0.1,2,6000)

# The third Stage II round (README, "A third Stage II round"): Stage II of CodeFormer and ID-CodeFormer goes on from the
# shipped Stage III models for 12,000 iterations at lr 5e-5, in run folders -3; each resumes from its folder or its
# carried state. Stage III and shipping follow by hand, once the validation split has compared them.
ROUND3 = $(call ROUND,$(1)) -p out_dir results/runs/stage2-$(LONG)-lambda$(1)-seed0-3
round3: venv
	$(call ROUND3,0)
	$(call ROUND3,0.1)

CEILING ?= False
carry: venv
	$(BIN)/python -c "from idcf.train import carry_unfinished; print(carry_unfinished('$(LONG)'))"
	$(PM) nbs/stage1_progress.ipynb $(LONG_STAGE1)/stage1_progress.ipynb -p run $(LONG_STAGE1) -p test_ceiling $(CEILING)
	$(PM) nbs/stage2_progress.ipynb $${TMPDIR:-/tmp}/stage2_progress.ipynb -p preset $(LONG)

# Evaluation, Table 1, figures and the paper from the checkpoints present.
table1: venv
	$(PM) nbs/evaluate.ipynb -p preset $(PRESET) -p limit $(LIMIT) -p new_testset $(NEW_TESTSET)
	$(PM) nbs/table1.ipynb -p preset $(PRESET) -p limit $(LIMIT) -p papers_dir "$(PAPERS)" -p update_readme $(UPDATE_README)

# Benchmarks (figures and ratios against a baseline measured in the same run) into results/benchmarks/.
bench: venv
	for b in bench_codeformer bench_degrade bench_restore bench_train; do $(PM) nbs/$$b.ipynb results/benchmarks/$$b.ipynb || exit 1; done
