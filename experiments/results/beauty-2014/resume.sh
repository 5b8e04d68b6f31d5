#!/usr/bin/env bash
# Starts again whatever of the Beauty campaign is not running: the first command of a
# session (processes do not outlive one). Each job resumes from its own checkpoints or
# reports, and one that runs already is left alone (its lock is held, or its script
# runs), so running this twice starts nothing twice:
#
#   experiments/results/beauty-2014/resume.sh
#
# The jobs, and the core each one gets:
# - UniSRec to its early stop (`experiments/runs/unisrec.sh`), nice 0: the longest path
#   to Tables 1 and 2 (`table1-ts/`).
# - The time-split TIGER chain (`tiger-paper-bs128/rerun-2026-12-06/chain.sh`): every step
#   before SpecGR++ is done, so it resumes SpecGR++'s training. nice 5.
# - SpecGR-KNN with the time split's verifier, the recency fine-tuned TIGER
#   (`specgr-knn-recent-ts/run.sh`: its search on valid, then its full test), until its
#   test report exists, then its γ curve on a test sample (`gamma-curve.sh` there), and
#   the same with all-digits normalisation (`all-digits.sh` there, binary 592d457+; then
#   its γ curve, `NORMALISATION=all-digits gamma-curve.sh`). They
#   share the second core with SpecGR++ while they run.
# - The waiting chains: SpecGR_Aux's and SpecGR++'s searches on valid
#   (`specgr-aux-ts/chain.sh`, `specgr-pp-ts/chain.sh`), then Tables 1 and 2
#   (`table1-ts/chain.sh`); and the same searches with all-digits normalisation, then
#   their full test beside Table 1 (`all-digits-ts/chain.sh`, after each of those); and
#   the time split's TIGER on K = 108 IDs (`tiger-k108-ts/chain.sh`, at nice 10: it takes
#   what the other jobs leave; it waits for SpecGR_Aux's search only until its run has a
#   checkpoint, which it has since 2026-12-06); and Table 3, SpecGR++'s ablations on a
#   test sample, once SpecGR++'s search is done (`table3-ts/chain.sh`, nice 10 too);
#   and Table 4's DSI-style backbone (`table4-ts/chain.sh`: hierarchical k-means IDs, the
#   time split's TIGER recipe on them, its searches and full test; nice 0 since Table 1
#   ended); and SpecGR++ with 20 stage-1 epochs (`specgr-pp-long-ts/chain.sh`), which
#   waits for Table 1 and then runs at nice 10.
#   They sleep until what they need has
#   finished.
# - SpecGR++ with stage 1's logQ correction (`specgr-pp-logq-ts/`): the paper-recipe
#   run's settings plus `--stage1-logq-correction`, nice 5, until its stage 2 is done;
#   and SpecGR++ with the drafter's popularity prior on valid
#   (`drafter-prior-ts/run.sh specgr-pp`, nice 10), until both reports exist.
# - The leave-one-out TIGER from zero (`../beauty-2014-loo/tiger-paper-bs256/`), in bf16,
#   at nice 0 (LOO_NICE), then its cool-down fork and test (`cooldown.sh` there). Both
#   ended on 2026-12-07 (early stop after 3.02 M examples, cool-down to 3.29 M), so on
#   this machine they start and exit at once; on a machine without them they run again
#   from their carried checkpoints. LOO=0 leaves them paused.
#
# - SpecGR++ with TIGER alone's recency fine-tune (`specgr-pp-recent-ts/`: run.sh, then
#   search.sh's search and full test) and Table A6 at Table 1's settings
#   (`tableA6-ts/run.sh`), until their reports exist (all done on 2026-12-08).
#
# SIDE=1 also starts the side experiments, which are left paused by default since
# 2026-12-07 (two cores do not carry them beside the three trainings above without
# slowing those): SpecGR++ with the logQ correction, SpecGR-KNN with all-digits
# normalisation (its search and γ curve, and all-digits-ts/chain.sh), the K = 108 TIGER
# (tiger-k108-ts/chain.sh) and SpecGR++ with the drafter's prior.
#   `specgr-pp-ts/chain.sh` also starts it when SpecGR++'s search is done.
#
# On a new machine, `experiments/runs/carry.sh restore` first puts the carried runs back
# (the run scripts do it too). Until the cool-down's best time-split verifier exists
# (`runs/beauty-2014/frozen/tiger-rqvae-paper-cool2-e8-best`, as on a machine that
# came without the runs), this script hands over to `from-zero.sh` here, which starts
# or resumes the campaign's first stage (build, inputs, the time-split TIGER with its
# chain, UniSRec; each run restores its carried copy first); it takes over again once
# that model exists.
# The binaries default to those the runs were started with, under /work/bins, each
# where it exists, else BIN_FALLBACK (target/release/specgr: a new campaign's jobs all
# run on the one binary from-zero.sh builds); BIN (one binary for every job) overrides
# them. Build one with
# `LIBTORCH_USE_PYTORCH=1 cargo build --release -p bench --features tch,avx512` (after
# `pip install torch==2.9.0`); the training code is the same in all of them.
# Logs: runs/beauty-2014/logs/ and runs/beauty-2014-loo/logs/.
set -euo pipefail
cd "$(dirname "$0")/../../.."
. experiments/runs/run-lock.sh
# LibTorch on the library path for every job (the run scripts that take DEVICE=tch do
# this themselves, drafter-prior-ts/run.sh does not: with its pinned dev build gone it
# falls back to the LibTorch build, which then found no libtorch_cuda.so).
if python3 -c 'import torch' 2>/dev/null; then . experiments/runs/torch-env.sh; fi
if [ ! -d runs/beauty-2014/frozen/tiger-rqvae-paper-cool2-e8-best ]; then
  echo "resume: no cooled-down time-split verifier yet: from-zero.sh starts or resumes its runs"
  exec experiments/results/beauty-2014/from-zero.sh
fi
BIN_FALLBACK=${BIN_FALLBACK:-target/release/specgr}
pinned() { if [ -x "$1" ]; then echo "$1"; else echo "$BIN_FALLBACK"; fi; }
TRAIN_BIN=${BIN:-$(pinned /work/bins/specgr-tch-5c6eecf)}   # UniSRec and SpecGR++ were started with it
EVAL_BIN=${BIN:-$(pinned /work/bins/specgr-tch-11aac0f)}    # the searches and the leave-one-out TIGER
TABLE_BIN=${BIN:-$(pinned /work/bins/specgr-tch-299ea37)}   # Table 1: --method-draft-size (ac90c61+), resumable eval (cb61a6c+)
TUNE_BIN=${BIN:-$(pinned /work/bins/specgr-tch-e88f4e4)}    # SpecGR-KNN with the fine-tuned TIGER
NORM_BIN=${BIN:-$(pinned /work/bins/specgr-tch-299ea37)}    # --normalisation all-digits (592d457+), resumable eval (cb61a6c+)
K108_BIN=${BIN:-$(pinned /work/bins/specgr-tch-c78310b)}    # the K = 108 TIGER was started with it
LOGQ_BIN=${BIN:-$(pinned /work/bins/specgr-tch-869f560)}    # SpecGR++ with stage 1's logQ correction (869f560+)
PRIOR_BIN=${BIN:-$(pinned /work/bins/specgr-dev-76232f3)}   # SpecGR++ with the drafter's prior (76232f3+; its reports resume with it)
LONG_BIN=${BIN:-$(pinned /work/bins/specgr-tch-dd13332)}    # SpecGR++ with a longer stage 1 (specgr-pp-long-ts/; --patience, dd13332+)
T4_BIN=${BIN:-$(pinned /work/bins/specgr-tch-a45cf71)}      # Table 4's DSI-style backbone (table4-ts/), from 2026-12-07 22:30 UTC
LOO_BIN=${BIN:-$(pinned /work/bins/specgr-tch-a45cf71)}     # the leave-one-out TIGER since 19:49 UTC 2026-12-07: bf16 attention products (../../gr-model/bf16-attention/)
for b in "$LONG_BIN" "$T4_BIN" "$TRAIN_BIN" "$EVAL_BIN" "$TABLE_BIN" "$TUNE_BIN" "$NORM_BIN" "$K108_BIN" "$LOGQ_BIN" "$PRIOR_BIN" "$LOO_BIN"; do
  [ -x "$b" ] || { echo "resume: no binary $b (build one, above, and give it as BIN)" >&2; exit 1; }
done
experiments/runs/carry.sh restore
mkdir -p runs/beauty-2014/logs runs/beauty-2014-loo/logs
L=runs/beauty-2014/logs

started() { echo "resume: started $1"; }
running() { echo "resume: $1 runs already"; }
script_runs() { pgrep -f "$1" >/dev/null; }

# UniSRec stopped early on 2026-12-07 (epoch 190, best 150): a finished run is left
# alone, not restarted. Its train command would only say so, but it stamps the run
# unfinished while it checks (a second or two), and an evaluation starting in that
# second (Table 1's, at 21:47 that day) refused the drafter as unfinished.
finished_run() { [ -f "$1/last/state.json" ] && python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["stopped_early"] or s["epochs_done"] >= s["train"]["max_epochs"] else 1)' "$1/last/state.json"; }
if finished_run runs/beauty-2014/unisrec; then echo "resume: UniSRec finished (early stop): left alone"
elif run_held runs/beauty-2014/unisrec; then running UniSRec; else
  DEVICE=tch SPECGR_BIN=$TRAIN_BIN nohup experiments/runs/unisrec.sh beauty-2014 >> $L/unisrec.log 2>&1 &
  started UniSRec
fi
if run_held runs/pp256-beauty-2014/beauty-2014/specgr-pp-rqvae-paper || script_runs rerun-2026-12-06/chain.sh; then
  running "the time-split TIGER chain (SpecGR++)"
else
  SPECGR_BIN=$TRAIN_BIN nohup nice -n 5 experiments/results/beauty-2014/tiger-paper-bs128/rerun-2026-12-06/chain.sh \
    >> $L/tiger-paper-chain.log 2>&1 &
  started "the time-split TIGER chain (SpecGR++)"
fi
# SpecGR++ fine-tuned on the newest 20,000 examples, as TIGER alone was (the probe of
# ../specgr-pp-ts/, "A probe", on the retrained SpecGR++), then its test and valid
# samples beside TIGER alone (specgr-pp-recent-ts/run.sh), until both reports exist;
# and Table A6 at Table 1's settings (tableA6-ts/run.sh; it waits for Table 1).
if [ -f runs/evals/pp-recent-ts/valid/results.json ]; then :
elif script_runs specgr-pp-recent-ts/run.sh; then running "specgr-pp-recent-ts/run.sh"; else
  SPECGR_BIN=$LONG_BIN nohup nice -n 5 experiments/results/beauty-2014/specgr-pp-recent-ts/run.sh >> $L/specgr-pp-recent.log 2>&1 &
  started "specgr-pp-recent-ts/run.sh (SpecGR++ with the recency fine-tune)"
fi
# Then its own γ/δ/β search on valid and its full test (specgr-pp-recent-ts/search.sh, waits for run.sh).
if [ -f runs/evals/pp-recent-ts/full-test/results.json ]; then :
elif script_runs specgr-pp-recent-ts/search.sh; then running "specgr-pp-recent-ts/search.sh"; else
  SPECGR_BIN=$TABLE_BIN nohup nice -n 5 experiments/results/beauty-2014/specgr-pp-recent-ts/search.sh >> $L/specgr-pp-recent-search.log 2>&1 &
  started "specgr-pp-recent-ts/search.sh (its search and full test)"
fi
if [ -f runs/evals/ts-recent-tableA6/batch-1/results.json ]; then :
elif script_runs tableA6-ts/run.sh; then running "tableA6-ts/run.sh"; else
  SPECGR_BIN=$TABLE_BIN nohup experiments/results/beauty-2014/tableA6-ts/run.sh >> $L/tableA6-ts.log 2>&1 &
  started "tableA6-ts/run.sh (Table A6, after Table 1)"
fi
# SpecGR++ trained as the paper-recipe run but with stage 1's logQ correction
# (../specgr-pp-logq-ts/), until its stage 2 is done; nice 5; with bfloat16 products
# (MATMUL, default bf16 since 2026-12-07: ../../gr-model/bf16-training/).
LQ=runs/pp-logq-ts/beauty-2014/specgr-pp-rqvae-paper
SIDE=${SIDE:-0}
side_paused() { if [ "$SIDE" = 1 ]; then return 1; fi; echo "resume: $1 left paused (a side experiment; SIDE=1 starts it)"; }
if side_paused "SpecGR++ with the logQ correction"; then :
elif [ -f $LQ/stage2/last/state.json ] && python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["stopped_early"] or s["epochs_done"] >= s["train"]["max_epochs"] else 1)' $LQ/stage2/last/state.json; then :
elif run_held $LQ; then running "SpecGR++ with the logQ correction"; else
  mkdir -p runs/pp-logq-ts/logs
  RUNS=runs/pp-logq-ts DEVICE=tch MATMUL=${MATMUL-bf16} SPECGR_BIN=$LOGQ_BIN nohup nice -n 5 experiments/runs/specgr-pp.sh beauty-2014 \
    runs/beauty-2014/frozen/tiger-rqvae-paper-cool2-e8-best --emb-batch-size 256 --gen-batch-size 64 --stage1-logq-correction \
    >> runs/pp-logq-ts/logs/specgr-pp.log 2>&1 &
  started "SpecGR++ with the logQ correction (specgr-pp-logq-ts)"
fi
# SpecGR++ with the drafter's popularity prior on valid (../drafter-prior-ts/run.sh specgr-pp).
# It evaluates SpecGR++'s stage-2 best, so it waits for that (the bf16 rerun of
# 2026-12-07 is in stage 2).
if [ -f runs/evals/popprof/specgr-pp-popprof-w0.07-g-1.4/results.md ] || side_paused "SpecGR++ with the drafter's prior"; then :
elif ! python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["stopped_early"] or s["epochs_done"] >= s["train"]["max_epochs"] else 1)' \
    runs/pp256-beauty-2014/beauty-2014/specgr-pp-rqvae-paper/stage2/last/state.json 2>/dev/null; then
  echo "resume: SpecGR++ with the drafter's prior waits for SpecGR++'s stage 2"
elif script_runs "drafter-prior-ts/run.sh|popprof/specgr-pp.sh"; then running "SpecGR++ with the drafter's prior"; else
  B=$PRIOR_BIN nohup nice -n 10 experiments/results/beauty-2014/drafter-prior-ts/run.sh specgr-pp >> $L/drafter-prior.log 2>&1 &
  started "SpecGR++ with the drafter's prior (drafter-prior-ts/run.sh specgr-pp)"
fi
# The jobs below evaluate the recency fine-tuned verifier (`../tiger-recent-ts/`, the
# view `runs/eval-view/ts-recent`). A campaign restarted from zero (from-zero.sh) has to
# make it again from the cool-down's end: until its 2 epochs are done, it runs and the
# jobs below wait (run this script again later).
RECENT=runs/beauty-2014/tiger-rqvae-paper-recent20000
if ! python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if s["stopped_early"] or s["epochs_done"] >= s["train"]["max_epochs"] else 1)' $RECENT/last/state.json 2>/dev/null; then
  if run_held $RECENT || script_runs tiger-recent-ts/run.sh; then running "the recency fine-tune"; else
    SPECGR_BIN=$TRAIN_BIN nohup experiments/results/beauty-2014/tiger-recent-ts/run.sh >> $L/tiger-recent.log 2>&1 &
    started "the recency fine-tune (tiger-recent-ts/run.sh)"
  fi
  echo "resume: the jobs on the recency fine-tuned verifier wait for it: run resume.sh again once it has finished"
  exit 0
fi
experiments/results/beauty-2014/tiger-recent-ts/view.sh
# The leave-one-out TIGER trains with bfloat16 products (MATMUL, default bf16 since
# 2026-12-07: the same loss curve from the first step at ~1.5-2x the samples/s,
# ../../gr-model/bf16-training/); it needs runs/beauty-2014-loo's embeddings and IDs
# (carried, or fitted as ../beauty-2014-loo/README.md says).
if [ "${LOO:-1}" != 1 ]; then echo "resume: the leave-one-out TIGER left paused (LOO=0)"
elif run_held runs/beauty-2014-loo/tiger-rqvae-paper-bs256; then running "the leave-one-out TIGER"; else
  VALID_SAMPLE=2000 DEVICE=tch SHARDS=1 OMP_NUM_THREADS=1 MATMUL=${MATMUL-bf16} SPECGR_BIN=$LOO_BIN nohup nice -n ${LOO_NICE:-0} \
    experiments/runs/tiger-paper.sh beauty-2014-loo --out runs/beauty-2014-loo/tiger-rqvae-paper-bs256 \
    >> runs/beauty-2014-loo/logs/tiger-paper-bs256.log 2>&1 &
  started "the leave-one-out TIGER"
fi
# Its cool-down fork and the fork's test (../beauty-2014-loo/tiger-paper-bs256/cooldown.sh):
# it waits for the run to end (early stop or its 50 epochs), so it runs beside it.
cool_done() { # the fork has ended and its best epoch's test report exists
  python3 -c 'import json,os,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if (s["stopped_early"] or s["epochs_done"] >= s["train"]["max_epochs"]) and os.path.exists(sys.argv[2] % s["best"][1]) else 1)' \
    runs/beauty-2014-loo/tiger-rqvae-paper-bs256-cool2/last/state.json \
    experiments/results/beauty-2014-loo/tiger-paper-bs256/test-cool2-e%d/results.json 2>/dev/null
}
if [ "${LOO:-1}" != 1 ] || cool_done; then :
elif script_runs tiger-paper-bs256/cooldown.sh; then running "the leave-one-out TIGER's cool-down chain"; else
  SPECGR_BIN=$LOO_BIN nohup nice -n ${LOO_NICE:-0} experiments/results/beauty-2014-loo/tiger-paper-bs256/cooldown.sh \
    >> runs/beauty-2014-loo/logs/cooldown-bs256.log 2>&1 &
  started "the leave-one-out TIGER's cool-down chain (after its early stop)"
fi
if [ -f runs/evals/ts-recent-specgr-knn/test/results.json ]; then :
elif script_runs specgr-knn-recent-ts/run.sh; then running "SpecGR-KNN with the fine-tuned TIGER"; else
  SPECGR_BIN=$TUNE_BIN nohup experiments/results/beauty-2014/specgr-knn-recent-ts/run.sh >> $L/specgr-knn-recent.log 2>&1 &
  started "SpecGR-KNN with the fine-tuned TIGER (specgr-knn-recent-ts)"
fi
if [ -f runs/evals/ts-recent-specgr-knn-all/test/results.json ] || side_paused "SpecGR-KNN all-digits"; then :
elif script_runs specgr-knn-recent-ts/all-digits.sh; then running "SpecGR-KNN all-digits"; else
  SPECGR_BIN=$NORM_BIN nohup experiments/results/beauty-2014/specgr-knn-recent-ts/all-digits.sh \
    >> $L/specgr-knn-all.log 2>&1 &
  started "SpecGR-KNN with all-digits normalisation (specgr-knn-recent-ts/all-digits.sh)"
fi
if [ -f runs/evals/ts-recent-specgr-knn/test-curve/g-10/results.json ]; then :
elif script_runs specgr-knn-recent-ts/gamma-curve.sh; then running "SpecGR-KNN's γ curve on test"; else
  SPECGR_BIN=$TUNE_BIN nohup experiments/results/beauty-2014/specgr-knn-recent-ts/gamma-curve.sh >> $L/specgr-knn-curve.log 2>&1 &
  started "SpecGR-KNN's γ curve on test (specgr-knn-recent-ts/gamma-curve.sh)"
fi
if [ -f runs/evals/ts-recent-specgr-knn-all/test-curve/g-10/results.json ] || side_paused "SpecGR-KNN's all-digits γ curve"; then :
elif script_runs specgr-knn-recent-ts/gamma-curve.sh; then running "SpecGR-KNN's γ curve on test"; else
  NORMALISATION=all-digits GAMMAS="-1.4 -3 -6 -10" SPECGR_BIN=$NORM_BIN nohup \
    experiments/results/beauty-2014/specgr-knn-recent-ts/gamma-curve.sh >> $L/specgr-knn-curve-all.log 2>&1 &
  started "SpecGR-KNN's all-digits γ curve on test (NORMALISATION=all-digits gamma-curve.sh)"
fi
for chain in specgr-aux-ts specgr-pp-ts table1-ts all-digits-ts tiger-k108-ts table3-ts table4-ts specgr-pp-long-ts; do
  if script_runs "$chain/chain.sh"; then running "$chain/chain.sh"; continue; fi
  case $chain in all-digits-ts|tiger-k108-ts) if side_paused "$chain/chain.sh"; then continue; fi ;; esac
  bin=$EVAL_BIN niceness=0
  [ $chain = table1-ts ] && bin=$TABLE_BIN
  # All-digits normalisation is our variant: nice 10, behind UniSRec and SpecGR++'s logQ run.
  [ $chain = all-digits-ts ] && bin=$NORM_BIN niceness=10
  # The K = 108 TIGER is a side experiment: it takes what the other jobs leave.
  [ $chain = tiger-k108-ts ] && bin=$K108_BIN niceness=10
  # Table 3 (SpecGR++'s ablations on a test sample) too, with the resumable eval.
  [ $chain = table3-ts ] && bin=$TABLE_BIN niceness=10
  # Table 4's DSI-style backbone (trained, searched and tested on its own binary): nice
  # 0 since Table 1 ended (2026-12-08), a core of its own.
  [ $chain = table4-ts ] && bin=$T4_BIN
  # SpecGR++ with 20 stage-1 epochs (waits for Table 1): nice 10, behind Table 4 and the
  # recency fine-tuned SpecGR++'s search, a long shot at the encoder's target.
  [ $chain = specgr-pp-long-ts ] && bin=$LONG_BIN niceness=10
  SPECGR_BIN=$bin nohup nice -n $niceness experiments/results/beauty-2014/$chain/chain.sh >> $L/${chain%-ts}-chain.log 2>&1 &
  started "$chain/chain.sh"
done
