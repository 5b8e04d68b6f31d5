#!/usr/bin/env bash
# The time split's TIGER again, on RQ-VAE IDs with K = 108 codes a level instead of 256
# (the authors' scaling, K ≈ √n of the in-sample items; at K = 256, 61 % of the unseen
# items share only their first code digit with an in-sample item, at K = 108 25 %:
# ../../semid/beauty.md, "Codebook size"), with the same recipe as the K = 256 verifier,
# unattended and resumable. Everything lives in its own runs root, runs/semid-k108
# (embeddings linked from runs/beauty-2014):
# 0. The K = 108 IDs (../../semid/codebook-size.sh), if missing.
# 1. Unless NOW=1 or the run below has a checkpoint already, wait until SpecGR_Aux's
#    search has ended (../specgr-aux-ts/chain.sh: then UniSRec's core is free until
#    Table 1).
# 2. The constant-rate run (batch 128, 1e-3, 256 warm-up steps, best on the seeded 2,000
#    valid), stopped and frozen at the end of epoch 8 (1,102,912 examples), as
#    ../tiger-paper-bs128/ "Rerun"; the 2-epoch cosine cool-down fork from it; the
#    recency fine-tune of the fork's last checkpoint on the newest 20,000 training
#    examples (2 epochs, cosine from 5e-4), as ../tiger-recent-ts/.
# 3. `specgr diagnose scores --part test` (the unseen targets' scores by shared digits,
#    against the K = 256 verifier's) and SpecGR-KNN's γ/δ/β search on the seeded 2,000
#    valid examples with TIGER and SemanticKNN alone beside it
#    (runs/evals/k108-specgr-knn/), the K = 256 searches' twin (../specgr-knn-recent-ts/).
#
#   SPECGR_BIN=/work/bins/specgr-tch-c78310b nohup experiments/results/beauty-2014/tiger-k108-ts/chain.sh \
#     >> runs/beauty-2014/logs/tiger-k108-chain.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?a LibTorch build, e88f4e4 or later (--train-last with --init-from)}
export SPECGR_DATA=${SPECGR_DATA:-../shared/data}
. experiments/runs/run-lock.sh
R=runs/semid-k108
D=$R/beauty-2014
L=$D/logs
mkdir -p $L
if [ ! -f $D/semid/rqvae/ids.json ]; then
  . experiments/runs/torch-env.sh
  experiments/results/semid/codebook-size.sh "$SPECGR_BIN" 108
fi
RUN=$D/tiger-rqvae-paper-const
. experiments/runs/tuned.sh
# A run already under way (started with NOW=1) goes on without waiting.
if [ "${NOW:-0}" != 1 ] && [ ! -d $RUN/last ]; then
  until [ -n "$(tuned runs/evals/ts-recent-specgr-aux/search.log)" ]; do sleep 60; done
fi
# Step 2 and the view: the time split's recipe on these IDs (shared with Table 4's
# DSI-style backbone, ../table4-ts/).
experiments/runs/ts-backbone.sh $R rqvae runs/eval-view/k108-recent
. experiments/runs/torch-env.sh
export OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1
mkdir -p runs/evals/k108-specgr-knn
out=runs/evals/k108-specgr-knn/diagnose-scores-test.txt
if [ ! -f $out ]; then
  echo "== $(date -u +%FT%TZ) diagnose scores"
  "$SPECGR_BIN" diagnose scores --dataset beauty-2014 --runs runs/eval-view/k108-recent --ids rqvae --preset paper \
    --part test --device tch > $out.partial
  mv $out.partial $out
fi
echo "== $(date -u +%FT%TZ) SpecGR-KNN search on valid"
FIRST_METHODS=tiger,semantic-knn experiments/runs/tune-specgr.sh specgr-knn runs/evals/k108-specgr-knn --dataset beauty-2014 \
  --runs runs/eval-view/k108-recent --ids rqvae --preset paper --part valid --sample 2000 --seed 42 --k 50
echo "== $(date -u +%FT%TZ) done: runs/evals/k108-specgr-knn"
