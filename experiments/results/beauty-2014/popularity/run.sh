#!/usr/bin/env bash
# Popularity alone (`specgr eval --methods popularity`) on the beauty-2014 time split and
# leave-one-out: every earlier interaction, and the last 7 / 14 / 30 / 60 days before
# the evaluated part starts. Valid: the seeded 2,000 (the SpecGR-KNN / SpecGR++ tuning
# examples); test: all. Reports under runs/evals/popularity/.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
. experiments/runs/torch-env.sh
export SPECGR_DATA=../shared/data OMP_NUM_THREADS=1
S=${SPECGR_BIN:-/work/bins/specgr-tch-pop}
ev() { # dataset runs part out [days]
  local days=()
  [ -n "${5:-}" ] && days=(--popularity-days "$5")
  local sample=()
  [ "$3" = valid ] && sample=(--sample 2000 --seed 42)
  $S eval --dataset "$1" --runs "$2" --ids rqvae --preset paper --part "$3" "${sample[@]}" \
    --methods popularity --k 50 --device tch "${days[@]}" --report "runs/evals/popularity/$4"
}
for d in "" 7 14 30 60; do
  ev beauty-2014 runs/eval-view/ts-cool2-e8 valid ts-valid${d:+-d$d} $d
  ev beauty-2014 runs/eval-view/ts-cool2-e8 test ts-test${d:+-d$d} $d
  ev beauty-2014-loo runs test loo-test${d:+-d$d} $d
done
