#!/usr/bin/env bash
# One entry point for a fresh Debian/Ubuntu machine (as root or with sudo):
#   ./run.sh demo   set everything up, then run the main job on the bundled samples
#   ./run.sh test   set everything up, then run the test suite
# Setting up means: the graphviz `dot` binary (apt-get, only when missing), a virtual
# environment in .venv, and cscmining installed into it with its test dependencies.
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)
if ! command -v python3 >/dev/null 2>&1; then
  need_apt+=(python3 python3-venv)
elif ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  need_apt+=(python3-venv)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.cscmining-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  # (pip's notes about local package indexes of this machine's own config are not ours)
  .venv/bin/python -m pip install -q --upgrade pip 2> >(grep -v '^WARNING: Location' >&2) >/dev/null
  .venv/bin/python -m pip install -q -e '.[test]' 2> >(grep -v '^WARNING: Location' >&2)
  touch "$stamp"
fi

case "${1:-demo}" in
  demo) shift || true; exec .venv/bin/cscmining demo "$@" ;;
  test) shift || true; exec .venv/bin/python -m pytest -q "$@" ;;
  *) echo "usage: ./run.sh demo|test [args...]" >&2; exit 2 ;;
esac
