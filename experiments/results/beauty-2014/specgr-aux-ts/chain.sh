#!/usr/bin/env bash
# SpecGR_Aux's γ on valid as soon as UniSRec's run (../unisrec-converged/, "Rerun") has
# reached its early stop, unattended: wait until `runs/beauty-2014/unisrec` holds a
# finished model (its identity stamp names the embeddings instead of "unfinished") and its
# lock is free (experiments/runs/run-lock.sh), link it into the time-split view (runs/eval-view/ts-cool2-e8, made by
# ../tiger-paper-bs128/rerun-2026-12-06/chain.sh), run tune.sh over the grid, and widen
# the grid while the best overall NDCG@50 sits at its edge (down to γ −20, up to −0.6).
# Prints the γ to give test.sh. Each γ's report is kept, so the same command resumes:
#
#   SPECGR_BIN=/work/bins/specgr-tch-5c6eecf nohup experiments/results/beauty-2014/specgr-aux-ts/chain.sh \
#     >> runs/beauty-2014/logs/specgr-aux-chain.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/../../../.."
export SPECGR_BIN=${SPECGR_BIN:?the binary} RAYON_NUM_THREADS=1
U=runs/beauty-2014/unisrec
view=runs/eval-view/ts-cool2-e8/beauty-2014
[ -e $view/tiger-rqvae-paper ] || { echo "no view $view (run the TIGER rerun's chain.sh first)" >&2; exit 1; }
finished() { [ -f $U/inputs-stamp.json ] && ! grep -q '"unfinished"' $U/inputs-stamp.json; }
. experiments/runs/run-lock.sh
until finished && ! run_held $U; do sleep 60; done
echo "== $(date -u +%FT%TZ) UniSRec finished: $(python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print("epochs", s["epochs_done"], "best", s["best"], "stopped early", s["stopped_early"])' $U/last/state.json)"
[ -e $view/unisrec ] || ln -s "$PWD/$U" $view/unisrec
grid="-3 -1.4 -6 -10"
while :; do
  GAMMAS="$grid" experiments/results/beauty-2014/specgr-aux-ts/tune.sh
  # The best γ by SpecGR_Aux's overall NDCG@50 and whether it sits at an edge of the grid.
  read -r best edge <<<"$(python3 - $grid <<'EOF'
import json, sys
gs = sorted(float(g) for g in sys.argv[1:])
def n50(g):
    r = json.load(open(f"runs/evals/ts-specgr-aux/valid-g{g:g}/results.json"))
    return next(x["ndcg@50"] for x in r["rows"] if x["id"] == "specgr-aux" and x["subset"] == "overall")
# Ties (below the lowest useful γ every draft is accepted and the lists stop changing)
# go to the γ nearer the middle of the grid, so that a plateau does not widen it forever.
mid = (len(gs) - 1) / 2
best = max(gs, key=lambda g: (n50(g), -abs(gs.index(g) - mid)))
print(f"{best:g}", "low" if best == gs[0] else "high" if best == gs[-1] else "inside")
EOF
)"
  echo "== $(date -u +%FT%TZ) best γ $best ($edge) over: $grid"
  case $edge in
    low) next=$(python3 -c "import sys; g=float(sys.argv[1]); print(f'{g*1.5:g}')" $best)
         python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= -20 else 1)" $next || break ;;
    high) next=$(python3 -c "import sys; g=float(sys.argv[1]); print(f'{g/1.5:.2g}')" $best)
          python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= -0.6 else 1)" $next || break ;;
    *) break ;;
  esac
  grid="$grid $next"
done
[ "$edge" = inside ] || echo "== the best γ is still at the grid's $edge edge, at the limit of the search"
echo "== $(date -u +%FT%TZ) tuned: GAMMA=$best experiments/results/beauty-2014/specgr-aux-ts/test.sh"
