#!/bin/sh
# deps.sh: install the Debian 12 packages that tandem's build needs, and
# with --test also those its test suite needs.  Safe to run again: apt
# leaves installed packages alone.  Runs as root, or through sudo.
#
#   sh contrib/deps.sh           # build dependencies
#   sh contrib/deps.sh --test    # build and test dependencies
#   sh contrib/deps.sh --bench   # and OpenSSH's sshd, make bench's reference
set -eu

usage() {
	echo "usage: sh contrib/deps.sh [--test] [--bench]" >&2
	exit 2
}

with_test=0
with_bench=0
for arg in "$@"; do
	case $arg in
	--test) with_test=1 ;;
	--bench) with_bench=1 ;;
	-h|--help) echo "usage: sh contrib/deps.sh [--test] [--bench]"; exit 0 ;;
	*) usage ;;
	esac
done

# Compiler, autotools and the libraries configure.ac checks with
# pkg-config.  libwebsockets-evlib-uv is not pulled in by
# libwebsockets-dev, but tandemd runs libwebsockets on its libuv loop.
packages="build-essential autoconf automake libtool pkg-config
	libssh-dev libvterm-dev libwebsockets-dev libwebsockets-evlib-uv
	libuv1-dev libsodium-dev libsqlite3-dev libjansson-dev
	ca-certificates"
# The suite drives a real tandemd with OpenSSH clients inside tmux,
# from Python (python3-websocket for the browser viewer); procps, psmisc
# and sqlite3 serve its checks and debugging;
# less and vim-tiny are full-screen programs viewers must see as the
# owner does; nodejs, npm and chromium run the browser viewer test
# (playwright-core drives /usr/bin/chromium; it never downloads a browser);
# openssl makes the TLS test's throwaway certificate.
test_packages="openssh-client tmux python3 python3-websocket procps psmisc
	sqlite3 less vim-tiny nodejs chromium openssl"

if [ "$with_test" = 1 ]; then
	packages="$packages $test_packages"
fi
# tandem-bench compares tandemd with a private sshd it starts itself.
if [ "$with_bench" = 1 ]; then
	packages="$packages openssh-server"
fi

# Fast path: nothing to do when every package is installed already (no
# root and no network needed then).
missing=""
for p in $packages; do
	if ! dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null |
	    grep -qx installed; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "deps.sh: all needed packages are installed"
	exit 0
fi
echo "deps.sh: missing:$missing"

if [ "$(id -u)" = 0 ]; then
	as_root=""
elif command -v sudo >/dev/null 2>&1; then
	as_root="sudo"
	echo "deps.sh: not root, using sudo" >&2
else
	echo "deps.sh: installing packages needs root: run this as root" \
	    "(or install sudo)" >&2
	exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps.sh: apt-get not found: this script is for Debian 12" >&2
	exit 1
fi

# shellcheck disable=SC2086 # word splitting of the lists is intended
$as_root apt-get update </dev/null
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y \
    --no-install-recommends $packages </dev/null
# Debian's nodejs comes without npm, which is a package of its own; a
# nodejs that bundles npm conflicts with that package, so ask only when
# the command is missing.
if [ "$with_test" = 1 ] && ! command -v npm >/dev/null 2>&1; then
	$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y \
	    --no-install-recommends npm </dev/null
fi
echo "deps.sh: done"
