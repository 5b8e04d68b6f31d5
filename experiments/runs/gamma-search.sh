#!/usr/bin/env bash
# γ of one SpecGR method on valid, searched over a grid that widens while the optimum sits
# at its edge (the issue's "extend the grid until the optimum is inside it").
#
#   gamma-search.sh METHOD OUT_PREFIX [specgr eval options: dataset, runs, part, sample ...]
#
# Runs `$SPECGR_BIN eval ... --methods METHOD --threshold=γ --report OUT_PREFIXγ` for each γ
# of GRID (default "-3 -1.4 -6 -10"); the first γ also runs FIRST_METHODS (comma-separated,
# e.g. the drafter and TIGER alone on the same examples). It then picks the γ with the best
# overall NDCG@50 of METHOD and, while that is the grid's lowest γ, adds 1.5× it (down to
# LOW, default −20), or while it is the highest, adds it / 1.5 (up to HIGH, default −0.6).
# Ties go to the γ nearer the middle of the grid: below the lowest useful γ every draft is
# accepted and the lists stop changing, and a plateau must not widen the grid forever.
# A γ whose report exists is not run again, so the same command resumes after a kill.
# The last line printed is `GAMMA=<best> (<inside|low|high>)`.
set -euo pipefail
cd "$(dirname "$0")/../.."
method=${1:?usage: gamma-search.sh METHOD OUT_PREFIX [specgr eval options]}
prefix=${2:?usage: gamma-search.sh METHOD OUT_PREFIX [specgr eval options]}
shift 2
S=${SPECGR_BIN:?the specgr binary}
. experiments/runs/torch-env.sh
grid=${GRID:--3 -1.4 -6 -10}
first=${FIRST_METHODS:+$FIRST_METHODS,}
while :; do
  # Only the first report of the search carries FIRST_METHODS: none of the grid's yet.
  fresh=1
  for g in $grid; do [ -f "$prefix$g/results.json" ] && fresh=; done
  for g in $grid; do
    out=$prefix$g
    [ -f "$out/results.json" ] && continue
    methods=$method
    [ -n "$first" ] && [ -n "$fresh" ] && methods=$first$method
    fresh=
    echo "== $(date -u +%FT%TZ) $method γ $g"
    # A stopped run's $out.partial stays: a binary with `specgr eval --checkpoint-every`
    # resumes it; an older one writes its report over it.
    "$S" eval "$@" --methods "$methods" --threshold="$g" --report "$out.partial"
    rm -rf "$out" && mv "$out.partial" "$out"
  done
  # A plain assignment, so that a failing picker stops the search (set -e).
  picked=$(python3 - "$method" "$prefix" "${LOW:--20}" "${HIGH:--0.6}" $grid <<'EOF'
import json, sys
method, prefix, low, high = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
# Each γ as spelled in the grid (its report's name) and as a number.
gs = sorted({float(g): g for g in sys.argv[5:]}.items())
def n50(spelled):
    r = json.load(open(f"{prefix}{spelled}/results.json"))
    v = next(x["ndcg@50"] for x in r["rows"] if x["id"] == method and x["subset"] == "overall")
    if v is None:
        sys.exit(f"{prefix}{spelled}: no overall NDCG@50 for {method} (--k below 50?)")
    return v
mid = (len(gs) - 1) / 2
i = max(range(len(gs)), key=lambda i: (n50(gs[i][1]), -abs(i - mid)))
best, spelled = gs[i]
edge = "low" if i == 0 else "high" if i == len(gs) - 1 else "inside"
nxt = "-"
if edge == "low" and best * 1.5 >= low:
    nxt = f"{best * 1.5:g}"
elif edge == "high" and best / 1.5 <= high:
    nxt = f"{best / 1.5:.2g}"
print(spelled, edge, nxt)
EOF
)
  read -r best edge next <<<"$picked"
  [ -n "$best" ] || { echo "gamma-search: no γ picked" >&2; exit 1; }
  echo "== $(date -u +%FT%TZ) $method: best γ $best ($edge) over: $grid"
  [ "$edge" != inside ] && [ "$next" != - ] || break
  grid="$grid $next"
done
[ "$edge" = inside ] || echo "== $method: the best γ is still at the grid's $edge edge, at the limit of the search"
echo "GAMMA=$best ($edge)"
