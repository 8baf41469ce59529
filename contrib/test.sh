#!/bin/bash
# test.sh: install what the build and the suite need, then build tandem
# and run its test suite; this is what .ci/run calls.
#
#   sh contrib/test.sh
#
# Runs, from the top of the source tree:
#   1. contrib/deps.sh --test
#   2. autoreconf -fi
#   3. build/normal: configure --enable-werror, make, make check
#   4. build/normal: make distcheck (the tarball builds and passes too),
#      only when TANDEM_DISTCHECK=1; the default is 1 when CI=true and 0
#      otherwise, since it builds and runs the whole suite once more
#   5. build/san: configure --enable-werror --enable-sanitizers, make check
#      (AddressSanitizer and UBSan)
# It stops at the first failing step, prints the logs of the failed
# tests, then one summary line "N passed, N failed" over every run, and
# exits non-zero if anything failed or if no test ran at all.
#
# Environment: TANDEM_DISTCHECK=0|1, TANDEM_JOBS (default 2).
# Needs no terminal; runs as root or as a user (deps.sh may need sudo).

# "sh contrib/test.sh" starts dash: go on in bash (pipefail, arrays).
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -eu -o pipefail
exec </dev/null

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

jobs=${TANDEM_JOBS:-2}
if [ -z "${TANDEM_DISTCHECK:-}" ]; then
	if [ "${CI:-}" = true ]; then
		TANDEM_DISTCHECK=1
	else
		TANDEM_DISTCHECK=0
	fi
fi
logs="$top/build/logs"
# The distcheck tree, build/normal/tandem-VERSION (from configure.ac).
version=$(sed -n 's/^AC_INIT(\[tandem\], *\[\([^]]*\)\].*/\1/p' configure.ac)
PACKAGE_DIST="tandem-${version:-0}"
step="start"
started=$(date +%s)

# The runs to count, each "KIND:PATH".  A run's counts come from the
# "# PASS:", "# FAIL:", ... lines of its automake test-suite.log.  When
# that file is missing (the harness itself stopped, e.g. on a missing
# test script) they come from the .trs files of the tests that ran.
# distcheck deletes its build tree when it passes, so its counts are
# read from the same summary lines in its captured output.
runs=()

banner() {
	step="$*"
	echo
	echo "==> $*"
}

# One count ("PASS", "FAIL", ...) from the first summary block of a file.
count() {
	awk -v key="# $1:" '
		index($0, key) == 1 { print $NF + 0; found = 1; exit }
		END { if (!found) print 0 }' "$2"
}

# Print "PASS FAIL ERROR XPASS XFAIL SKIP" for one run.
run_counts() {
	local kind=${1%%:*} path=${1#*:} k line
	local -A cnt=([PASS]=0 [FAIL]=0 [ERROR]=0 [XPASS]=0 [XFAIL]=0 [SKIP]=0)
	local summary="" trs_dir=""

	case $kind in
	dir)
		if [ -f "$path/test-suite.log" ]; then
			summary="$path/test-suite.log"
		else
			trs_dir="$path"
		fi
		;;
	distcheck)
		if [ -f "$path" ] && grep -q '^# TOTAL:' "$path"; then
			summary="$path"
		else
			trs_dir="$top/build/normal/$PACKAGE_DIST/_build"
		fi
		;;
	esac
	if [ -n "$summary" ]; then
		for k in PASS FAIL ERROR XPASS XFAIL SKIP; do
			cnt[$k]=$(count "$k" "$summary")
		done
	elif [ -d "$trs_dir" ]; then
		while IFS= read -r line; do
			k=${line#:test-result: }
			k=${k%% *}
			if [ -n "${cnt[$k]+set}" ]; then
				cnt[$k]=$((cnt[$k] + 1))
			fi
		done < <(find "$trs_dir" -path "$trs_dir/$PACKAGE_DIST" -prune \
		    -o -name '*.trs' -print0 | xargs -0r cat |
		    grep '^:test-result: ')
	fi
	echo "${cnt[PASS]} ${cnt[FAIL]} ${cnt[ERROR]} ${cnt[XPASS]} ${cnt[XFAIL]} ${cnt[SKIP]}"
}

print_failed_logs() {
	local trs log n=0

	while IFS= read -r trs; do
		if grep -Eq '^:test-result: (FAIL|ERROR|XPASS)' "$trs"; then
			log="${trs%.trs}.log"
			n=$((n + 1))
			echo
			echo "==================== ${log#"$top"/} ===================="
			if [ -f "$log" ]; then
				cat "$log"
			else
				echo "(no log file)"
			fi
		fi
	done < <(find "$top/build" -name '*.trs' -path '*tests*' 2>/dev/null |
	    sort)
	if [ "$n" -gt 0 ]; then
		echo
		echo "==================== $n failed test(s) above ===================="
	fi
}

finish() {
	local rc=$1 r pass=0 fail=0 skip=0 ran=0 p x e xp xf sk

	trap - EXIT
	set +e
	print_failed_logs
	for r in "${runs[@]}"; do
		read -r p x e xp xf sk < <(run_counts "$r")
		pass=$((pass + p))
		fail=$((fail + x + e + xp))
		skip=$((skip + sk))
		ran=$((ran + p + x + e + xp + xf))
	done
	echo
	if [ "$skip" -gt 0 ]; then
		echo "($skip skipped)"
	fi
	echo "$pass passed, $fail failed"
	if [ "$rc" -ne 0 ]; then
		echo "test.sh: FAILED in step: $step (exit status $rc)" >&2
	elif [ "$fail" -gt 0 ]; then
		echo "test.sh: FAILED: $fail test(s) failed" >&2
		rc=1
	elif [ "$ran" -eq 0 ]; then
		echo "test.sh: FAILED: no test ran" >&2
		rc=1
	else
		echo "test.sh: all passed in $(($(date +%s) - started))s"
	fi
	exit "$rc"
}
trap 'finish $?' EXIT

banner "installing packages (contrib/deps.sh --test)"
sh "$top/contrib/deps.sh" --test

# An in-place build (./configure at the top) makes automake refuse the
# out-of-tree ones below; its outputs can all be rebuilt.
if [ -f "$top/config.status" ]; then
	banner "the source folder was configured in place: make distclean"
	make -C "$top" distclean >/dev/null
fi

banner "autoreconf -fi"
mkdir -p "$top/m4"
autoreconf -fi

rm -rf "$top/build/normal" "$top/build/san" "$logs"
mkdir -p "$top/build/normal" "$top/build/san" "$logs"

banner "build/normal: configure --enable-werror"
cd "$top/build/normal"
../../configure --enable-werror >"$logs/normal-configure.out" 2>&1 || {
	cat "$logs/normal-configure.out"
	exit 1
}
banner "build/normal: make"
make -j"$jobs"
banner "build/normal: make check"
runs+=("dir:$top/build/normal")
make -j"$jobs" check 2>&1 | tee "$logs/normal-check.out"

if [ "$TANDEM_DISTCHECK" = 1 ]; then
	banner "build/normal: make distcheck"
	runs+=("distcheck:$logs/distcheck.out")
	make -j"$jobs" distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror \
	    2>&1 | tee "$logs/distcheck.out"
else
	echo
	echo "(make distcheck skipped: set TANDEM_DISTCHECK=1 to run it)"
fi

banner "build/san: configure --enable-werror --enable-sanitizers"
cd "$top/build/san"
../../configure --enable-werror --enable-sanitizers CFLAGS='-O1 -g' \
    >"$logs/san-configure.out" 2>&1 || {
	cat "$logs/san-configure.out"
	exit 1
}
banner "build/san: make check (AddressSanitizer, UBSan)"
runs+=("dir:$top/build/san")
make -j"$jobs" check 2>&1 | tee "$logs/san-check.out"

step="done"
