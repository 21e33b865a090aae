#!/usr/bin/env bash
# Installs moto in server mode (scripts/moto-requirements.txt: exact versions, every file
# hash-pinned) into the project-local virtual environment .tools/moto-venv, and prints the
# path of its moto_server. Idempotent: a venv built from the same requirements is kept.
# Safe to run concurrently (parallel jest workers, .ci/run): one installs, the others wait
# on a lock and then find it done.
#
#   bash scripts/setup-moto.sh            # install if needed, print .../bin/moto_server
#
# Needs python3 (3.11 or newer: the pinned networkx 3.6 requires it) with the venv module
# (Debian: apt-get install python3-venv). Set SPLIT_STORE_PYTHON to use another interpreter.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/scripts/moto-requirements.txt"
tools="$root/.tools"
venv="$tools/moto-venv"
python="${SPLIT_STORE_PYTHON:-python3}"

mkdir -p "$tools"
exec 9>"$tools/moto-venv.lock"
flock 9

if ! "$python" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "setup-moto: $python is missing, older than 3.11, or has no venv module: install Python 3.11+ with venv (Debian: apt-get install python3 python3-venv) or point SPLIT_STORE_PYTHON at one" >&2
  exit 1
fi

# The stamp names what the venv was built from: these requirements and this interpreter.
want="$(sha256sum "$requirements" | cut -d' ' -f1) $("$python" -c 'import sys; print(sys.version.split()[0])')"
if [ -x "$venv/bin/moto_server" ] && [ "$(cat "$venv/.installed-from" 2>/dev/null)" = "$want" ]; then
  echo "$venv/bin/moto_server"
  exit 0
fi

rm -rf "$venv"
"$python" -m venv "$venv" >&2
# --require-hashes: every distribution must match a pinned sha256; --no-deps: the file lists
# the whole tree, nothing is resolved at install time; --no-compile: Python compiles what moto
# imports when it first starts, not every module of every package now.
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --require-hashes --no-deps --no-compile -r "$requirements" >&2; then
  rm -rf "$venv"
  echo "setup-moto: pip could not install $requirements (see above)" >&2
  exit 1
fi
echo "$want" >"$venv/.installed-from"
echo "$venv/bin/moto_server"
