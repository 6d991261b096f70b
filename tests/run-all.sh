#!/usr/bin/env bash
# Runs procd's whole test suite on a fresh machine.
# Installs what the tests need by itself: a Python venv (.venv) with the reference
# supervisor==4.3.0 and superlance, used by the differential and compatibility tests, prometheus_client
# and PyYAML for the deployment tests, and (through tests/browser/run.sh) Chromium, node and
# playwright-core for the web UI's browser tests.
# The tests that need the reference sit behind each package's `reference` feature, enabled here: a
# plain `cargo test --workspace` (Rust alone) lists them as ignored instead.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

venv="$root/.venv"
# prometheus_client parses /metrics with a real Prometheus text parser; PyYAML checks the deploy/ YAML.
if ! "$venv/bin/python" -c 'import supervisor, superlance, prometheus_client, yaml, sys; from importlib.metadata import version; sys.exit(version("supervisor") != "4.3.0")' 2>/dev/null; then
  echo "==> creating $venv with supervisor==4.3.0, superlance, prometheus_client and PyYAML"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check supervisor==4.3.0 superlance prometheus_client pyyaml
fi
export PROCD_TEST_PYTHON="$venv/bin/python"
export PROCD_TEST_PYTHON_BIN_DIR="$venv/bin"

echo "==> building"
cargo build --workspace --bins --features reference --quiet
export PROCD_BIN="$root/target/debug/procd"
status=0

# The benchmark's smoke mode: procd and supervisord side by side on small sizes. It fails only on real
# errors (a daemon that does not start, a failed call, lost bytes), never on timing.
echo "==> benchmark smoke test (procd-bench --quick)"
"$root/target/debug/procd-bench" --quick --procd "$PROCD_BIN" \
  --supervisord "$venv/bin/supervisord" --out "$root/target/bench-smoke" || status=$?

# The static build (musl: one self-contained binary, see docs/performance.md) goes through the same smoke
# test. It needs rustup's musl target; where that cannot be installed the step says so and is skipped.
musl="$(uname -m)-unknown-linux-musl"
echo "==> static build ($musl) smoke test"
if rustup target list --installed 2>/dev/null | grep -qx "$musl" || rustup target add "$musl" >/dev/null 2>&1; then
  cargo build --target "$musl" -p procd --quiet
  "$root/target/debug/procd-bench" --quick --only procd --procd "$root/target/$musl/debug/procd" \
    --out "$root/target/bench-smoke-static" || status=$?
else
  echo "    SKIPPED: rustup could not install the $musl target"
fi

# The web UI in headless Chromium (installs chromium, node and playwright-core when missing; fails when
# it cannot, unless PROCD_SKIP_BROWSER_TESTS=1 says to skip them).
echo "==> web UI browser tests (headless Chromium)"
"$root/tests/browser/run.sh" || status=$?

echo "==> tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --features reference --no-fail-fast "$@" || status=$?
else
  cargo test --workspace --features reference --no-fail-fast "$@" || status=$?
fi

exit $status
