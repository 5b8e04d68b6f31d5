# Sourced: `unisrec_snapshot PREFIX` copies the Beauty time split's UniSRec run's best
# model so far (runs/beauty-2014/unisrec: `unisrec.mpk`, written by an atomic rename,
# and its run's last/state.json, which a report records: epochs and samples seen) into
# the evaluation view PREFIX-e<epoch>, beside links to the split's embeddings and IDs,
# so that the run may improve its model meanwhile. Copied again if the run found a new
# best while copying, so that model and state belong together. Sets `epoch` and `view`;
# a view that exists already is kept. Used by ../results/beauty-2014/unisrec-converged/
# partial-test.sh and ../results/beauty-2014/specgr-aux-ts/preview.sh.
unisrec_snapshot() {
  local prefix=$1 run=runs/beauty-2014/unisrec now try part
  best() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["best"][1])' "$1"; }
  epoch=$(best $run/last/state.json)
  view=$prefix-e$epoch
  [ -d "$view" ] && return 0
  for try in 1 2 3; do
    rm -rf "$view.partial" && mkdir -p "$view.partial/beauty-2014/unisrec/last"
    for part in embeddings semid; do ln -s "$PWD/runs/beauty-2014/$part" "$view.partial/beauty-2014/$part"; done
    cp $run/last/state.json "$view.partial/beauty-2014/unisrec/last/"
    cp $run/unisrec.mpk $run/unisrec-config.json $run/inputs-stamp.json "$view.partial/beauty-2014/unisrec/"
    now=$(best $run/last/state.json)
    [ "$now" = "$epoch" ] && break
    rm -rf "$view.partial"
    epoch=$now view=$prefix-e$now
  done
  mv "$view.partial" "$view"
}
