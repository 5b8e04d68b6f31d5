#!/usr/bin/env bash
# Figure 3 on the Beauty time split, from the reports the γ, δ and β searches wrote on
# the seeded 2,000 valid examples (no new evaluation): for each SpecGR method whose
# search has finished, in-sample and unseen Recall@50 and the seconds per query against
# γ (at δ 50, β 50), against δ (at the tuned γ, β 50) and against β (at the tuned γ and
# δ); for SpecGR-KNN also against γ on the test sample of its γ curves. TIGER and the
# drafter alone, which do not depend on the setting, stand as single
# points at the grid's first value (the γ search's first report ran them beside it).
#
#   SPECGR_BIN=/work/bins/specgr-tch-<rev> experiments/results/beauty-2014/figure3-ts/make.sh
#
# Writes, next to this script, <method>/<sweep>/<setting>=<value>/results.json (copies
# of the reports) and <method>-<sweep>.png
# (`specgr plot sweep`). SPECGR_EVALS (default runs/evals) holds the searches. METHODS
# (default "knn aux pp") names which to redraw: a method's copies are replaced whole
# with what its search directory holds now, so leave out one whose recorded figure
# came from other models (SpecGR-KNN's, of the verifier lost on 2026-12-07).
set -euo pipefail
cd "$(dirname "$0")/../../../.."
S=${SPECGR_BIN:?a specgr binary (for specgr plot sweep)}
# A LibTorch build needs its libraries on the path even to draw.
if python3 -c "import torch" 2>/dev/null; then . experiments/runs/torch-env.sh; fi
E=${SPECGR_EVALS:-runs/evals}
here=experiments/results/beauty-2014/figure3-ts
. experiments/runs/tuned.sh
# NAME:SEARCH pairs: the figure's name and the search's report directory under $E.
# SpecGR++ with the recency fine-tune (../specgr-pp-recent-ts/) and the DSI backbone's
# searches (../table4-ts/) were added on 2026-12-08.
for spec in ${SEARCHES:-specgr-knn:ts-recent-specgr-knn specgr-aux:ts-recent-specgr-aux specgr-pp:ts-recent-specgr-pp \
    specgr-pp-recent:pp-recent-specgr-pp dsi-specgr-knn:t4-dsi-specgr-knn dsi-specgr-aux:t4-dsi-specgr-aux}; do
  m=${spec%%:*}
  src=$E/${spec#*:}
  t=$(tuned $src/search.log || true)
  [ -n "$t" ] || { echo "figure3: the $m search has not finished ($src/search.log); skipped"; continue; }
  read -r g d b <<<"$t"
  out=$here/$m
  rm -rf $out.partial && mkdir -p $out.partial
  add() { # sweep setting value report
    [ -f "$4/results.json" ] || return 0
    mkdir -p "$out.partial/$1/$2=$3" && cp "$4/results.json" "$out.partial/$1/$2=$3/"
  }
  for r in $src/valid-g*; do
    v=${r##*/valid-g}
    case $v in *-d*) ;; *) add gamma threshold "$v" "$r" ;; esac
  done
  # δ at the tuned γ, β 50: the γ search's report is δ 50.
  add delta draft-size 50 "$src/valid-g$g"
  for r in $src/valid-g$g-d*; do
    v=${r##*-d}
    case $v in *-b*) ;; *) add delta draft-size "$v" "$r" ;; esac
  done
  # β at the tuned γ and δ: β 50 is that δ's report.
  if [ "$d" = 50 ]; then add beta beam-size 50 "$src/valid-g$g"; else add beta beam-size 50 "$src/valid-g$g-d$d"; fi
  for r in $src/valid-g$g-d$d-b*; do add beta beam-size "${r##*-b}" "$r"; done
  # γ on the seeded 2,000 test examples of the γ curves (a diagnostic run after the
  # test, `../specgr-knn-recent-ts/gamma-curve.sh`; SpecGR-KNN only): with the paper's
  # rule and with all-digits normalisation.
  for r in $src/test-curve/g*; do [ -d "$r" ] && add gamma-test threshold "${r##*/g}" "$r"; done
  for r in $src-all/test-curve/g*; do [ -d "$r" ] && add gamma-test-all-digits threshold "${r##*/g}" "$r"; done
  rm -rf $out && mv $out.partial $out
  for sweep in gamma delta beta gamma-test gamma-test-all-digits; do
    [ -d $out/$sweep ] || continue
    n=$(ls $out/$sweep | wc -l)
    if [ "$n" -lt 2 ]; then echo "figure3: $m $sweep has $n point(s); not drawn"; continue; fi
    "$S" plot sweep $out/$sweep --out $here/$m-$sweep.png
  done
  echo "figure3: $m (tuned γ $g δ $d β $b) drawn"
done
