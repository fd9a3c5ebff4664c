#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Installs every Debian package Aether needs to build, test and fuzz, when missing.
# Idempotent: a machine that has everything does nothing and exits 0 quickly.
# Usage: scripts/setup.sh [--check]   (--check only reports what is missing)
set -euo pipefail

packages=(
	build-essential meson ninja-build pkg-config python3
	clang llvm libclang-rt-14-dev clang-format clang-tidy
	libcmocka-dev libxxhash-dev liburing-dev libhwloc-dev libnuma-dev
	dpdk-dev libdpdk-dev libssl-dev libyaml-dev
	iproute2 nftables util-linux
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ "${1:-}" = "--check" ]; then
	if [ ${#missing[@]} -eq 0 ]; then
		echo "setup: all packages present"
		exit 0
	fi
	echo "setup: missing: ${missing[*]}"
	exit 1
fi

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "setup: missing packages (${missing[*]}); run as root or install them with apt-get" >&2
	exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=600 -y --no-install-recommends)
# A stale package index on a fresh machine makes installs fail; refresh it once.
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get "${apt_opts[@]}" install "${missing[@]}" >/dev/null
echo "setup: done"
