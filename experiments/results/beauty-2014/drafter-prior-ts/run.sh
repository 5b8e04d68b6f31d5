#!/usr/bin/env bash
# The SpecGR++ drafter's popularity, and a popularity prior on it (README here).
# Run from anywhere; B is a `specgr` binary of 76232f3 or later (a dev build,
# `cargo build -p bench`, was used: its profile is optimised). Each report resumes
# after a kill and is skipped once written.
#
#   B=/work/bins/specgr-dev-76232f3 experiments/results/beauty-2014/drafter-prior-ts/run.sh [part]
#
# part: drafter (the profile and the W sweep, minutes) or specgr-pp (SpecGR++ with
# the prior, about 45 minutes a report on a shared core); both by default.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_DATA=${SPECGR_DATA:-../shared/data} OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1
B=${B:?give the specgr binary as B}
R=$PWD/runs
PP=$R/pp256-beauty-2014/beauty-2014/specgr-pp-rqvae-paper
OUT=runs/evals/popprof
# Views: the time split's IDs and embeddings; TIGER = the recency fine-tuned one
# (only `tiger` in the first report uses it); SpecGR++ = the paper-recipe run
# (stage 2 best), its stage-1 best, and the recency fine-tuned run.
mkdir -p $OUT runs/eval-view/popprof/beauty-2014 runs/eval-view/popprof-s1e0/beauty-2014/specgr-pp-rqvae-paper/stage1 \
  runs/eval-view/pp-recent/beauty-2014
for v in popprof popprof-s1e0 pp-recent; do
  ln -sfn $R/beauty-2014/embeddings runs/eval-view/$v/beauty-2014/embeddings
  ln -sfn $R/beauty-2014/semid runs/eval-view/$v/beauty-2014/semid
  ln -sfn $R/beauty-2014/tiger-rqvae-paper-recent20000 runs/eval-view/$v/beauty-2014/tiger-rqvae-paper
done
ln -sfn $PP runs/eval-view/popprof/beauty-2014/specgr-pp-rqvae-paper
ln -sfn $PP/stage1/best runs/eval-view/popprof-s1e0/beauty-2014/specgr-pp-rqvae-paper/stage1/best
ln -sfn $R/pp-recent-ts/beauty-2014/specgr-pp-rqvae-paper runs/eval-view/pp-recent/beauty-2014/specgr-pp-rqvae-paper
ev() { local out=$1; shift; [ -f $out/results.md ] || "$B" eval --dataset beauty-2014 --ids rqvae --preset paper --part valid --sample 2000 --seed 42 --k 50 --report $out "$@"; }
if [ "${1:-drafter}" = drafter ] || [ -z "${1:-}" ]; then
  ev $OUT/valid-all --runs runs/eval-view/popprof --methods popularity,semantic-knn,specgr-pp-drafter,tiger --overlap
  ev $OUT/valid-s1e0 --runs runs/eval-view/popprof-s1e0 --methods specgr-pp-drafter --overlap
  for w in 0.035 0.07 0.14 ${MORE_W:-}; do
    ev $OUT/prior-$w --runs runs/eval-view/popprof --methods specgr-pp-drafter --drafter-popularity-prior $w --overlap
  done
fi
if [ "${1:-specgr-pp}" = specgr-pp ] || [ -z "${1:-}" ]; then
  for view in pp-recent popprof; do
    ev $OUT/specgr-pp-$view-w0.07-g-1.4 --runs runs/eval-view/$view --methods specgr-pp,specgr-pp-drafter \
      --threshold=-1.4 --draft-size 100 --beam-size 100 --drafter-popularity-prior 0.07
  done
fi
