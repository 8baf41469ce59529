#!/bin/sh
# quickstart.sh: install what tandem needs, build it and start tandemd in
# the foreground on its embedded defaults (ssh on 127.0.0.1:2222).
#
#   sh contrib/quickstart.sh [TANDEMD-FLAGS...]
#
# Extra arguments go to tandemd, e.g. --ssh-listen 127.0.0.1:2200 or
# --log-level debug.  Ctrl-C stops tandemd (and hangs up its sessions).
#
# The build goes to build/quickstart (an out-of-tree build), so that
# contrib/test.sh, which builds under build/ too, can run from the same
# checkout afterwards: automake refuses out-of-tree builds of a source
# folder that was configured in place.
#
# As an ordinary user, tandemd runs as you with the data folder
# ./tandem-data at the top of the source tree.
#
# As root, tandemd does NOT run as root: every session is a shell of the
# user tandemd runs as, and anyone who enrolls a name (first login with
# any key, from this machine) would get a root shell.  Instead a system
# user "tandem" is created if missing and tandemd runs as that user, with
# the data folder /var/lib/tandem/tandem-data.  Paths given as extra
# arguments are then taken from /var/lib/tandem: make them absolute.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build="$top/build/quickstart"

say() {
	echo "quickstart: $*"
}

# 1. Packages (skipped by deps.sh when all are installed).
sh "$top/contrib/deps.sh"

# 2. Build.  Each step is skipped when its output exists: the Makefiles
# that configure writes rerun autoconf, automake and config.status by
# themselves when configure.ac or Makefile.am change.
if [ -f "$top/config.status" ]; then
	say "the source folder is configured in place; building there"
	build="$top"
else
	if [ ! -x "$top/configure" ]; then
		say "autoreconf -fi"
		mkdir -p "$top/m4"
		autoreconf -fi
	fi
	mkdir -p "$build"
	if [ ! -f "$build/config.status" ]; then
		say "configure (in build/quickstart)"
		(cd "$build" && "$top/configure")
	fi
fi
say "make -j2"
make -C "$build" -j2
bin="$build/src/tandemd"

# Where to connect: the default, or what --ssh-listen/-s says (tandemd
# prints the address it listens on too, once it is up).
listen=127.0.0.1:2222
prev=""
for arg in "$@"; do
	case $prev in
	--ssh-listen|-s) listen=$arg ;;
	esac
	case $arg in
	--ssh-listen=*) listen=${arg#--ssh-listen=} ;;
	esac
	prev=$arg
done
port=${listen##*:}
case $listen in
\[*) host=::1 ;;
*) host=127.0.0.1 ;;
esac

port_hint() {
	echo
	echo "  tandemd listens on $listen"
	echo "  connect with: ssh -p $port YOURNAME@$host"
	echo "    (first login enrolls the name with your key; YOURNAME is yours"
	echo "    to choose: lower-case letters, digits, '.', '_', '-')"
	echo "  commands:     ssh -p $port YOURNAME@$host help"
	echo "  data folder:  $1"
	echo "  stop with Ctrl-C"
	echo
}

if [ "$(id -u)" != 0 ]; then
	port_hint "$top/tandem-data"
	exec "$bin" "$@"
fi

# 3. Root: run as the system user "tandem".
home=/var/lib/tandem
data="$home/tandem-data"
if ! id tandem >/dev/null 2>&1; then
	say "creating the system user tandem (home $home)"
	useradd --system --create-home --home-dir "$home" --shell /bin/bash \
	    tandem
fi
group=$(id -g tandem)
# tandemd refuses a data folder that is not its own or that has group or
# other permissions: it holds the host key and the server secret.
install -d -o tandem -g "$group" -m 0700 "$home"
install -d -o tandem -g "$group" -m 0700 "$data"

# Install under /usr/local: the build may sit where tandem cannot reach
# it (/root is mode 0700), the tandem client belongs where every PATH
# looks (a login profile resets PATH), and the viewer page goes where
# tandemd's default web_root expects it.
say "make install (tandemd, tandem, the viewer page under /usr/local)"
make -C "$build" install >/dev/null
bin=/usr/local/sbin/tandemd

say "running tandemd as the user tandem, not as root"
port_hint "$data"
cd "$home"
exec runuser -u tandem -- "$bin" --data-dir "$data" "$@"
