# Sourced by the records that compare two LibTorch builds of `specgr` on TIGER training
# side by side (experiments/results/gr-model/{relu-backward,bf16-attention,dropout-by-index}/run.sh):
#
#   ab_pairs OUT_DIR OLD NEW PAIRS "CONFIGS"   # PAIRS alternated rounds (A B, B A, ...) of
#       `specgr bench train --config <config> --rounds 1 --steps 3` (paper shape on the
#       leave-one-out Beauty batches, dropout 0.1, seed 42), each binary writing
#       OUT_DIR/<config>-<pair>-<old|new>.json
#   ab_short_training DIR BIN TRAIN_LIMIT EPOCHS [VALID_LIMIT]
#       # one `specgr train tiger` (paper shape, bf16, batch 256, the first TRAIN_LIMIT
#       # training examples, seed 42) into DIR; its log is DIR.log
#
# experiments/scripts/ab_speed.py OUT_DIR prints the table of the pairs' ratios, and
# experiments/scripts/mpk_equal.py compares two runs' saved tensors as bytes.
# Sourcing it also sets up LibTorch (torch-env.sh), one OpenMP thread, the data root,
# and reads OLD and NEW (the two binaries, required) and PAIRS (default 5).
. experiments/runs/torch-env.sh
export OMP_NUM_THREADS=1 SPECGR_DATA=${SPECGR_DATA:-../shared/data}
OLD=${OLD:?the binary before} NEW=${NEW:?the binary after} PAIRS=${PAIRS:-5}
ab_pairs() {
  local out=$1 old=$2 new=$3 pairs=$4 configs=$5 pair config
  mkdir -p "$out"
  _ab_one() { # config pair which binary
    "$4" bench train --dataset beauty-2014-loo --runs runs --config "$1" --rounds 1 --steps 3 --device tch \
      --dropout 0.1 --seed 42 --json "$out/$1-$2-$3.json" 2>&1 | grep "^round"
  }
  for pair in $(seq 1 "$pairs"); do
    for config in $configs; do
      if [ $((pair % 2)) = 1 ]; then _ab_one "$config" "$pair" old "$old"; _ab_one "$config" "$pair" new "$new"
      else _ab_one "$config" "$pair" new "$new"; _ab_one "$config" "$pair" old "$old"; fi
    done
  done
}
ab_short_training() {
  local dir=$1 bin=$2 limit=$3 epochs=$4 valid=${5:-100}
  rm -rf "$dir"
  "$bin" train tiger --dataset beauty-2014-loo --runs runs --ids rqvae --preset paper --matmul bf16 --dropout 0.1 \
    --batch-size 256 --train-limit "$limit" --valid-limit "$valid" --epochs "$epochs" --lr 1e-3 --device tch \
    --seed 42 --out "$dir" > "$dir.log" 2>&1
}
ab_bit_identical() { # PREFIX OLD NEW: a short training with each binary (the first 2,560
  # examples, one epoch) into PREFIX-old / PREFIX-new; prints whether their epoch losses,
  # weights and optimiser state are identical
  local prefix=$1
  ab_short_training "$prefix-old" "$2" 2560 1
  ab_short_training "$prefix-new" "$3" 2560 1
  python3 - "$prefix" <<'PY'
import json, sys
st = [json.load(open(f"{sys.argv[1]}-{w}/last/state.json"))["epoch_losses"] for w in ("old", "new")]
print(f"Short training on the same 2,560 examples, epoch loss: old {st[0]}, new {st[1]}: {'identical' if st[0] == st[1] else 'DIFFERENT'}")
PY
  python3 experiments/scripts/mpk_equal.py "$prefix-old" "$prefix-new" 1
}
