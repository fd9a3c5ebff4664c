#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Installs what is missing (Debian packages), configures, builds and runs every test suite.
# Exit code is non-zero on any failure.
#
#   scripts/test.sh                 everything (unit, env, lint, fuzz-replay, and later sim)
#   scripts/test.sh --suite unit    any `meson test` arguments pass through
#   AETHER_BUILD_DIR=dir            build directory (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

builddir=${AETHER_BUILD_DIR:-build}
if [ ! -f "$builddir/build.ninja" ]; then
	meson setup "$builddir" >/dev/null
fi
ninja -C "$builddir"
meson test -C "$builddir" --print-errorlogs "$@"
