#!/usr/bin/env bash
# γ of SpecGR-KNN on a seeded random 2,000 valid examples of the beauty-2014 time split
# (K = 50, δ = 50, β = 50), with experiments/runs/gamma-search.sh (the grid widens while the
# optimum sits at its edge). TIGER = the cool-down fork's best (runs/eval-view/ts-cool2-e8,
# 1,378,640 examples). The first γ also runs TIGER and SemanticKNN alone on the same examples.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?the specgr binary} SPECGR_DATA=${SPECGR_DATA:-../shared/data} OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1
mkdir -p runs/evals/ts-specgr-knn
FIRST_METHODS=tiger,semantic-knn GRID=${GAMMAS:--3 -1.4 -6 -10} experiments/runs/gamma-search.sh specgr-knn runs/evals/ts-specgr-knn/valid-g \
  --dataset beauty-2014 --runs runs/eval-view/ts-cool2-e8 --ids rqvae --preset paper --part valid --sample 2000 --seed 42 \
  --k 50 --beam-size 50 | tee runs/evals/ts-specgr-knn/search.log
