#!/usr/bin/env bash
# Table 4 (drafter × backbone) on the Beauty time split: the DSI-style backbone's row,
# unattended and resumable. The TIGER row is Table 1's (../table1-ts/: TIGER alone,
# SpecGR-KNN, SpecGR_Aux and SpecGR++ on the RQ-VAE IDs). Our "DSI" is the same T5
# trained the same way on hierarchical k-means IDs, DSI's tokenisation (as in
# ../../synthetic/table4/; the paper says no more of its DSI than that).
#
# 0. Hierarchical k-means IDs of the time split's embeddings, K = 32 codes a level
#    (`specgr semid fit --method hkmeans --codebook-size 32`, seed 42) into the runs root
#    runs/t4-dsi. K = 32 gives three real levels (32 / 32 / up to 32 children, then the
#    identification digit), near DSI's own tree (10 clusters a level, leaves of up to
#    100 items); at TIGER's K = 256 the second level already gives every item its own
#    code and the third digit is constant (../../semid/beauty.md).
# 1. The time split's TIGER recipe on those IDs (experiments/runs/ts-backbone.sh:
#    constant-rate run frozen at epoch 8, 2-epoch cosine cool-down, recency fine-tune
#    on the newest 20,000 training examples), bfloat16 products (MATMUL, default bf16:
#    the same loss and valid Recall per sample as float32, ../../gr-model/bf16-training/;
#    the TIGER row's verifier trained in float32), one LibTorch thread.
# 2. SpecGR-KNN's and SpecGR_Aux's γ, δ, β searches on the seeded 2,000 valid examples
#    (experiments/runs/tune-specgr.sh; UniSRec = the converged drafter of Table 1).
# 3. The full test (19,544 examples) in one process: DSI alone, SemanticKNN, UniSRec,
#    SpecGR-KNN and SpecGR_Aux at their tuned settings (K 50, β 50 for DSI alone, bf16,
#    as Table 1): runs/evals/t4-dsi/test.
# 4. SpecGR++ on the DSI backbone (its own encoder; experiments/runs/specgr-pp.sh from
#    the cool-down fork's best, as Table 1's SpecGR++ from the TIGER's: 4 + 2 epochs,
#    embedding batch 256), then the recency fine-tune DSI alone has (stage 2 for 2
#    epochs on the newest 20,000 training examples at 5e-4, as ../specgr-pp-recent-ts/
#    gives Table 1's SpecGR++: without it SpecGR++ trails its TIGER by what the fine-tune
#    gives the verifier), its search on valid, and its full test beside DSI alone:
#    runs/evals/t4-dsi/test-pp.
#
# Each step is skipped when its output exists; trainings and evaluations resume from
# their checkpoints, so the same command resumes after a kill (`../resume.sh` starts it
# at nice 10, beside Table 3):
#
#   SPECGR_BIN=/work/bins/specgr-tch-<rev> nohup nice -n 10 experiments/results/beauty-2014/table4-ts/chain.sh \
#     >> runs/beauty-2014/logs/table4-chain.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?a LibTorch build, a45cf71 or later} SPECGR_DATA=${SPECGR_DATA:-../shared/data}
export MATMUL=${MATMUL-bf16} RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1
. experiments/runs/tuned.sh
. experiments/runs/run-lock.sh
. experiments/runs/torch-env.sh
R=runs/t4-dsi
D=$R/beauty-2014
V=runs/eval-view/t4-dsi
E=runs/evals/t4-dsi
mkdir -p $D/logs $E
echo "== $(date -u +%FT%TZ) $(git rev-parse --short HEAD) Table 4, DSI-style backbone ($SPECGR_BIN)"
[ -e $D/embeddings ] || ln -s "$PWD/runs/beauty-2014/embeddings" $D/embeddings
if [ ! -f $D/semid/hkmeans/ids.json ]; then
  "$SPECGR_BIN" semid fit --dataset beauty-2014 --method hkmeans --codebook-size 32 --seed 42 --runs $R
fi
experiments/runs/ts-backbone.sh $R hkmeans $V
[ -e $V/beauty-2014/unisrec ] || ln -s "$PWD/runs/beauty-2014/unisrec" $V/beauty-2014/unisrec
# LibTorch for every evaluation: its bfloat16 kernels take half the time of Flex's
# emulated bf16 (Table 1 ran on Flex; each row compares within one process, one backend).
at=(--dataset beauty-2014 --runs $V --ids hkmeans --preset paper --device tch)
search() { # METHOD FIRST_METHODS
  local dir=$E-$1
  [ -n "$(tuned $dir/search.log || true)" ] && return 0
  echo "== $(date -u +%FT%TZ) $1: γ, δ, β on valid"
  mkdir -p $dir
  FIRST_METHODS=$2 experiments/runs/tune-specgr.sh $1 $dir "${at[@]}" --part valid --sample 2000 --seed 42 --k 50 \
    ${MATMUL:+--matmul $MATMUL}
}
search specgr-knn tiger,semantic-knn
search specgr-aux unisrec,tiger-c
read -r g_knn d_knn b_knn <<<"$(tuned $E-specgr-knn/search.log)"
read -r g_aux d_aux b_aux <<<"$(tuned $E-specgr-aux/search.log)"
test_run() { # OUT METHODS [eval options]
  local out=$1 methods=$2
  shift 2
  [ -f $out/results.json ] && return 0
  echo "== $(date -u +%FT%TZ) full test: $methods -> $out"
  "$SPECGR_BIN" eval "${at[@]}" --part test --methods "$methods" --k 50 --beam-size 50 --overlap \
    ${MATMUL:+--matmul $MATMUL} "$@" --report $out.partial
  rm -rf $out && mv $out.partial $out
}
test_run $E/test tiger,semantic-knn,unisrec,specgr-knn,specgr-aux \
  --method-threshold "specgr-knn=$g_knn,specgr-aux=$g_aux" \
  --method-draft-size "specgr-knn=$d_knn,specgr-aux=$d_aux" \
  --method-beam-size "specgr-knn=$b_knn,specgr-aux=$b_aux"
# 4. SpecGR++ with the DSI backbone's own encoder.
best=$D/frozen/tiger-hkmeans-paper-cool2-e8-best
if [ ! -d $best ]; then
  rm -rf $best.partial && cp -r $D/tiger-hkmeans-paper-cool2-e8/best $best.partial && mv $best.partial $best
fi
P=$R/pp/beauty-2014/specgr-pp-hkmeans-paper
if [ -z "$(tuned $E-specgr-pp/search.log || true)" ]; then
  # Resumes an unfinished run; on a finished one it only reports it.
  echo "== $(date -u +%FT%TZ) SpecGR++ from $best"
  RUNS=$R/pp IDS=hkmeans SEMID=$D/semid DEVICE=tch experiments/runs/specgr-pp.sh beauty-2014 $best \
    --emb-batch-size 256 --gen-batch-size 64 >> $D/logs/specgr-pp.log 2>&1
fi
# The recency fine-tune (../specgr-pp-recent-ts/): from stage 2's best, 2 stage-2 epochs
# on the newest 20,000 training examples.
PR=$R/pp-recent/beauty-2014/specgr-pp-hkmeans-paper
if [ -z "$(tuned $E-specgr-pp/search.log || true)" ] && [ ! -f $PR/done ]; then
  echo "== $(date -u +%FT%TZ) SpecGR++ recency fine-tune from $P/stage2/best"
  mkdir -p $R/pp-recent/logs
  RUNS=$R/pp-recent IDS=hkmeans SEMID=$D/semid STAGE1_EPOCHS=0 STAGE2_EPOCHS=2 DEVICE=tch experiments/runs/specgr-pp.sh \
    beauty-2014 $P/stage2/best --train-last 20000 --stage2-lr 5e-4 >> $D/logs/specgr-pp-recent.log 2>&1
  touch $PR/done
fi
[ -e $V/beauty-2014/specgr-pp-hkmeans-paper ] || ln -s "$PWD/$PR" $V/beauty-2014/specgr-pp-hkmeans-paper
search specgr-pp tiger,specgr-pp-drafter
read -r g_pp d_pp b_pp <<<"$(tuned $E-specgr-pp/search.log)"
test_run $E/test-pp tiger,specgr-pp-drafter,specgr-pp \
  --method-threshold "specgr-pp=$g_pp" --method-draft-size "specgr-pp=$d_pp" --method-beam-size "specgr-pp=$b_pp"
echo "== $(date -u +%FT%TZ) done: $E/test, $E/test-pp"
