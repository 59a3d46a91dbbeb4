#!/usr/bin/env bash
# Measures what issue "storage by session" targets, side by side in one run:
#   - `tokentop token NAME` and `tokentop list` (and `list --json`) with 1 and
#     with 10,000 saved sessions (file backend, so no Secret Service is needed;
#     bench/token/run.sh compares `token` with a bare keyring read);
#   - the TUI's first frame with a session row on it, at 1 and 10,000 sessions
#     (a pseudo-terminal, 120x40, timed from exec to the first row);
#   - the keeper's throughput: 1,000 sessions whose access tokens live 20 s
#     kept alive for a minute, and the ceiling with all due at once
#     (bench/scale/keepalive; KEEPALIVE=0 skips it, N_KEEP sets the count).
#
#   bench/scale/run.sh [RUNS]        # default 30 runs per command
#
# Commands are timed from python3 (exec to exit, medians, the two sizes
# alternated run by run).
set -euo pipefail

runs="${1:-30}"
big="${N_BIG:-10000}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d -t tokentop-scale.XXXXXX)"
trap 'rm -rf "$work"' EXIT

echo "building..." >&2
(cd "$root" && go build -o "$work/tokentop" . && go build -o "$work/seed" ./bench/scale/seed &&
	go build -o "$work/keepalive" ./bench/scale/keepalive)

echo "seeding 1 and $big sessions (file backend; this takes a while)..." >&2
"$work/seed" -dir "$work/one" -n 1
"$work/seed" -dir "$work/big" -n "$big"
echo "$(nproc) CPUs, $(uname -sr), $runs runs each" >&2

export TOKENTOP_STORAGE=file NO_COLOR=1

row() { # label, ms at 1, ms at big
	printf '%-16s %9s ms  %9s ms  %6.2fx\n' "$1" "$2" "$3" "$(echo "$3 / $2" | bc -l)"
}

# pair runs a command against both config dirs in alternation, $runs times
# each after 3 warm-ups, and prints the medians: on a shared machine the
# load drifts, and alternating lets the drift hit both sides alike (timing
# all runs of one side, then all of the other, gave ratios that moved by
# half from one run of this script to the next).
pair() { # command args... -> "ms-at-1 ms-at-big" (medians)
	python3 - "$runs" "$work/one" "$work/big" "$@" <<'PY'
import os, statistics, subprocess, sys, time
runs, one, big, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
def once(cfg):
    env = dict(os.environ, TOKENTOP_CONFIG_DIR=cfg)
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t0) * 1000
for _ in range(3):
    once(one); once(big)
a, b = [], []
for i in range(runs):
    if i % 2:
        b.append(once(big)); a.append(once(one))
    else:
        a.append(once(one)); b.append(once(big))
print("%.2f %.2f" % (statistics.median(a), statistics.median(b)))
PY
}

printf '%-16s %12s  %12s  %7s   (medians, runs alternated)\n' "" "1 session" "$big sessions" "ratio"
for cmd in "token s00000" "list" "list --json"; do
	# shellcheck disable=SC2086
	read -r a b < <(pair "$work/tokentop" $cmd)
	row "$cmd" "$a" "$b"
done

# The TUI's first frame that shows a session row, on a 120x40 pty.
first_frame() { # config dir -> median ms over 5 runs
	python3 - "$work/tokentop" "$1" <<'PY'
import os, pty, select, statistics, sys, time, fcntl, termios, struct
exe, cfg = sys.argv[1], sys.argv[2]
times = []
for _ in range(5):
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(TOKENTOP_CONFIG_DIR=cfg, TOKENTOP_STORAGE="file", TERM="xterm-256color")
        os.execv(exe, [exe])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    t0, buf, done = time.monotonic(), b"", None
    while time.monotonic() - t0 < 10:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            buf += chunk
            # Answer the queries a real terminal answers (background colour,
            # cursor position), or the program waits for them to time out.
            if b"\x1b]11;?" in chunk:
                os.write(fd, b"\x1b]11;rgb:0000/0000/0000\x1b\\")
            if b"\x1b[6n" in chunk:
                os.write(fd, b"\x1b[1;1R")
            if b"s00000" in buf:
                done = time.monotonic() - t0
                break
    os.write(fd, b"q")
    time.sleep(0.2)
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    if done is not None:
        times.append(done * 1000)
print("%.1f" % statistics.median(times) if times else "n/a")
PY
}
row "TUI first row" "$(first_frame "$work/one")" "$(first_frame "$work/big")"

if [[ "${KEEPALIVE:-1}" != 0 ]]; then
	"$work/keepalive" -n "${N_KEEP:-1000}" -storage file
fi
