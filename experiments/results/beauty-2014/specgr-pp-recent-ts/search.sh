#!/usr/bin/env bash
# After run.sh here: γ, δ and β of the recency fine-tuned SpecGR++ searched on valid's
# seeded 2,000 (seed 42) as every SpecGR method's (experiments/runs/tune-specgr.sh; δ up
# to DELTA_MAX 1600, since the first SpecGR++'s search stopped at the old cap of 400),
# then its full test (19,544 examples, as Table 1: K 50, bf16, but on LibTorch, whose
# bf16 kernels take half the time of Table 1's Flex; the search stays on Flex, as
# every search before it) with its encoder alone,
# resumable. TIGER alone and the drafters on the same examples are Table 1's rows (the
# same models, deterministic lists). Resumes; nice 5 from ../resume.sh:
#
#   SPECGR_BIN=/work/bins/specgr-tch-de453f1 experiments/results/beauty-2014/specgr-pp-recent-ts/search.sh
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?the binary (de453f1, as Table 1)} RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
MATMUL=${MATMUL-bf16}
. experiments/runs/tuned.sh
until [ -f runs/evals/pp-recent-ts/valid/results.json ]; do sleep 60; done
v=runs/eval-view/pp-recent
. experiments/runs/torch-env.sh
if [ -z "$(tuned runs/evals/pp-recent-specgr-pp/search.log || true)" ]; then
  DELTA_MAX=${DELTA_MAX:-1600} FIRST_METHODS=specgr-pp-drafter experiments/runs/tune-specgr.sh specgr-pp runs/evals/pp-recent-specgr-pp \
    --dataset beauty-2014 --runs $v --ids rqvae --preset paper --part valid --sample 2000 --seed 42 --k 50 ${MATMUL:+--matmul $MATMUL}
fi
read -r g d b <<<"$(tuned runs/evals/pp-recent-specgr-pp/search.log)"
out=runs/evals/pp-recent-ts/full-test
if [ ! -f $out/results.json ]; then
  echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) full test: SpecGR++ (recency) γ $g δ $d β $b ($SPECGR_BIN)"
  "$SPECGR_BIN" eval --dataset beauty-2014 --runs $v --ids rqvae --preset paper --part test \
    --methods specgr-pp,specgr-pp-drafter --k 50 --device tch --threshold="$g" --draft-size "$d" --beam-size "$b" \
    ${MATMUL:+--matmul $MATMUL} --report $out.partial 2>&1 | { grep -v ' WARN \|elapsed' || true; }
  rm -rf $out && mv $out.partial $out
fi
echo "== $(date -u +%FT%TZ) done: $out"
