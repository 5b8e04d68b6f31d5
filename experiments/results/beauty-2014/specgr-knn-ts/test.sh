#!/usr/bin/env bash
# Full beauty-2014 time-split test: SpecGR-KNN at the γ tuned on valid (GAMMA), TIGER = the
# cool-down fork's best (1,378,640 examples). TIGER and SemanticKNN alone on the same
# examples are ../tiger-paper-bs128/test-cool2-1.38m/ (same binary, same view).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_DATA=../shared/data LD_LIBRARY_PATH=$(python3 -c 'import os,torch;print(os.path.dirname(torch.__file__)+"/lib")' 2>/dev/null)
g=${GAMMA:?the γ tuned on valid}
out=runs/evals/ts-specgr-knn/test-g$g
"${SPECGR_BIN:?the specgr binary}" eval --dataset beauty-2014 --runs runs/eval-view/ts-cool2-e8 --ids rqvae --preset paper --part test \
  --methods specgr-knn --k 50 --beam-size 50 --threshold=$g --report $out.partial
rm -rf $out && mv $out.partial $out
