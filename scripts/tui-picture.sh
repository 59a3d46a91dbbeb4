#!/bin/sh
# tui-picture.sh makes docs/tui.png, the README's picture of the TUI, from a
# real run of `tokentop demo`: it runs the demo in a detached tmux session,
# waits until the keeper has refreshed a session, captures the pane with its
# colours (tmux capture-pane -e) and renders that to PNG with
# charmbracelet/freeze. freeze is built in a temporary directory, never as a
# dependency of this module: from a throw-away module that requires freeze
# v0.2.2 with a newer wazero, because the wazero v0.2.2 pins (v1.8.0)
# crashes with a segmentation fault when freeze writes a PNG under Go 1.26.
#
# Usage: scripts/tui-picture.sh [OUT.png]   (default docs/tui.png)
# Needs: go, tmux.
set -eu

cd "$(dirname "$0")/.."
out=${1:-docs/tui.png}
freeze_version=v0.2.2
cols=120
rows=16

tmp=$(mktemp -d)
session="tokentop-picture-$$"
cleanup() {
	tmux -L "$session" kill-server 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

echo "building tokentop and installing freeze $freeze_version into $tmp" >&2
go build -o "$tmp/tokentop" .
mkdir "$tmp/freeze-build"
(
	cd "$tmp/freeze-build"
	printf 'module freezebuild\n\ngo 1.26\n' >go.mod
	go get "github.com/charmbracelet/freeze@$freeze_version" github.com/tetratelabs/wazero@v1.12.0
	go build -o "$tmp/freeze" github.com/charmbracelet/freeze
) >&2

# A server of its own (-L), so the user's tmux and its settings are left
# alone; a 256-colour terminal so the demo draws its colours.
tmux -L "$session" -f /dev/null new-session -d -s demo -x "$cols" -y "$rows" \
	env TERM=xterm-256color COLORTERM=truecolor "$tmp/tokentop" demo --access-ttl 20s --refresh-ttl 5m
tmux -L "$session" set-option -t demo status off >/dev/null

# Wait (at most 60 s) for a refresh to show: some LAST REFRESH is no longer
# "never", so the picture shows the demo at work rather than its first frame.
i=0
until tmux -L "$session" capture-pane -p -t demo | grep -q 'acme-admin.* ago *$'; do
	i=$((i + 1))
	if [ "$i" -gt 120 ]; then
		echo "tui-picture: no refresh on screen after 60 s; the pane:" >&2
		tmux -L "$session" capture-pane -p -t demo >&2
		exit 1
	fi
	sleep 0.5
done
sleep 1 # let the status line settle on the refresh

tmux -L "$session" capture-pane -p -e -t demo >"$tmp/pane.ans"
tmux -L "$session" send-keys -t demo q
mkdir -p "$(dirname "$out")"
"$tmp/freeze" "$tmp/pane.ans" --language ansi -o "$out" >&2
chmod 644 "$out"
echo "wrote $out" >&2
