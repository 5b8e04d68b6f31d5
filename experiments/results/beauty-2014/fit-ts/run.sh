#!/usr/bin/env bash
# Fit against generalisation on the beauty-2014 time split: TIGER (the rerun's cool-down
# best, 1,378,640 examples), SemanticKNN (no training: the parts' own difficulty) and the
# SpecGR++ encoder as a retriever (a frozen copy of the rerun's stage-1 best), each on a
# seeded random 2,000 training examples and on the seeded 2,000 valid examples the
# γ searches use (K = 50, β = 50). The view runs/eval-view/fit-diag links the models
# (made by hand, README.md here). Reports: runs/evals/fit-ts/<part>.
# VIEW=<name> METHODS=<list> evaluates another view (runs/eval-view/<name>, e.g. fit-e4:
# the constant-rate run's best, epoch 4) into runs/evals/fit-ts/<name>-<part>.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
. experiments/runs/torch-env.sh
export SPECGR_DATA=${SPECGR_DATA:-../shared/data} OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1
S=${SPECGR_BIN:?the specgr binary (321d64d or later: --part train)}
view=${VIEW:-fit-diag}
for part in train valid; do
  out=runs/evals/fit-ts/$part
  [ "$view" = fit-diag ] || out=runs/evals/fit-ts/$view-$part
  [ -f $out/results.json ] && continue
  rm -rf $out.partial
  "$S" eval --dataset beauty-2014 --runs runs/eval-view/$view --ids rqvae --preset paper --part $part \
    --sample 2000 --seed 42 --methods ${METHODS:-tiger,semantic-knn,specgr-pp-drafter} --k 50 --beam-size 50 --report $out.partial
  rm -rf $out && mv $out.partial $out
done
