#!/usr/bin/env bash
# SpecGR_Aux's γ on valid as soon as UniSRec's run (../unisrec-converged/, "Rerun") has
# reached its early stop, unattended: wait until `runs/beauty-2014/unisrec` holds a
# finished model (its identity stamp has neither `"finished": false` nor the older
# "unfinished" in place of the embeddings' hash) and its
# lock is free (experiments/runs/run-lock.sh), link it into the time-split view (runs/eval-view/ts-recent, made by
# ../tiger-recent-ts/view.sh: TIGER = the recency fine-tune), and search γ on a seeded random 2,000
# valid examples with experiments/runs/tune-specgr.sh: γ at δ 50, β 50 (its grid widens
# while the best overall NDCG@50 sits at its edge, down to γ −20, up to −0.6), then δ and
# β at that γ; reports and search.log under runs/evals/ts-recent-specgr-aux/.
# Its last line is read by ../table1-ts/chain.sh. Each γ's report is kept, so the same command resumes:
#
#   SPECGR_BIN=/work/bins/specgr-tch-5c6eecf nohup experiments/results/beauty-2014/specgr-aux-ts/chain.sh \
#     >> runs/beauty-2014/logs/specgr-aux-chain.log 2>&1 &
# Inference with bfloat16 products (MATMUL, default bf16 since 2026-12-07; MATMUL= runs
# float32): as the reference's autocast inference; on this verifier the same lists as
# float32 to within one hit in 1,300 valid examples, at 1.3-2x the speed
# (../../gr-model/bf16-inference/).
set -euo pipefail
MATMUL=${MATMUL-bf16}
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?the binary} RAYON_NUM_THREADS=1
U=runs/beauty-2014/unisrec
experiments/results/beauty-2014/tiger-recent-ts/view.sh
view=runs/eval-view/ts-recent/beauty-2014
finished() {
  [ -f $U/inputs-stamp.json ] && python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(1 if s.get("finished") is False or s.get("embeddings_sha256") == "unfinished" else 0)' $U/inputs-stamp.json
}
. experiments/runs/run-lock.sh
until finished && ! run_held $U; do sleep 60; done
echo "== $(date -u +%FT%TZ) UniSRec finished: $(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print("epochs", s["epochs_done"], "best", s["best"], "stopped early", s["stopped_early"])' $U/last/state.json)"
[ -e $view/unisrec ] || ln -s "$PWD/$U" $view/unisrec
FIRST_METHODS=unisrec,tiger-c OMP_NUM_THREADS=1 SPECGR_DATA=${SPECGR_DATA:-../shared/data} \
  experiments/runs/tune-specgr.sh specgr-aux runs/evals/ts-recent-specgr-aux --dataset beauty-2014 --runs runs/eval-view/ts-recent \
  --ids rqvae --preset paper --part valid --sample 2000 --seed 42 --k 50 ${MATMUL:+--matmul $MATMUL}
echo "== $(date -u +%FT%TZ) tuned: SpecGR_Aux $(tail -n 1 runs/evals/ts-recent-specgr-aux/search.log) (Table 1 picks it up: ../table1-ts/chain.sh)"
