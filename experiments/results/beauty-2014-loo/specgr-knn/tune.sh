#!/usr/bin/env bash
# γ of SpecGR-KNN on 2,000 seeded valid users of beauty-2014-loo, TIGER = bs128 best (epoch 5, 788k).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_DATA=../shared/data LD_LIBRARY_PATH=$(python3 -c 'import os,torch;print(os.path.dirname(torch.__file__)+"/lib")' 2>/dev/null)
S=${SPECGR_BIN:-/work/bins/specgr-tch-fork}
for g in ${GAMMAS:--3 -1.4 -6 -10}; do
  out=runs/evals/loo-specgr-knn/valid-g$g
  [ -f $out/results.json ] && continue
  echo "== $(date -u +%FT%TZ) gamma $g"
  $S eval --dataset beauty-2014-loo --runs runs/eval-view/bs128-920k --ids rqvae --preset paper --part valid --sample 2000 --seed 42 \
    --methods tiger,semantic-knn,specgr-knn --k 10 --beam-size 20 --threshold=$g --report $out.partial
  rm -rf $out && mv $out.partial $out
done
