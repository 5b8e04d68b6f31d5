#!/usr/bin/env bash
# The run's best-on-valid checkpoint so far on the full leave-one-out test (22,363
# users), beside SemanticKNN on the same users, while the run goes on: copies `best/`
# aside (as runs/beauty-2014-loo/frozen/bs256-best-e<epoch>/best, a run directory of its
# own; retried if the run replaces it meanwhile), links it into a view (runs/eval-view/loo-bs256-e<epoch>) and evaluates
# TIGER (constrained beam search, β 20) and SemanticKNN at K = 10, float32, into
# test-e<epoch>/ here. Nothing is done if that report exists.
#
#   SPECGR_BIN=target/release/specgr experiments/results/beauty-2014-loo/tiger-paper-bs256/test-best.sh
#
# RUN and TAG test another run the same way: the cool-down fork (`cooldown.sh` here) is
# RUN=runs/beauty-2014-loo/tiger-rqvae-paper-bs256-cool2 TAG=cool2, whose frozen copies,
# view and report are named bs256-cool2-best-e<epoch>, loo-bs256-cool2-e<epoch> and
# test-cool2-e<epoch>/ (its epochs count from 0 again; its examples from the fork point).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
B=${SPECGR_BIN:-target/release/specgr}
RUN=${RUN:-runs/beauty-2014-loo/tiger-rqvae-paper-bs256}
TAG=${TAG:+$TAG-}
. experiments/runs/torch-env.sh
export OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1 SPECGR_DATA=${SPECGR_DATA:-../shared/data}
read -r epoch valid <<<"$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["best"][1], s["best"][0])' $RUN/last/state.json)"
here=experiments/results/beauty-2014-loo/tiger-paper-bs256
out=$here/test-${TAG}e$epoch
[ -f $out/results.json ] && { echo "test-best: $out exists"; exit 0; }
frozen=runs/beauty-2014-loo/frozen/bs256-${TAG}best-e$epoch
if [ ! -d $frozen ]; then
  mkdir -p "$(dirname $frozen)"
  for try in 1 2 3 4 5; do
    before=$(stat -c %Y $RUN/best/model.mpk)
    rm -rf $frozen.tmp && mkdir -p $frozen.tmp && cp -r $RUN/best $frozen.tmp/best
    [ "$(stat -c %Y $RUN/best/model.mpk)" = "$before" ] && break
    echo "test-best: best/ changed while copying; again"; sleep 30
  done
  # The copy must be the epoch the state names: its best/ is rewritten only when valid improves.
  now=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["best"][1])' $RUN/last/state.json)
  [ "$now" = "$epoch" ] || { echo "test-best: the best epoch moved to $now while copying; run again" >&2; rm -rf $frozen.tmp; exit 1; }
  mv $frozen.tmp $frozen
fi
view=runs/eval-view/loo-bs256-${TAG}e$epoch/beauty-2014-loo
mkdir -p $view
for part in embeddings semid; do [ -e $view/$part ] || ln -s "$PWD/runs/beauty-2014-loo/$part" $view/$part; done
[ -e $view/tiger-rqvae-paper ] || ln -s "$PWD/$frozen" $view/tiger-rqvae-paper
seen=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["validation_samples"][int(sys.argv[2])])' $RUN/last/state.json $epoch)
echo "== $(date -u +%FT%TZ) test of $RUN epoch $epoch's best (valid R@10 $valid, $seen examples seen) with $B"
"$B" eval --dataset beauty-2014-loo --runs runs/eval-view/loo-bs256-${TAG}e$epoch --ids rqvae --preset paper --part test \
  --methods tiger,semantic-knn --k 10 --beam-size 20 --report $out.partial
rm -rf $out && mv $out.partial $out
grep -E "^\| (Tiger|TIGER|SemanticKNN|Semantic)" $out/results.md | head -2
