# Sourced by the run scripts here: whether a run directory's lock is held, asked of the
# lock itself. recdata::RunLock holds an advisory `flock` on `<dir>/.lock` for as long
# as its process lives (the OS releases it when the process exits or is killed), so a
# free lock means no process trains in `dir`, without trusting a PID that may be reused.
# `run_pid DIR` is the holder's PID as the lock file names it (to signal it).
run_held() { [ -e "$1/.lock" ] && ! flock -n "$1/.lock" true 2>/dev/null; }
run_pid() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$1/.lock" 2>/dev/null || true; }
