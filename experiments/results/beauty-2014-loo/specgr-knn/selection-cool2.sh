#!/usr/bin/env bash
# SpecGR-KNN at γ -10 with the cool-down TIGER (cool2-e11, 1.71M): v2 (the K first accepted in
# drafting order) against v1 (the K best-scored of the 50 accepted drafts), on the 2,000 seeded
# valid users, then v1 on the full test.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_DATA=../shared/data LD_LIBRARY_PATH=$(python3 -c 'import os,torch;print(os.path.dirname(torch.__file__)+"/lib")' 2>/dev/null)
S=${SPECGR_BIN:-/work/bins/specgr-tch-diag}
for ref in v2 v1; do
  out=runs/evals/loo-specgr-knn/valid-cool2-e11-g-10-$ref
  [ -f $out/results.json ] && continue
  methods=specgr-knn; [ $ref = v2 ] && methods=tiger,semantic-knn,specgr-knn
  $S eval --dataset beauty-2014-loo --runs runs/eval-view/cool2-e11 --ids rqvae --preset paper --part valid --sample 2000 --seed 42 \
    --methods $methods --k 10 --beam-size 20 --threshold=-10 --reference $ref --report $out.partial
  rm -rf $out && mv $out.partial $out
done
out=runs/evals/loo-specgr-knn/test-cool2-e11-g-10-v1
$S eval --dataset beauty-2014-loo --runs runs/eval-view/cool2-e11 --ids rqvae --preset paper --part test \
  --methods specgr-knn --k 10 --beam-size 20 --threshold=-10 --reference v1 --report $out.partial
rm -rf $out && mv $out.partial $out
