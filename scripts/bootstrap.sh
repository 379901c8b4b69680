#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One entry point for a fresh Debian 12 machine: install what is missing,
# build, then either start a server on the default folders ("serve") or
# run every test ("test"). Safe to run again: installed packages are skipped,
# so a second run is fast and needs no network.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-}
case "$mode" in
serve|test|build) ;;
*) echo "usage: $0 serve|test|build" >&2; exit 2 ;;
esac

# Build and test dependencies, by Debian package name.
# The binary alone needs no CUnit or clang (BUILD_TESTING=OFF).
pkgs=(cmake make gcc pkg-config protobuf-c-compiler libprotobuf-c-dev
      libsodium-dev libzstd-dev libedit-dev libseccomp-dev libinih-dev
      libssl-dev libxxhash-dev)
if [ "$mode" = test ]; then
	pkgs+=(libcunit1-dev)
	# clang + its runtime for the fuzz harnesses, python3 for the
	# hostile-peer integration tests, iproute2 for namespaces, gdb to
	# inject system calls into a contained server (test_contain),
	# openssh-client's ssh-agent and ssh-keygen for key login tests,
	# strace to see a download's fsyncs (test_transfer_commit),
	# glusterfs-server (glusterd, FUSE client) and haproxy for the
	# several-servers tests (test_gluster, test_haproxy).
	pkgs+=(clang clang-format libclang-rt-dev python3 iproute2 procps gdb
	       openssh-client strace glusterfs-server haproxy)
	# The manual page lint (tests/man_lint.sh) and the zsh completion
	# test (test_completion.sh).
	pkgs+=(mandoc groff-base zsh)
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "bootstrap: installing ${missing[*]}" >&2
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc 2>/dev/null || echo 2)
werror=OFF
[ -n "${CI:-}" ] && werror=ON

build() { # build DIR [cmake args...]
	local dir=$1; shift
	cmake -S "$here" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DWHARF_WERROR=$werror "$@" >/dev/null
	cmake --build "$dir" -j"$jobs"
}

case "$mode" in
build)
	build "$here/build" -DBUILD_TESTING=OFF
	;;
serve)
	build "$here/build" -DBUILD_TESTING=OFF
	# Installed (binary, manual page, completion), so that the next
	# commands in README work as written: /usr/local as root, else
	# ~/.local (on the PATH of most shells).
	if [ "$(id -u)" -eq 0 ]; then
		prefix=/usr/local
	else
		prefix=$HOME/.local
	fi
	cmake --install "$here/build" --prefix "$prefix" >/dev/null
	echo "bootstrap: installed $prefix/bin/wharf" >&2
	if [ "$(id -u)" -eq 0 ]; then
		# Started as root, the server serves as the 'wharf' system
		# user (docs/security.md). It reads /etc/wharf/wharf.conf
		# (an example with every key, all commented out, the first
		# time), serves /srv/wharf and keeps its state in
		# /var/lib/wharf (made, and given to 'wharf', by the server),
		# which `wharf user` finds from any folder.
		id -u wharf >/dev/null 2>&1 ||
			useradd --system --no-create-home \
				--home-dir /var/lib/wharf \
				--shell /usr/sbin/nologin wharf
		install -d -m 0755 /etc/wharf
		[ -e /etc/wharf/wharf.conf ] ||
			install -m 0644 "$here/dist/wharf.conf" \
				/etc/wharf/wharf.conf
		echo "bootstrap: serving /srv/wharf (state /var/lib/wharf," \
			"configuration /etc/wharf/wharf.conf)" >&2
	else
		# The XDG folders: ~/.local/share/wharf, ~/.local/state/wharf,
		# configuration ~/.config/wharf/wharf.conf if it exists.
		echo "bootstrap: serving ${XDG_DATA_HOME:-$HOME/.local/share}/wharf" \
			"(state ${XDG_STATE_HOME:-$HOME/.local/state}/wharf)" >&2
	fi
	exec "$prefix/bin/wharf" serve
	;;
test)
	# The account the tests' root-started servers serve as
	# (tests/integration/lib.sh makes it too, if missing).
	if [ "$(id -u)" -eq 0 ] && ! id -u wharf-test >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /usr/sbin/nologin \
			wharf-test
	fi
	build "$here/build" -DBUILD_TESTING=ON
	(cd "$here/build" && ctest --output-on-failure -j"$jobs")
	# The whole suite again under AddressSanitizer and UBSan.
	build "$here/build-asan" -DBUILD_TESTING=ON -DWHARF_SANITIZE=ON
	(cd "$here/build-asan" && ctest --output-on-failure -j"$jobs")
	;;
esac
