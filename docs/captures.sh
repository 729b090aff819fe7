#!/bin/bash
# Terminal captures for the README: real commands against the sandbox in a 100x34 tmux pane.
# Writes search.txt, progress.txt, status.txt and seed.txt to $OUT (default: a temp dir).
# Needs tmux and the project venv (./dev test once).
set -e
WT="$(cd "$(dirname "$0")/.." && pwd)"
S=mamdl-captures
OUT="${OUT:-$(mktemp -d)}"
tmux kill-session -t $S 2>/dev/null || true
$WT/.venv/bin/python -m mamdl.sandbox --port 0 --data-dir $OUT/sb --leecher --payload-scale 18 --satisfy-seconds 20 --announce-interval 2 --rotate-every 0 > $OUT/sb.out 2>$OUT/sb.err &
echo $! > $OUT/sb.pid
for i in $(seq 1 100); do grep -q MAM_ID $OUT/sb.out && break; sleep 0.2; done
tmux new-session -d -s $S -x 100 -y 34
tmux send-keys -t $S "export PATH=$WT/.venv/bin:\$PATH MAMDL_HOME=$OUT/home MAMDL_MIN_INTERVAL=0.05 $(sed 's/^/export /' $OUT/sb.out | tr '\n' ' ' | sed 's/export //g'); clear" Enter
sleep 1
tmux send-keys -t $S "mam search -t dune --no-pick" Enter
sleep 6
tmux capture-pane -p -t $S > $OUT/search.txt
tmux send-keys -t $S "clear; mam get 928341 --download --seed-hours 0.01" Enter
for i in $(seq 1 600); do tmux capture-pane -p -t $S | grep -q "ETA" && break; sleep 0.05; done
tmux capture-pane -p -t $S > $OUT/progress.txt
for i in $(seq 1 60); do tmux capture-pane -p -t $S | grep -q "Complete and verified" && break; sleep 1; done
tmux send-keys -t $S "clear; mam status" Enter
sleep 4
tmux capture-pane -p -t $S > $OUT/status.txt
tmux send-keys -t $S "clear; mam seed" Enter
sleep 8
tmux capture-pane -p -t $S > $OUT/seed.txt
tmux send-keys -t $S C-c
sleep 3
tmux kill-session -t $S
kill $(cat $OUT/sb.pid)
echo "captures in $OUT"
