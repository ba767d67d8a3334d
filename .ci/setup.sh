#!/usr/bin/env bash
# Installs what `make test` and `make demo` need on a fresh Debian machine: redis-server, PostgreSQL,
# nats-server, rabbitmq-server, Docker Engine with docker-compose, Chromium with its driver (apt-get when
# missing) and the virtualenv. `make demo` needs only the first three: SETUP=demo skips the rest. The container
# tests start dockerd themselves when `docker info` fails (.ci/dockerd.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || need_apt+=(nats-server)
if [ "${SETUP:-test}" != demo ]; then
    [ -x /usr/sbin/rabbitmq-server ] || need_apt+=(rabbitmq-server)          # the RabbitMQ tests' private broker
    command -v dockerd >/dev/null 2>&1 || [ -x /usr/sbin/dockerd ] || need_apt+=(docker.io)  # container faults
    command -v docker-compose >/dev/null 2>&1 || need_apt+=(docker-compose)  # docker-compose.yml checks
    [ -x /usr/bin/chromium ] || need_apt+=(chromium)                       # the web UI and report.html tests
    [ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx-light)  # bench endpoint
fi
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: installing ${need_apt[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    python3 -m venv .venv
fi
if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ] || [ setup.py -nt .venv/.installed ]; then
    echo "setup: pip install -e '.[dev]'"
    .venv/bin/pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
    # Quiet the index-location warnings some pip configurations print; real errors still fail the step.
    # --no-compile: pip compiles what it installs one file at a time; compileall below does it on every core.
    .venv/bin/pip install -q --no-compile -e '.[dev]' 2> >(grep -v "is ignored\|BuildBackendWarning\|expand.py\|return '" >&2)
    .venv/bin/python -m compileall -qq -j 0 "$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null || true  # as pip, a file that does not compile is left
    touch .venv/.installed
fi
# Every command, Locust process, embedded-stack component and fault proxy imports this checkout's packages,
# and an editable install leaves them uncompiled. Where PYTHONDONTWRITEBYTECODE is set (CI images, containers),
# Python would compile each module again in every process, which was a tenth of a second or more per process.
# Compiled once here, they are read from __pycache__ (and recompiled in memory only when a source changed).
.venv/bin/python -m compileall -q -j 0 chaos_hooks locust_chaos_systems locustfiles examples tests bench >/dev/null
