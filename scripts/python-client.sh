#!/usr/bin/env bash
# The Python client (clients/python): type-check, test, build the wheel, install it fresh.
#
# 1. a project-local venv, .tools/venv-python-client, with the exact versions of
#    clients/python/requirements-dev.txt (made again whenever that file changes);
# 2. the package installed into it (not editable: the tests import what the wheel carries,
#    protocol/limits.json included);
# 3. mypy --strict over the package and its tests;
# 4. pytest: unit tests on moto's in-process AWS and botocore's Stubber, and the shared
#    conformance vectors of protocol/vectors/ (no server, no network);
# 5. the wheel built into dist/python-client/, installed into a fresh venv of the oldest
#    supported Python found here (3.10 if present), and imported there.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
venv="$root/.tools/venv-python-client"
requirements="$root/clients/python/requirements-dev.txt"
python=${PYTHON:-python3}
start=$(date +%s)
say() { printf '[python-client t+%ss] %s\n' "$(( $(date +%s) - start ))" "$*"; }

"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "the Python client needs Python 3.10 or later, found " + sys.version)'

stamp="$venv/.requirements.sha256"
if [ ! -x "$venv/bin/python" ] || ! (cd "$root" && sha256sum --status -c "$stamp" 2>/dev/null); then
  say "creating $venv from clients/python/requirements-dev.txt"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$requirements"
  "$venv/bin/python" -m pip check
  (cd "$root" && sha256sum clients/python/requirements-dev.txt > "$stamp")
fi
"$venv/bin/python" --version

say "install the package"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation --force-reinstall ./clients/python

say "mypy --strict"
(cd clients/python && "$venv/bin/mypy")

say "pytest"
(cd clients/python && "$venv/bin/pytest" -p no:cacheprovider)

say "build the wheel"
rm -rf dist/python-client
mkdir -p .tmp
if ! "$venv/bin/python" -m build --wheel --no-isolation --outdir dist/python-client clients/python >.tmp/python-client-build.log 2>&1; then
  cat .tmp/python-client-build.log; echo "building the wheel failed"; exit 1
fi
wheel=$(ls dist/python-client/*.whl)
ls -l "$wheel"

# The oldest Python the package supports, if this machine has it (pyenv keeps versions that
# its shims do not expose unless selected).
oldest=$python
for candidate in python3.10 $(ls -d "$(pyenv root 2>/dev/null || echo /nonexistent)"/versions/3.10*/bin/python3.10 2>/dev/null); do
  if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then oldest=$candidate; break; fi
done
say "install the wheel into a fresh venv ($("$oldest" --version 2>&1))"
check="$root/.tmp/venv-python-client-wheel"
rm -rf "$check"
"$oldest" -m venv "$check"
# The wheel's dependencies at the versions the tests used.
"$check/bin/python" -m pip install --quiet --disable-pip-version-check -c "$requirements" "$wheel"
(cd "$root/.tmp" && "$check/bin/python" - <<'PY'
import importlib.resources
import cdk_split_store_client as c
from cdk_split_store_client._limits import LIMITS
files = importlib.resources.files("cdk_split_store_client")
assert files.joinpath("py.typed").is_file(), "py.typed missing from the wheel"
assert files.joinpath("limits.json").is_file(), "limits.json missing from the wheel"
print(f"wheel ok: cdk_split_store_client from {c.__file__}, max part key {LIMITS.max_s3_key_bytes} bytes")
PY
)
rm -rf "$check"
say "done"
