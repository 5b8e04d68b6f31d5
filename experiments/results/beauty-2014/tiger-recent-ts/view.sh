#!/usr/bin/env bash
# The time split's evaluation view since 2026-12-06: runs/eval-view/ts-recent/beauty-2014,
# whose TIGER is the recency fine-tune (README.md here: the cool-down fork fine-tuned on
# the newest 20,000 training examples, 1,418,640 examples seen), with the split's
# embeddings and semantic IDs. UniSRec and SpecGR++ are linked in by their chains
# (../specgr-aux-ts/chain.sh, ../specgr-pp-ts/chain.sh) when their training has finished.
# Idempotent: run it as often as you like (resume.sh does).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
v=runs/eval-view/ts-recent/beauty-2014
mkdir -p $v
link() {
  [ -e "$2" ] || { echo "view: no $2 (experiments/runs/carry.sh restore, or run what makes it)" >&2; exit 1; }
  [ -e "$v/$1" ] || ln -sfn "$PWD/$2" "$v/$1"
}
link embeddings runs/beauty-2014/embeddings
link semid runs/beauty-2014/semid
link tiger-rqvae-paper runs/beauty-2014/tiger-rqvae-paper-recent20000
