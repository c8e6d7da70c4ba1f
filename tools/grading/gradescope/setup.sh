#!/usr/bin/env bash
# setup.sh - Gradescope runs this once, as root, when it builds the
# autograder's image: it installs what tools/grade needs and builds the
# fault-injection library. The kit itself is in /autograder/source/kit.
#
# Written for Gradescope's Ubuntu base images (22.04 and 24.04). bats must
# be 1.8.2 or newer, with bats-support and bats-assert where
# bats_load_library finds them (/usr/lib/bats): when the distribution's
# packages are older or missing, they come from GitHub, at fixed tags.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

BATS_CORE=v1.11.0
BATS_SUPPORT=v0.3.0
BATS_ASSERT=v2.1.0
SOURCE=${AUTOGRADER_ROOT:-/autograder}/source

apt-get update -qq
apt-get install -y -qq --no-install-recommends make gcc libc6-dev python3 \
	iproute2 util-linux procps zip unzip git ca-certificates >/dev/null
apt-get install -y -qq --no-install-recommends bats >/dev/null || true
apt-get install -y -qq --no-install-recommends bats-support bats-assert \
	>/dev/null 2>&1 || true

# bats_ok: succeeds if the bats on PATH is 1.8.2 or newer.
bats_ok() {
	local v
	v=$(bats --version 2>/dev/null | awk '{ print $2 }') || return 1
	[ -n "$v" ] && [ "$(printf '%s\n1.8.2\n' "$v" | sort -V | head -n 1)" = 1.8.2 ]
}

# fetch REPO TAG DIR: a shallow clone of github.com/bats-core/REPO at TAG.
fetch() {
	rm -rf "$3"
	git clone -q --depth 1 --branch "$2" "https://github.com/bats-core/$1" "$3"
}

if ! bats_ok; then
	fetch bats-core "$BATS_CORE" /tmp/bats-core
	/tmp/bats-core/install.sh /usr/local
fi
mkdir -p /usr/lib/bats
[ -e /usr/lib/bats/bats-support/load.bash ] ||
	fetch bats-support "$BATS_SUPPORT" /usr/lib/bats/bats-support
[ -e /usr/lib/bats/bats-assert/load.bash ] ||
	fetch bats-assert "$BATS_ASSERT" /usr/lib/bats/bats-assert
bats_ok || { echo "setup.sh: no usable bats" >&2; exit 1; }

make -s -C "$SOURCE/kit/tools/faultinject"
# The reference solution ships in the kit: keep it away from submissions
# even where the grader cannot hide it (no namespaces in the container).
chmod 700 "$SOURCE"
echo "setup.sh: ready: $(bats --version)"
