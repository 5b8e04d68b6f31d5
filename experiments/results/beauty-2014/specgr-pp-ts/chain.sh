#!/usr/bin/env bash
# SpecGR++'s γ on valid as soon as its training (the batch-256 run, README.md here) has
# finished both stages, unattended, and then the freed core to the leave-one-out TIGER.
#
# 1. Wait until stage 2's `last/state.json` says the stage is done (all its epochs, or
#    stopped early) and the run's lock is free (experiments/runs/run-lock.sh).
# 2. Link the model into the time-split view (runs/eval-view/ts-recent, made by
#    ../tiger-recent-ts/view.sh; SpecGR++ itself starts from the cool-down fork, not
#    from the recency fine-tune, which came after it) and search γ on a seeded random
#    2,000 valid examples with experiments/runs/tune-specgr.sh: γ at δ 50, β 50, the
#    first γ also with the SpecGR++ encoder alone as a drafter (specgr-pp-drafter); then
#    δ and β at that γ. Reports and search.log under runs/evals/ts-recent-specgr-pp/.
#    TIGER and SemanticKNN alone on the same examples: runs/evals/ts-recent-specgr-knn/.
# 3. exec the leave-one-out TIGER from zero (../../beauty-2014-loo/tiger-paper-bs256/),
#    which resumes from its last checkpoint if it has one, unless it already runs.
#
# Each γ's report is kept and the TIGER run resumes, so the same command resumes:
#
#   SPECGR_BIN=/work/bins/specgr-tch-11aac0f nohup experiments/results/beauty-2014/specgr-pp-ts/chain.sh \
#     >> runs/beauty-2014/logs/specgr-pp-chain.log 2>&1 &
# Inference with bfloat16 products (MATMUL, default bf16 since 2026-12-07; MATMUL= runs
# float32): as the reference's autocast inference; on this verifier the same lists as
# float32 to within one hit in 1,300 valid examples, at 1.3-2x the speed
# (../../gr-model/bf16-inference/).
set -euo pipefail
MATMUL=${MATMUL-bf16}
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?the binary} RAYON_NUM_THREADS=1
P=runs/pp256-beauty-2014/beauty-2014/specgr-pp-rqvae-paper
experiments/results/beauty-2014/tiger-recent-ts/view.sh
view=runs/eval-view/ts-recent/beauty-2014
finished() {
  python3 - $P/stage2/last/state.json <<'EOF' 2>/dev/null
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s["stopped_early"] or s["epochs_done"] >= s["train"]["max_epochs"] else 1)
EOF
}
. experiments/runs/run-lock.sh
until finished && ! run_held $P; do sleep 60; done
echo "== $(date -u +%FT%TZ) SpecGR++ finished: $(python3 -c 'import json,sys
for st in sys.argv[1:]:
    s = json.load(open(st)); print(st.split("/")[-3], "epochs", s["epochs_done"], "best", s["best"], "stopped early", s["stopped_early"], end="; ")' $P/stage1/last/state.json $P/stage2/last/state.json)"
[ -e $view/specgr-pp-rqvae-paper ] || ln -s "$PWD/$P" $view/specgr-pp-rqvae-paper
FIRST_METHODS=specgr-pp-drafter OMP_NUM_THREADS=1 SPECGR_DATA=${SPECGR_DATA:-../shared/data} \
  experiments/runs/tune-specgr.sh specgr-pp runs/evals/ts-recent-specgr-pp --dataset beauty-2014 --runs runs/eval-view/ts-recent \
  --ids rqvae --preset paper --part valid --sample 2000 --seed 42 --k 50 ${MATMUL:+--matmul $MATMUL}
echo "== $(date -u +%FT%TZ) tuned: SpecGR++ $(tail -n 1 runs/evals/ts-recent-specgr-pp/search.log) (Table 1 picks it up: ../table1-ts/chain.sh)"
mkdir -p runs/beauty-2014-loo/logs
# It may already run (started by hand on a shared core); then this chain is done.
if run_held runs/beauty-2014-loo/tiger-rqvae-paper-bs256; then
  echo "== $(date -u +%FT%TZ) the leave-one-out TIGER already runs (PID $(run_pid runs/beauty-2014-loo/tiger-rqvae-paper-bs256))"
  exit 0
fi
echo "== $(date -u +%FT%TZ) the leave-one-out TIGER (log: runs/beauty-2014-loo/logs/tiger-paper-bs256.log)"
VALID_SAMPLE=2000 DEVICE=tch SHARDS=${SHARDS:-1} OMP_NUM_THREADS=1 exec experiments/runs/tiger-paper.sh beauty-2014-loo \
  --out runs/beauty-2014-loo/tiger-rqvae-paper-bs256 >> runs/beauty-2014-loo/logs/tiger-paper-bs256.log 2>&1
