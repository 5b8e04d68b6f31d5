#!/usr/bin/env bash
# Carries long training runs across a lost machine: `save` copies what a run needs to
# resume (its `last/` checkpoint, its `best/` model and the dataset's embeddings and
# semantic IDs it was trained on) from `runs/` into `carry/`, with SHA-256 sums;
# `restore` puts them back into `runs/` on a new machine, refusing to overwrite
# anything already there and checking every sum first.
#
#   experiments/runs/carry.sh save runs/beauty-2014-loo/tiger-rqvae-paper-bs256 runs/beauty-2014/unisrec \
#     runs/pp256-beauty-2014/beauty-2014/specgr-pp-rqvae-paper
#   experiments/runs/carry.sh restore
#
# A SpecGR++ run directory (`stage1/`, `stage2/`, each a resumable run of its own) is
# saved stage by stage; its inputs are those of the dataset directory above it.
#
# Why the inputs travel too: the MiniLM embeddings' float sums differ between CPUs
# (AVX-512 vs AVX2), the RQ-VAE IDs fitted on them differ with them, and a TIGER
# checkpoint resumes only on the IDs it was trained on (the run checks a fingerprint).
#
# The copies go beside the checkout, to `../carry/` (CARRY overrides it), never into
# the repository (the project does not keep model weights in its history). Until
# 2026-12-07 they went to `carry/` inside the checkout; but a session may find a new
# checkout on the same machine (`runs/` gone with it), and that lost them too: beside
# the checkout they outlive it, though not a new machine (as on 2026-12-06 and
# 2026-12-07, when nothing survived but the commits). A `save` is atomic per run (a temporary directory, then a
# rename), so a kill mid-save leaves the previous copy.
set -euo pipefail
cd "$(dirname "$0")/../.."
CARRY=${CARRY:-../carry}

listing() { find "$1" -type f -printf '%P %s %T@\n' | sort; }

# Copies SRC's contents into DST (an empty directory) while a run may be writing a
# checkpoint into SRC: again until SRC's files (names, sizes, times) are the same
# before and after the copy, so that `state.json` and the files it names match.
copy_settled() {
  local src=$1 dst=$2 before try
  for try in 1 2 3 4 5; do
    before=$(listing "$src")
    rm -rf "${dst:?}"/* && cp -a "$src/." "$dst/"
    # A running run's lock (recdata::RunLock) stays with the run, not the copy.
    [ "$before" = "$(listing "$src")" ] && find "$dst" -name .lock -delete && return 0
    sleep 5
  done
  echo "carry: $src kept changing during 5 copies; try again" >&2
  exit 1
}

save_dir() { # SRC (a directory under runs/) -> $CARRY/SRC, atomically
  local src=$1 dst="$CARRY/$1" tmp
  [ -d "$src" ] || { echo "carry: $src: no such directory" >&2; exit 1; }
  mkdir -p "$(dirname "$dst")"
  tmp=$(mktemp -d "$(dirname "$dst")/.tmp.XXXXXX")
  copy_settled "$src" "$tmp"
  (cd "$tmp" && find . -type f ! -name SHA256SUMS -print0 | sort -z | xargs -0 sha256sum > SHA256SUMS)
  rm -rf "$dst.old"
  [ -d "$dst" ] && mv "$dst" "$dst.old"
  mv "$tmp" "$dst"
  rm -rf "$dst.old"
  echo "carry: saved $src ($(du -sh "$dst" | cut -f1))"
}

case "${1:-}" in
  save)
    shift
    [ $# -gt 0 ] || { echo "usage: carry.sh save RUN_DIR..." >&2; exit 2; }
    runs=()
    for run in "$@"; do
      run=${run%/}
      case "$run" in runs/*/*) ;; *) echo "carry: $run: give a run directory under runs/ (runs/<dataset>/<run>)" >&2; exit 2;; esac
      if [ -f "$run/last/state.json" ]; then
        runs+=("$run")
      elif [ -f "$run/stage1/last/state.json" ] || [ -f "$run/stage2/last/state.json" ]; then
        # SpecGR++: each stage that has started (stage 2 alone with --stage1-epochs 0).
        for stage in "$run"/stage*; do [ -f "$stage/last/state.json" ] && runs+=("$stage"); done
      else
        echo "carry: $run: no last/state.json nor stage1/ or stage2/last/state.json (not a started run)" >&2; exit 1
      fi
    done
    saved_inputs=" "
    for run in "${runs[@]}"; do
      # The inputs live beside the run: runs/<dataset>/ (or runs/<name>/<dataset>/ for
      # a run under RUNS=runs/<name>, as specgr-pp.sh writes; a SpecGR++ stage's are
      # one level further up, beside the SpecGR++ run directory).
      dataset_dir=$(dirname "$run")
      while [ "$dataset_dir" != runs ] && [ ! -e "$dataset_dir/semid" ] && [ ! -e "$dataset_dir/embeddings" ]; do
        dataset_dir=$(dirname "$dataset_dir")
      done
      case "$saved_inputs" in *" $dataset_dir "*) ;; *)
        for input in "$dataset_dir/embeddings" "$dataset_dir/semid"; do
          [ -d "$input" ] && save_dir "$input"
        done
        saved_inputs="$saved_inputs$dataset_dir "
      esac
      # Only the resumable state and the best model; validation reports and logs are
      # recorded under experiments/results/ when they matter.
      tmp_run=$(mktemp -d)
      mkdir -p "$tmp_run/run"
      for part in last best; do
        [ -d "$run/$part" ] && mkdir "$tmp_run/run/$part" && copy_settled "$run/$part" "$tmp_run/run/$part"
      done
      find "$run" -maxdepth 1 -type f ! -name .lock -exec cp -a {} "$tmp_run/run/" \;
      mkdir -p "$CARRY/$(dirname "$run")"
      rm -rf "$CARRY/$run.new"
      mv "$tmp_run/run" "$CARRY/$run.new"
      rmdir "$tmp_run"
      (cd "$CARRY/$run.new" && find . -type f ! -name SHA256SUMS -print0 | sort -z | xargs -0 sha256sum > SHA256SUMS)
      rm -rf "$CARRY/$run.old"
      [ -d "$CARRY/$run" ] && mv "$CARRY/$run" "$CARRY/$run.old"
      mv "$CARRY/$run.new" "$CARRY/$run"
      rm -rf "$CARRY/$run.old"
      echo "carry: saved $run ($(du -sh "$CARRY/$run" | cut -f1)): $(tr -d ' \n' < "$run/last/state.json" | grep -o '"\(samples_seen\|epochs_done\)":[0-9]*' | awk -F: '!seen[$1]++' | tr '\n' ' ')"
    done
    ;;
  restore)
    [ -d "$CARRY/runs" ] || { echo "carry: nothing in $CARRY/runs"; exit 0; }
    find "$CARRY/runs" -name SHA256SUMS | sort | while read -r sums; do
      dir=$(dirname "$sums")
      target=${dir#"$CARRY/"}
      # A save killed between its two renames leaves the previous copy as `.old`.
      case "$target" in */.tmp.*|*.new) continue;; esac
      if [ "${target%.old}" != "$target" ]; then
        [ -d "$CARRY/${target%.old}" ] && continue
        target=${target%.old}
      fi
      if [ -e "$target" ]; then
        echo "carry: $target exists; left as it is"
        continue
      fi
      (cd "$dir" && sha256sum --quiet -c SHA256SUMS) || { echo "carry: $dir: checksum mismatch; not restored" >&2; exit 1; }
      mkdir -p "$(dirname "$target")"
      cp -a "$dir" "$target.restoring"
      rm -f "$target.restoring/SHA256SUMS"
      mv "$target.restoring" "$target"
      echo "carry: restored $target"
    done
    ;;
  *)
    echo "usage: carry.sh save RUN_DIR... | carry.sh restore" >&2
    exit 2
    ;;
esac
