#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `cmake --install` into a staging folder: the binary, the manual page and
# the bash completion land under the GNU directories of the prefix, and
# the installed binary (not the one in the build tree) serves and moves a
# file.
. "$(dirname "$0")/lib.sh"

BUILD_DIR=$(dirname "$WHARF_BIN")
STAGE=$T/stage
run env DESTDIR="$STAGE" cmake --install "$BUILD_DIR" --prefix /usr
assert_exit 0 "cmake --install: $ERR"
assert_file_exists "$STAGE/usr/bin/wharf" "the binary in bin/"
assert_file_exists "$STAGE/usr/share/man/man1/wharf.1" "the manual page"
assert_file_exists "$STAGE/usr/share/bash-completion/completions/wharf" \
	"the bash completion"
assert_file_exists "$STAGE/usr/share/zsh/vendor-completions/_wharf" \
	"the zsh completion"
run man -l "$STAGE/usr/share/man/man1/wharf.1"
[ "$RC" = 127 ] || assert_contains "$OUT" "wharf serve" "the page renders"

# From here on every command is the installed one.
W=$STAGE/usr/bin/wharf
run "$W" --version
assert_exit 0 "installed wharf --version"
assert_contains "$OUT" "wharf"

start_server
add_user alice pw
head -c 300000 /dev/urandom >"$T/up.bin"
run env WHARF_PASSWORD=pw "$W" put "alice@$(host_port)" "$T/up.bin" /up.bin
assert_exit 0 "put with the installed binary: $ERR"
run env WHARF_PASSWORD=pw "$W" get "alice@$(host_port)" /up.bin "$T/down.bin"
assert_exit 0 "get with the installed binary: $ERR"
assert_eq "$(sha256sum <"$T/up.bin")" "$(sha256sum <"$T/down.bin")" \
	"the file came back whole"
stop_server

finish
