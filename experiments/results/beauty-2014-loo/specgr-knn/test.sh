#!/usr/bin/env bash
# Full beauty-2014-loo test: TIGER, SemanticKNN and SpecGR-KNN at γ -6 (tuned on 2,000 valid users), TIGER = bs128 best (epoch 5, 788k).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_DATA=../shared/data LD_LIBRARY_PATH=$(python3 -c 'import os,torch;print(os.path.dirname(torch.__file__)+"/lib")' 2>/dev/null)
out=runs/evals/loo-specgr-knn/test-g-6
"${SPECGR_BIN:-/work/bins/specgr-tch-fork}" eval --dataset beauty-2014-loo --runs runs/eval-view/bs128-920k --ids rqvae --preset paper --part test \
  --methods tiger,semantic-knn,specgr-knn --k 10 --beam-size 20 --threshold=-6 --report $out.partial
rm -rf $out && mv $out.partial $out
