#!/usr/bin/env bash
# SpecGR-KNN with the recency fine-tuned TIGER, scores normalised by the full ID length
# (`specgr eval --normalisation all-digits`, ours: README.md here, "All-digits
# normalisation"), tuned and tested exactly as run.sh does with the paper's rule:
# run.sh with NORMALISATION=all-digits. Reports: runs/evals/ts-recent-specgr-knn-all/.
# Needs a binary of 592d457 or later. Resumes as run.sh does:
#
#   SPECGR_BIN=/work/bins/specgr-tch-c78310b nohup experiments/results/beauty-2014/specgr-knn-recent-ts/all-digits.sh \
#     >> runs/beauty-2014/logs/specgr-knn-all.log 2>&1 &
NORMALISATION=all-digits exec "$(dirname "$0")/run.sh"
