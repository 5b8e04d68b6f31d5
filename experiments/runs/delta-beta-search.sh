#!/usr/bin/env bash
# δ, then β, of one SpecGR method on valid at its tuned γ, each over a grid that widens
# while the optimum sits at its edge; run after experiments/runs/gamma-search.sh.
#
#   delta-beta-search.sh METHOD OUT_PREFIX GAMMA [specgr eval options: dataset, runs, part, sample ...]
#
# 1. δ over DELTAS (default "10 20 50 100") at γ and β 50, by the method's overall
#    NDCG@50 (report OUT_PREFIX<γ>-d<δ>; δ 50 is the γ search's report OUT_PREFIX<γ> when
#    it is there). A best δ at the grid's top adds 2δ (up to DELTA_MAX, default 400: each
#    doubling doubles the scoring time), at its bottom δ/2 (down to 1).
# 2. β over BETAS (default "20 50 100") at the best δ (report OUT_PREFIX<γ>-d<δ>-b<β>),
#    widened the same way (up to 200, down to 5), unless no query ran a beam step at the
#    best δ (the report's notes say "0 beam steps"): then β has no effect and stays 50.
# Ties go to the default (50), then to the faster setting. Reports are kept, so the same
# command resumes. The last line printed is `TUNED gamma=<γ> delta=<δ> beta=<β>`.
set -euo pipefail
cd "$(dirname "$0")/../.."
method=${1:?usage: delta-beta-search.sh METHOD OUT_PREFIX GAMMA [specgr eval options]}
prefix=${2:?usage: delta-beta-search.sh METHOD OUT_PREFIX GAMMA [specgr eval options]}
gamma=${3:?usage: delta-beta-search.sh METHOD OUT_PREFIX GAMMA [specgr eval options]}
shift 3
S=${SPECGR_BIN:?the specgr binary}
. experiments/runs/torch-env.sh

report() { # δ β -> the report directory of that setting
  if [ "$1" = 50 ] && [ "$2" = 50 ] && [ -f "$prefix$gamma/results.json" ]; then echo "$prefix$gamma"
  elif [ "$2" = 50 ]; then echo "$prefix$gamma-d$1"
  else echo "$prefix$gamma-d$1-b$2"; fi
}
run() { # δ β [specgr eval options]
  local d=$1 b=$2 out; shift 2
  out=$(report "$d" "$b")
  [ -f "$out/results.json" ] && return 0
  echo "== $(date -u +%FT%TZ) $method γ $gamma δ $d β $b"
  # A stopped run's $out.partial stays: a binary with `specgr eval --checkpoint-every`
  # resumes it; an older one writes its report over it.
  # pipefail: the eval's status, not the filter's (which fails when it passes nothing).
  "$S" eval "$@" --methods "$method" --threshold="$gamma" --draft-size "$d" --beam-size "$b" --report "$out.partial" 2>&1 \
    | { grep -v ' WARN \|elapsed' || true; }
  rm -rf "$out" && mv "$out.partial" "$out"
}
# Best value over the reports and the next value to add: `best edge next`.
pick() { # lo hi dirs... (value=dir pairs)
  python3 - "$method" "$@" <<'EOF'
import json, sys
method, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pairs = [a.split("=", 1) for a in sys.argv[4:]]
def row(d):
    r = json.load(open(f"{d}/results.json"))
    x = next(x for x in r["rows"] if x["id"] == method and x["subset"] == "overall")
    if x["ndcg@50"] is None:
        sys.exit(f"{d}: no overall NDCG@50 for {method} (--k below 50?)")
    return x
vs = sorted((int(v), row(d)) for v, d in pairs)
best = max(vs, key=lambda p: (p[1]["ndcg@50"], p[0] == 50, -p[1]["seconds_per_query"]))[0]
values = [v for v, _ in vs]
edge = "low" if best == values[0] else "high" if best == values[-1] else "inside"
nxt = "-"
if edge == "high" and best * 2 <= hi:
    nxt = str(best * 2)
elif edge == "low" and best // 2 >= lo:
    nxt = str(best // 2)
print(best, edge, nxt)
EOF
}

# One widening search over NAME (δ or β) from GRID within [LO, HI]; the other setting
# fixed (β 50 for δ, the best δ for β). Prints the best value last.
search() { # NAME LO HI GRID [specgr eval options]
  local name=$1 lo=$2 hi=$3 grid=$4 v picked best edge next pairs
  shift 4
  while :; do
    pairs=()
    for v in $grid; do
      if [ "$name" = δ ]; then run "$v" 50 "$@" >&2; pairs+=("$v=$(report "$v" 50)")
      else run "$delta" "$v" "$@" >&2; pairs+=("$v=$(report "$delta" "$v")"); fi
    done
    picked=$(pick "$lo" "$hi" "${pairs[@]}")  # a plain assignment: a failing picker stops the search
    read -r best edge next <<<"$picked"
    [ -n "$best" ] || { echo "delta-beta-search: no $name picked" >&2; exit 1; }
    echo "== $method: best $name $best ($edge) over: $grid" >&2
    [ "$edge" != inside ] && [ "$next" != - ] || break
    grid="$grid $next"
  done
  [ "$edge" = inside ] || echo "== $method: the best $name is still at the grid's $edge edge, at the limit of the search" >&2
  echo "$best"
}

delta=$(search δ 1 "${DELTA_MAX:-400}" "${DELTAS:-10 20 50 100}" "$@")
if grep -q '"[^"]*per query[^"]*; 0 beam steps' "$(report "$delta" 50)/results.json"; then
  beta=50
  echo "== $method: no beam step ran at δ $delta: β has no effect, left at 50"
else
  beta=$(search β 5 200 "${BETAS:-20 50 100}" "$@")
fi
echo "TUNED gamma=$gamma delta=$delta beta=$beta"
