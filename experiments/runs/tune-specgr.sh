#!/usr/bin/env bash
# γ, then δ and β, of one SpecGR method on valid: experiments/runs/gamma-search.sh at
# δ 50, β 50, then experiments/runs/delta-beta-search.sh at the γ it found. Everything
# both print is appended to OUT_DIR/search.log after a start marker; its last line is
# then `TUNED gamma=… delta=… beta=…` (what a table's chain reads, e.g.
# experiments/results/beauty-2014/table1-ts/chain.sh). Reports: OUT_DIR/valid-g<γ>[-d<δ>[-b<β>]].
#
#   FIRST_METHODS=unisrec,tiger-c SPECGR_BIN=... tune-specgr.sh specgr-aux runs/evals/ts-specgr-aux \
#     --dataset beauty-2014 --runs runs/eval-view/ts-cool2-e8 --ids rqvae --preset paper \
#     --part valid --sample 2000 --seed 42 --k 50
#
# The eval options must not set --threshold, --draft-size or --beam-size (the searches
# do). FIRST_METHODS, GRID, DELTAS, DELTA_MAX, BETAS: see the two scripts. Resumes as they do.
set -euo pipefail
cd "$(dirname "$0")/../.."
method=${1:?usage: tune-specgr.sh METHOD OUT_DIR [specgr eval options]}
dir=${2:?usage: tune-specgr.sh METHOD OUT_DIR [specgr eval options]}
shift 2
mkdir -p "$dir"
log=$dir/search.log
echo "== $(date -u +%FT%TZ) search started" >> "$log"
experiments/runs/gamma-search.sh "$method" "$dir/valid-g" "$@" 2>&1 | tee -a "$log"
gamma=$(tail -n 1 "$log" | sed -n 's/^GAMMA=\([^ ]*\).*/\1/p')
[ -n "$gamma" ] || { echo "tune-specgr: no γ at the end of the γ search" >&2; exit 1; }
experiments/runs/delta-beta-search.sh "$method" "$dir/valid-g" "$gamma" "$@" 2>&1 | tee -a "$log"
