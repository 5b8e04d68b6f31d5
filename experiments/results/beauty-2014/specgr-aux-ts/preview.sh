#!/usr/bin/env bash
# A preview of SpecGR_Aux on valid while UniSRec's run goes on: its best model so far
# (copied into a view: experiments/runs/unisrec-snapshot.sh) drafts, the time
# split's verifier (the recency fine-tuned TIGER, ../tiger-recent-ts/) verifies, on a
# seeded 1,000 of valid (seed 42), K 50, δ 50, β 50, at a few γ, with bfloat16 products
# (../../gr-model/bf16-inference/). The first γ's run also has TIGER and UniSRec alone
# on the same examples. Not the tuned search (specgr-aux-ts/chain.sh does that once
# UniSRec has stopped): a look at whether verification can add to UniSRec at all.
#
#   BIN=/work/bins/specgr-tch-1a882af experiments/results/beauty-2014/specgr-aux-ts/preview.sh
#
# Reports: runs/evals/aux-preview-e<epoch>/g<γ>/ (resumable; each skipped once written).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
BIN=${BIN:?the specgr binary (1a882af or later)}
. experiments/runs/torch-env.sh
export SPECGR_DATA=${SPECGR_DATA:-../shared/data} OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1
. experiments/runs/unisrec-snapshot.sh
unisrec_snapshot runs/eval-view/aux-preview
ln -sfn "$PWD/runs/beauty-2014/tiger-rqvae-paper-recent20000" $view/beauty-2014/tiger-rqvae-paper
out=runs/evals/aux-preview-e$epoch
methods=tiger,unisrec,specgr-aux
for g in ${GAMMAS:--1.4 -3 -6 -10}; do
  if [ ! -f $out/g$g/results.json ]; then
    echo "== $(date -u +%FT%TZ) SpecGR_Aux γ $g with UniSRec epoch $epoch ($methods)"
    "$BIN" eval --dataset beauty-2014 --runs $view --ids rqvae --preset paper --part valid --sample 1000 --seed 42 \
      --k 50 --draft-size 50 --beam-size 50 --methods $methods --threshold="$g" --matmul bf16 --allow-unfinished \
      --report $out/g$g
  fi
  methods=specgr-aux
done
echo "== $(date -u +%FT%TZ) done: $out"
