#!/usr/bin/env bash
# One entry point for a fresh Debian/Ubuntu machine (as root or with sudo):
#   ./run.sh demo   set everything up, then run the main job on the bundled samples
#   ./run.sh test   set everything up, then run the test suite
# Setting up means: the graphviz `dot` binary (apt-get, only when missing), a virtual
# environment in .venv, and cscmining installed into it with its test dependencies. `test`
# also installs headless Chromium (apt-get, only when missing), in which the suite opens the
# HTML report offline; where the system has no Chromium package (Ubuntu ships it as a snap)
# it says so and that one check is skipped instead of failing the run.
set -euo pipefail
cd "$(dirname "$0")"
mode="${1:-demo}"
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
apt_install() { DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null; }
has_browser() {
  command -v chromium || command -v chromium-browser || command -v google-chrome
} >/dev/null 2>&1

need_apt=()
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)
if ! command -v python3 >/dev/null 2>&1; then
  need_apt+=(python3 python3-venv)
elif ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  need_apt+=(python3-venv)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  $sudo apt-get update -qq
  apt_install "${need_apt[@]}"
fi
# the browser is for one test only: failing to get it (no package, no network) is said, not fatal
install_browser() {
  { [ ${#need_apt[@]} -gt 0 ] || $sudo apt-get update -qq; } && apt_install --no-install-recommends chromium
}
if [ "$mode" = test ] && ! has_browser && ! install_browser; then
  echo "run.sh: Chromium could not be installed here; the offline-rendering test will be skipped" >&2
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

case "$mode" in
  demo) shift || true; exec .venv/bin/cscmining demo "$@" ;;
  test) shift || true
        # a browser that is installed must be found: the check may not skip silently
        if has_browser; then export CSCMINING_REQUIRE_BROWSER=1; fi
        exec .venv/bin/python -m pytest -q "$@" ;;
  *) echo "usage: ./run.sh demo|test [args...]" >&2; exit 2 ;;
esac
