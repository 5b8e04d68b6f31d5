#!/usr/bin/env bash
# RQ-VAE semantic IDs of beauty-2014 at several codebook sizes K, to see how many unseen
# items share a code prefix with an in-sample item (the fit report's line "unseen items
# by code digits shared with a fitted item", dd8e406+). The verifier scores an unseen
# item over that prefix, and TIGER gives a code combination it never saw a low
# probability. Each K in its own runs directory, runs/semid-k<K>/ (the embeddings are
# linked from runs/beauty-2014/embeddings, which must exist). Seed 42, the default
# RQ-VAE recipe otherwise. Run from the repository root:
#
#   experiments/results/semid/codebook-size.sh BIN K...
#   experiments/results/semid/codebook-size.sh target/debug/specgr 108 256 144
set -euo pipefail
BIN=${1:?usage: codebook-size.sh BIN K...}
shift
export SPECGR_DATA=${SPECGR_DATA:-../shared/data} RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-1}
for K in "$@"; do
  R=runs/semid-k$K
  mkdir -p $R/beauty-2014
  [ -e $R/beauty-2014/embeddings ] || ln -s "$PWD/runs/beauty-2014/embeddings" $R/beauty-2014/embeddings
  echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) K=$K ($BIN)"
  "$BIN" semid fit --dataset beauty-2014 --method rqvae --codebook-size "$K" --seed 42 --runs $R
  echo "== $(date -u +%FT%TZ) K=$K done"
done
