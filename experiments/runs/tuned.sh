# Sourced by the scripts that wait for a search of experiments/runs/tune-specgr.sh:
# `tuned LOG` prints `GAMMA DELTA BETA` when LOG (the search's search.log) ends in the
# search's result line `TUNED gamma=… delta=… beta=…`, and nothing while the search
# runs or before it starts.
tuned() {
  [ -f "$1" ] || return 0
  tail -n 1 "$1" | sed -n 's/^TUNED gamma=\([^ ]*\) delta=\([^ ]*\) beta=\([^ ]*\)$/\1 \2 \3/p'
}
