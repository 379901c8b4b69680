#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The service files of dist/ as `cmake --install` puts them: the systemd
# unit names the installed binary and passes `systemd-analyze verify`, the
# sysusers.d and tmpfiles.d snippets make the user and folders under a
# scratch root, and the example wharf.conf lists (and documents) every key
# the binary knows and checks clean with --check-config.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=$(dirname "$WHARF_BIN")
STAGE=$T/stage
run env DESTDIR="$STAGE" cmake --install "$BUILD_DIR" --prefix /usr
assert_exit 0 "cmake --install: $ERR"
UNIT=$STAGE/usr/lib/systemd/system/wharf.service
SYSUSERS=$STAGE/usr/lib/sysusers.d/wharf.conf
TMPFILES=$STAGE/usr/lib/tmpfiles.d/wharf.conf
EXAMPLE=$STAGE/usr/share/doc/wharf/examples/wharf.conf
assert_file_exists "$UNIT" "the unit"
assert_file_exists "$SYSUSERS" "the sysusers.d snippet"
assert_file_exists "$TMPFILES" "the tmpfiles.d snippet"
assert_file_exists "$EXAMPLE" "the example configuration"
ROTATE=$(find "$STAGE" -path '*/logrotate.d/wharf' | head -n 1)
assert_ne "" "$ROTATE" "the logrotate snippet"
W=$STAGE/usr/bin/wharf

# --- the unit
unit=$(cat "$UNIT")
assert_match "$unit" '^ExecStart=/usr/bin/wharf serve$' \
	"ExecStart names the installed binary"
assert_match "$unit" '^Type=notify$'
assert_match "$unit" '^ExecReload=/bin/kill -HUP \$MAINPID$'
assert_match "$unit" '^NoNewPrivileges=yes$'
assert_match "$unit" '^ProtectSystem=strict$'
assert_match "$unit" '^PrivateTmp=yes$'
assert_match "$unit" '^CapabilityBoundingSet=CAP_SETUID CAP_SETGID '
assert_match "$unit" '^ReadWritePaths=/var/lib/wharf /srv/wharf ' \
	"the default state and root stay writable"
# The defaults the unit allows are the ones the server uses as root.
help=$("$W" serve --help)
assert_contains "$help" "as root /srv/wharf and /var/lib/wharf"
if command -v systemd-analyze >/dev/null; then
	# verify wants ExecStart's binary to exist: the staged one.
	sed "s|^ExecStart=/usr/bin/wharf|ExecStart=$W|" "$UNIT" \
		>"$T/wharf.service"
	run systemd-analyze verify --man=no "$T/wharf.service"
	assert_exit 0 "systemd-analyze verify: $OUT $ERR"
	# Unknown keys are only warnings: none may be printed.
	assert_eq "" "$OUT$ERR" "systemd-analyze verify says nothing"
else
	skip "systemd-analyze is not installed: the unit is not verified"
fi

# --- the account and the folders, under a scratch root
if command -v systemd-sysusers >/dev/null &&
	command -v systemd-tmpfiles >/dev/null; then
	mkdir -p "$T/sysroot/etc"
	run systemd-sysusers --root="$T/sysroot" "$SYSUSERS"
	assert_exit 0 "systemd-sysusers: $ERR"
	assert_match "$(cat "$T/sysroot/etc/passwd")" \
		'^wharf:x:[0-9]+:[0-9]+:.*:/var/lib/wharf:/usr/sbin/nologin$'
	run systemd-tmpfiles --root="$T/sysroot" --create "$TMPFILES"
	assert_exit 0 "systemd-tmpfiles --create: $ERR"
	assert_eq "" "$ERR" "systemd-tmpfiles says nothing"
	uid=$(sed -n 's/^wharf:x:\([0-9]*\):.*/\1/p' "$T/sysroot/etc/passwd")
	assert_eq "700 $uid" "$(stat -c '%a %u' "$T/sysroot/var/lib/wharf")" \
		"the state folder"
	assert_eq "755 $uid" "$(stat -c '%a %u' "$T/sysroot/srv/wharf")" \
		"the served root"
	assert_eq "750 $uid" "$(stat -c '%a %u' "$T/sysroot/var/log/wharf")" \
		"the log folder"
else
	skip "systemd-sysusers or systemd-tmpfiles missing: snippets unchecked"
fi
if command -v logrotate >/dev/null; then
	run logrotate -d "$ROTATE"
	assert_exit 0 "logrotate -d: $ERR"
else
	skip "logrotate is not installed: its snippet is not parsed"
fi
assert_match "$(cat "$ROTATE")" '--signal=HUP wharf.service' \
	"postrotate sends SIGHUP"

# --- the example: every key, valid, documented
run "$W" serve --config "$EXAMPLE" --check-config
assert_exit 0 "the example checks: $ERR"
keys=$(printf '%s\n' "$help" | sed -n 's/^  --\([a-z-]*\).*/\1/p' |
	grep -vx -e config -e check-config)
[ -n "$keys" ] || fail "no keys in wharf serve --help"
for k in $keys; do
	grep -q "^#$k = " "$EXAMPLE" || fail "key $k missing from the example"
	grep -q "^\\.It Cm $k" "$SRC/docs/wharf.1" ||
		fail "key $k not documented in docs/wharf.1 CONFIGURATION"
done
pass
# Uncommented, the example's values are the defaults, and still valid.
sed 's/^#\([a-z-]* = \)/\1/' "$EXAMPLE" | grep -v '^psk = ' >"$T/all.conf"
run "$W" serve --config "$T/all.conf" --check-config
assert_exit 0 "every example value checks: $ERR"

finish
