#!/usr/bin/env bash
# Makes a Docker Engine answer on this machine, for the container tests: installs docker.io and docker-compose
# (Debian's 1.29) when missing, starts dockerd in the background when `docker info` fails, and waits until it
# answers. Idempotent: a daemon that already answers is left alone; concurrent callers start at most one.
# dockerd runs with vfs and no iptables/default bridge because this machine may lack overlayfs-on-overlay and
# netfilter; user-defined bridge networks still work. No registry is reachable here: images are built locally.
#   DOCKERD_STATE  directory for dockerd.log, dockerd.pid and the start lock (default /var/tmp/locust-chaos-dockerd)
#   DOCKERD_WAIT   seconds to wait for the daemon to answer (default 60)
set -euo pipefail

state=${DOCKERD_STATE:-/var/tmp/locust-chaos-dockerd}
wait_s=${DOCKERD_WAIT:-60}
mkdir -p "$state"
log=$state/dockerd.log
pidfile=$state/dockerd.pid

need_apt=()
command -v dockerd >/dev/null 2>&1 || [ -x /usr/sbin/dockerd ] || need_apt+=(docker.io)
command -v docker-compose >/dev/null 2>&1 || need_apt+=(docker-compose)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "dockerd.sh: installing ${need_apt[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    # Install from the cached lists first; refresh them only when that fails (a fresh machine has none).
    apt-get install -y -qq "${need_apt[@]}" >/dev/null 2>&1 || {
        apt-get update -qq
        apt-get install -y -qq "${need_apt[@]}" >/dev/null
    }
fi
PATH=$PATH:/usr/sbin:/sbin

answers() { timeout 10 docker info >/dev/null 2>&1; }
answers && exit 0

# One caller starts the daemon; the others wait on the lock and then find it answering.
exec 9>"$state/start.lock"
flock 9

alive() { [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }
started=
if ! answers && ! alive; then
    rm -f "$pidfile"
    echo "dockerd.sh: starting dockerd (log $log)"
    # setsid: the daemon outlives the shell, test session or job group that happened to start it.
    setsid dockerd --storage-driver=vfs --iptables=false --ip-masq=false --bridge=none \
        --pidfile "$pidfile" >>"$log" 2>&1 </dev/null &
    started=$!
fi

deadline=$((SECONDS + wait_s))
until answers; do
    if [ $SECONDS -ge $deadline ]; then
        echo "dockerd.sh: docker info did not answer within ${wait_s}s; last lines of $log:" >&2
        tail -n 15 "$log" >&2 || true
        exit 1
    fi
    if [ -n "$started" ] && ! kill -0 "$started" 2>/dev/null; then
        echo "dockerd.sh: dockerd exited before answering; last lines of $log:" >&2
        tail -n 15 "$log" >&2 || true
        exit 1
    fi
    sleep 0.5
done
echo "dockerd.sh: docker info answers"
