#!/usr/bin/env bash
# SpecGR-KNN at γ -10 (every draft accepted) on the tuning's 2,000 valid examples, with the
# paper's Eq. 2 scoring of unseen items (every code digit, the identification digit left
# out: `--unseen-digits drop-identification`) instead of v2's shared prefix.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_DATA=../shared/data LD_LIBRARY_PATH=$(python3 -c 'import os,torch;print(os.path.dirname(torch.__file__)+"/lib")' 2>/dev/null)
out=runs/evals/ts-specgr-knn/valid-g-10-drop-identification
"${SPECGR_BIN:-/work/bins/specgr-tch-unisrec}" eval --dataset beauty-2014 --runs runs/eval-view/ts-cool2-e8 --ids rqvae --preset paper --part valid --sample 2000 --seed 42 \
  --methods specgr-knn --k 50 --beam-size 50 --threshold=-10 --unseen-digits drop-identification --report $out.partial
rm -rf $out && mv $out.partial $out
