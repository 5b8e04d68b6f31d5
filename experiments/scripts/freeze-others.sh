#!/bin/bash
# Runs "$@" while other work that would share the cores is stopped with SIGSTOP
# (re-checked every 5 s) and continues it afterwards, also on error or Ctrl-C: every
# `cargo` and `rustc`, and processes whose command line starts with a path matching
# FREEZE_PATHS (an extended regex; default: nothing more), e.g. a helper session's
# test binaries. Used around train-throughput.sh (which pauses the TIGER trainings
# itself):
#
#   FREEZE_PATHS='^/work/h-a-target/' experiments/scripts/freeze-others.sh experiments/scripts/train-throughput.sh
#
# Match by exact process name or path prefix only: a pattern such as `cargo` anywhere in
# a command line also matches tool processes whose environment mentions ~/.cargo.
pat=${FREEZE_PATHS:-}
others() { pgrep -x 'cargo|rustc'; [ -z "$pat" ] || pgrep -f "$pat"; }
stopped=/tmp/freeze-stopped.$$
: > $stopped
( while true; do
    for p in $(others); do
      [ "$p" = $$ ] && continue
      kill -STOP "$p" 2>/dev/null && echo "$p" >> $stopped
    done
    sleep 5
  done ) &
loop=$!
cleanup() { kill $loop 2>/dev/null; sleep 1; for p in $(sort -u $stopped) $(others); do kill -CONT "$p" 2>/dev/null; done; echo "== continued $(sort -u $stopped | wc -l) processes" >&2; rm -f $stopped; }
trap cleanup EXIT
trap 'exit 130' INT TERM
"$@"
