#!/usr/bin/env bash
# Installs everything Airgap needs on a fresh Debian/Ubuntu machine, as root. Idempotent: a second run costs seconds.
#
#   1. Debian packages: docker.io, debootstrap (base image with no registry), wget, zim-tools (ZIM fixtures),
#      chromium (the tests open episode renders in a real browser), tmux (the tests drive `airgap play` in it), python3-venv, python3.11-doc and sqlite3-doc
#      (the task-suite checker re-derives every webqa answer from the original pages).
#   2. dockerd, started in the background when no engine answers.
#   3. .venv with the airgap package (editable) and its test extras.
#   4. The sandbox base image (`airgap sandbox build`) and the bundled offline web (`airgap corpus build-default`);
#      and the browser image (`airgap sandbox build --with browser`; AIRGAP_BROWSER=0 leaves it out).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# --- 1. system packages -------------------------------------------------------------------------------
missing=()
command -v dockerd     >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v wget        >/dev/null 2>&1 || missing+=(wget)
command -v zimwriterfs >/dev/null 2>&1 || missing+=(zim-tools)
command -v chromium    >/dev/null 2>&1 || missing+=(chromium)
command -v tmux        >/dev/null 2>&1 || missing+=(tmux)   # the tests play `airgap play` in a real terminal
[ -d /usr/share/doc/python3.11/html ] || missing+=(python3.11-doc)   # the suite checker re-derives webqa answers
[ -d /usr/share/doc/sqlite3 ] && [ -f /usr/share/doc/sqlite3/lang.html ] || missing+=(sqlite3-doc)   # from these
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "setup: need root to install ${missing[*]} (run with sudo)" >&2; exit 1; }
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" ca-certificates >/dev/null
fi

# --- 2. a running Docker engine -----------------------------------------------------------------------
if ! timeout 20 docker info >/dev/null 2>&1 && pgrep -x dockerd >/dev/null; then
  echo "setup: dockerd is running but does not answer (Docker 20.10 can deadlock under load, moby#46661)." >&2
  echo "       Restart it: pkill dockerd; sleep 3; bash scripts/setup.sh" >&2
  exit 1
fi
if ! timeout 20 docker info >/dev/null 2>&1; then
  say "starting dockerd (log: /var/log/airgap-dockerd.log)"
  (setsid nohup dockerd >/var/log/airgap-dockerd.log 2>&1 &)
  for _ in $(seq 1 60); do timeout 5 docker info >/dev/null 2>&1 && break; sleep 1; done
  timeout 20 docker info >/dev/null 2>&1 || { echo "setup: dockerd did not come up; see /var/log/airgap-dockerd.log" >&2; exit 1; }
fi

# --- 3. the Python environment ------------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.airgap-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "installing airgap and its dependencies into .venv (torch is the CPU build where one is on disk)"
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -m pip install -q -e '.[test,inspect,control]' 2>&1 | grep -v '^WARNING: Location' || true
  # the OpenEnv and TRL bridges' extras (their tests run in CI); torch stays the CPU build already installed (trl needs torch>=2.0)
  .venv/bin/python -m pip install -q -e '.[openenv,trl]' 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -c 'import airgap.sandbox, airgap.corpus, airgap.envs' && touch "$stamp"
fi

# --- 4. the base image and the bundled snapshot -------------------------------------------------------
say "sandbox base image"
.venv/bin/airgap sandbox build
if [ "${AIRGAP_BROWSER:-1}" != 0 ]; then   # Chromium in the sandbox (+0.8 GB, about a minute the first time; seconds after);
  say "browser image (AIRGAP_BROWSER=0 skips it; the browser tests then skip, saying why)"
  .venv/bin/airgap sandbox build --with browser
fi
say "bundled offline web snapshot"
.venv/bin/airgap corpus build-default
say "ready: .venv/bin/airgap --help"
