#!/usr/bin/env bash
# Does the beam search, rather than the model, limit TIGER's in-sample Recall@50? The
# cooled-down rerun TIGER (runs/eval-view/ts-cool2-e8, made by chain.sh) on the seeded
# random 2,000 valid examples (seed 42, the trainer's sample) at K = 50 with beams of
# BEAMS (default 50 100 200): a wider beam can only find sequences of higher likelihood,
# so any gain is what the default β = 50 leaves on the table. One process per β, one
# thread each.
set -euo pipefail
cd "$(dirname "$0")/../../../../.."
. experiments/runs/torch-env.sh
export SPECGR_DATA=${SPECGR_DATA:-../shared/data} OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1
S=${SPECGR_BIN:?the binary}
for b in ${BEAMS:-50 100 200}; do
  out=runs/evals/ts-cool2-e8-rerun/valid-beam$b
  if [ ! -f $out/results.json ]; then
    echo "== $(date -u +%FT%TZ) beam $b"
    "$S" eval --dataset beauty-2014 --runs runs/eval-view/ts-cool2-e8 --ids rqvae --preset paper --part valid --sample 2000 --seed 42 \
      --methods tiger --k 50 --beam-size $b --report $out.partial
    rm -rf $out && mv $out.partial $out
  fi
done
