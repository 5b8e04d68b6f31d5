#!/usr/bin/env bash
# Full beauty-2014-loo test: SpecGR-KNN at γ -10 (every draft accepted: SemanticKNN's top 50
# re-ranked by TIGER), TIGER = the cool-down fork's best (cool2-e11, 1.71M examples). TIGER and
# SemanticKNN alone on the same users: ../tiger-cooldown/e11/test-1.71m/ (same view, K, β).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_DATA=../shared/data LD_LIBRARY_PATH=$(python3 -c 'import os,torch;print(os.path.dirname(torch.__file__)+"/lib")' 2>/dev/null)
out=runs/evals/loo-specgr-knn/test-cool2-e11-g-10
"${SPECGR_BIN:-/work/bins/specgr-tch-diag}" eval --dataset beauty-2014-loo --runs runs/eval-view/cool2-e11 --ids rqvae --preset paper --part test \
  --methods specgr-knn --k 10 --beam-size 20 --threshold=-10 --report $out.partial
rm -rf $out && mv $out.partial $out
