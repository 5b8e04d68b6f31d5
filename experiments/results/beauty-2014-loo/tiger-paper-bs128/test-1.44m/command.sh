#!/usr/bin/env bash
set -euo pipefail
cd /work/main
export SPECGR_DATA=../shared/data LD_LIBRARY_PATH=$(python3 -c 'import os,torch;print(os.path.dirname(torch.__file__)+"/lib")' 2>/dev/null)
out=runs/evals/bs128-1.44m-test
/work/bins/specgr-tch-fork eval --dataset beauty-2014-loo --runs runs/eval-view/bs128-1.44m --ids rqvae --preset paper --part test \
  --methods tiger,semantic-knn --k 10 --beam-size 20 --report $out.partial
rm -rf $out && mv $out.partial $out
