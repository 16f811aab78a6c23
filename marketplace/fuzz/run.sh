#!/usr/bin/env bash
# Runs every fuzz target of lectern-marketplace for FUZZ_SECONDS (default 60)
# seconds each, one after the other, on one core. Installs cargo-fuzz if it
# is missing (nothing else); needs the nightly toolchain.
#
#   marketplace/fuzz/run.sh                      # all targets
#   FUZZ_SECONDS=600 marketplace/fuzz/run.sh index_update
#
# Extra libFuzzer flags go in FUZZ_ARGS (e.g. FUZZ_ARGS="-max_len=8192").
# A crash stops the script; its input is in marketplace/fuzz/artifacts/<target>/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
seconds="${FUZZ_SECONDS:-60}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lectern/target-fuzz}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(package_read manifest_parse component_interfaces index_update)
fi

# cargo fuzz looks for fuzz/ under the crate it is run from.
cd "$here/.."
for target in "${targets[@]}"; do
    echo "== $target: ${seconds}s"
    # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
    cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -print_final_stats=1 ${FUZZ_ARGS:-}
done
