#!/usr/bin/env bash
# The learning-rate cool-down of this run (issue 19's next step once the constant-rate
# curve is flat), unattended and resumable:
#
# 1. Wait until the constant-rate run has ended (early stop on valid Recall@10, patience
#    8, or its 50 epochs) and released its lock.
# 2. Freeze its last/ (model, Adam moments, state: the end of the flat curve) as
#    runs/beauty-2014-loo/frozen/bs256-last-at-stop.
# 3. Fork it: 2 epochs with the rate decaying from 1e-3 to 0 on a cosine (one warm-up
#    step), everything else as the run (batch 256, bf16, dropout 0.1, the same seeded
#    2,000 validation users), into runs/beauty-2014-loo/tiger-rqvae-paper-bs256-cool2
#    (`experiments/runs/tiger-paper.sh --init-from`, as ../tiger-cooldown/ did for the
#    batch-128 run: +12 % on test there).
# 4. Test the fork's best on valid on the full test with SemanticKNN beside it
#    (`test-best.sh` with RUN and TAG=cool2: test-cool2-e<epoch>/ here).
#
#   SPECGR_BIN=/work/bins/specgr-tch-a45cf71 nohup experiments/results/beauty-2014-loo/tiger-paper-bs256/cooldown.sh \
#     >> runs/beauty-2014-loo/logs/cooldown-bs256.log 2>&1 &
#
# `../../beauty-2014/resume.sh` starts it beside the run. Each step is skipped when its
# output exists, so the same command resumes after a kill.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?the binary: that of the run, /work/bins/specgr-tch-a45cf71, or target/release/specgr}
. experiments/runs/run-lock.sh
here=experiments/results/beauty-2014-loo/tiger-paper-bs256
RUN=runs/beauty-2014-loo/tiger-rqvae-paper-bs256
FROZEN=runs/beauty-2014-loo/frozen/bs256-last-at-stop
FORK=runs/beauty-2014-loo/tiger-rqvae-paper-bs256-cool2
ended() {
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["stopped_early"] or s["epochs_done"] >= s["train"]["max_epochs"] else 1)' "$1/last/state.json" 2>/dev/null
}
until ended $RUN && ! run_held $RUN; do sleep 120; done
if [ ! -d $FROZEN ]; then
  rm -rf $FROZEN.tmp && mkdir -p "$(dirname $FROZEN)" && cp -r $RUN/last $FROZEN.tmp && mv $FROZEN.tmp $FROZEN
  echo "== $(date -u +%FT%TZ) froze $RUN/last ($(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["epochs_done"], "epochs,", s["samples_seen"], "examples")' $FROZEN/state.json)) as $FROZEN"
fi
if ! ended $FORK; then
  echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) cool-down fork of $FROZEN into $FORK ($SPECGR_BIN)"
  VALID_SAMPLE=2000 DEVICE=tch SHARDS=1 OMP_NUM_THREADS=1 MATMUL=${MATMUL-bf16} LR_DECAY=cosine WARMUP=1 EPOCHS=2 \
    experiments/runs/tiger-paper.sh beauty-2014-loo --init-from $FROZEN --out $FORK
fi
RUN=$FORK TAG=cool2 $here/test-best.sh
