#!/usr/bin/env bash
# The web UI's browser tests: procd's pages in headless Chromium (Debian's `chromium` package) driven by
# playwright-core from npm, which uses that system browser (Playwright's own browser downloads are not
# used). Installs what it needs on a fresh machine: chromium and node with apt-get when missing, then
# `npm ci` here. Screenshots go to target/browser-artifacts/.
#
# A browser or node that cannot be installed fails the run. PROCD_SKIP_BROWSER_TESTS=1 skips the tests,
# saying so. PROCD_BIN names the procd binary (default target/debug/procd, which must be built).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ "${PROCD_SKIP_BROWSER_TESTS:-}" = 1 ]; then
  echo "    SKIPPED: PROCD_SKIP_BROWSER_TESTS=1, the web UI's browser tests did not run"
  exit 0
fi

fail() {
  echo "    FAILED: $*" >&2
  echo "    (set PROCD_SKIP_BROWSER_TESTS=1 to skip the browser tests knowingly)" >&2
  exit 1
}

updated=
apt_install() {
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null && sudo -n true 2>/dev/null || return 1
    sudo=(sudo -n)
  fi
  if [ -z "$updated" ]; then
    "${sudo[@]}" apt-get update -qq || return 1
    updated=1
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

browser=${PROCD_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$browser" ]; then
  echo "    installing chromium (apt-get)"
  apt_install chromium || fail "could not install chromium with apt-get (not root, or no Debian mirror)"
  [ -x "$browser" ] || fail "chromium installed but $browser does not exist"
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "    installing node and npm (apt-get)"
  apt_install nodejs npm || fail "could not install nodejs and npm with apt-get"
fi
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 18 ] || fail "node $(node --version) is too old (playwright-core needs 18 or later)"

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || fail "npm ci in tests/browser failed"

export PROCD_BIN="${PROCD_BIN:-$root/target/debug/procd}"
export PROCD_CHROMIUM="$browser"
[ -x "$PROCD_BIN" ] || fail "$PROCD_BIN is not built (cargo build -p procd)"
cd "$here"
node --test webui.test.mjs
echo "    screenshots: $root/target/browser-artifacts/"
