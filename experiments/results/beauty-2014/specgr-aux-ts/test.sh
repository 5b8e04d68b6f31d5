#!/usr/bin/env bash
# Full beauty-2014 time-split test, one process: UniSRec alone (trained to its
# early-stopping point), TIGER_C, SpecGR_Aux at the γ tuned on valid (GAMMA), and the
# rank and 2-stage ensembles of TIGER and UniSRec. TIGER = the cool-down fork's best
# (1,378,640 examples; since 2026-12-06 the rerun's, ../tiger-paper-bs128/ "Rerun").
# TIGER, SemanticKNN and Popularity alone on the same examples are
# ../tiger-paper-bs128/rerun-2026-12-06/test-cool2-1.38m/ (same view; TIGER's beams are
# deterministic). The lost model's were ../tiger-paper-bs128/test-cool2-1.38m/ and
# ../specgr-knn-ts/test-g-10/.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
. experiments/runs/torch-env.sh
export SPECGR_DATA=../shared/data OMP_NUM_THREADS=1
g=${GAMMA:?the γ tuned on valid}
out=runs/evals/ts-specgr-aux/test-g$g
"${SPECGR_BIN:-/work/bins/specgr-tch-pp}" eval --dataset beauty-2014 --runs runs/eval-view/ts-cool2-e8 --ids rqvae --preset paper --part test \
  --methods ${METHODS:-unisrec,tiger-c,specgr-aux,ensemble-rank,ensemble-2stage} --k 50 --beam-size 50 --threshold=$g --report $out.partial
rm -rf $out && mv $out.partial $out
