#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Two servers on two FUSE mounts of one GlusterFS volume (docs/
# deployment.md), set up and torn down here: a glusterd of the test's own
# (working folder, socket and ports its own, bound to 127.0.0.1), a
# replica-2 volume on two bricks in the temp folder (force: they sit on
# the root filesystem), the volume options and mount timeouts that keep
# names coherent between mounts. Then the checks of test_cluster.sh (one
# state folder and one root, through two mounts), mv without
# RENAME_NOREPLACE (GlusterFS refuses the flag), and a batch of 500 small
# files that the brick profile shows fsynced (a FUSE syncfs never reaches
# the bricks). The batch's time is printed, not judged. Skipped (exit 77)
# only where FUSE, glusterd or root are missing, or port 24007 is taken.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer_lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

skip_now() {
	skip "$@"
	exit 77
}

[ "$(id -u)" = 0 ] || skip_now "needs root (glusterd, FUSE mounts)"
for p in glusterd gluster glusterfs; do
	command -v $p >/dev/null ||
		skip_now "$p is not installed (Debian glusterfs-server)"
done
[ -c /dev/fuse ] || skip_now "/dev/fuse is missing"
grep -qw fuse /proc/filesystems || skip_now "the kernel has no FUSE"
if (exec 3<>/dev/tcp/127.0.0.1/24007) 2>/dev/null; then
	skip_now "port 24007 is taken (another glusterd runs here)"
fi

# Every operation is slower through FUSE and two bricks.
CLIENT_TIMEOUT=120
G=$T/gluster
VOL=wharftest
mkdir -p "$G/wd" "$G/run" "$G/logs" "$G/b1" "$G/b2" "$G/m1" "$G/m2"
GL=(timeout 120 gluster --glusterd-sock="$G/run/glusterd.socket"
	--mode=script)
SOCKS_BEFORE=$(ls /var/run/gluster 2>/dev/null)

# Gluster refuses 127.0.0.1 and localhost as a brick's host: a name of
# this machine that resolves to loopback, made in /etc/hosts if need be.
GHOST=
ADDED_HOST=
for h in "$(hostname)" wharf-gluster-test; do
	case $(getent ahostsv4 "$h" 2>/dev/null | head -n 1) in
	127.*) GHOST=$h; break ;;
	esac
done
if [ -z "$GHOST" ]; then
	GHOST=wharf-gluster-test
	printf '127.0.0.1 %s # test_gluster.sh\n' "$GHOST" >>/etc/hosts
	ADDED_HOST=1
fi

# Everything this test started goes, by pid, whatever way it ends; the
# mounts first, so that removing the temp folder never reaches through.
gluster_cleanup() {
	local f s

	for m in "$G/m1" "$G/m2"; do
		mountpoint -q "$m" 2>/dev/null &&
			{ umount "$m" 2>/dev/null || umount -l "$m"; }
	done
	if [ -S "$G/run/glusterd.socket" ]; then
		"${GL[@]}" volume stop $VOL force >/dev/null 2>&1
		"${GL[@]}" volume delete $VOL >/dev/null 2>&1
	fi
	for f in "$G"/run/vols/*/*.pid "$G"/run/shd/*/*.pid \
		"$G/glusterd.pid"; do
		[ -s "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
	done
	for s in $(ls /var/run/gluster 2>/dev/null); do
		case " $SOCKS_BEFORE " in *" $s "*) continue ;; esac
		case $s in *.socket) rm -f "/var/run/gluster/$s" ;; esac
	done
	[ -n "$ADDED_HOST" ] &&
		sed -i "/ $GHOST # test_gluster.sh\$/d" /etc/hosts
	return 0
}
trap 'gluster_cleanup; cleanup' EXIT

cat >"$G/glusterd.vol" <<EOV
volume management
    type mgmt/glusterd
    option working-directory $G/wd
    option run-directory $G/run
    option glusterd-sockfile $G/run/glusterd.socket
    option transport-type socket
    option transport.socket.bind-address 127.0.0.1
    option transport.socket.listen-port 24007
    option ping-timeout 0
    option event-threads 1
end-volume
EOV
timeout 60 glusterd -f "$G/glusterd.vol" -p "$G/glusterd.pid" \
	--log-file="$G/logs/glusterd.log" ||
	fail "glusterd did not start: $(tail -n 20 "$G/logs/glusterd.log")"
n=0
until "${GL[@]}" volume info >/dev/null 2>&1 || [ $n -ge 100 ]; do
	sleep 0.2
	n=$((n + 1))
done
gl() { # gluster ARGS...: fails the test with gluster's answer
	local out
	out=$("${GL[@]}" "$@" 2>&1) || fail "gluster $*: $out"
}
gl volume create $VOL replica 2 "$GHOST:$G/b1" "$GHOST:$G/b2" force
# Names coherent between mounts: no metadata cache in front of lookups
# (md-cache is stat-prefetch), nothing served from a client-side copy.
# WHARF_GLUSTER_CACHED=1 keeps gluster's defaults and the kernel's
# timeouts instead, to see what they cost (not for CI: docs/deployment.md
# says they break coherence).
MOUNT_OPTS=(--entry-timeout=0 --attribute-timeout=0 --negative-timeout=0)
if [ -n "${WHARF_GLUSTER_CACHED:-}" ]; then
	MOUNT_OPTS=()
else
	for o in performance.stat-prefetch performance.quick-read \
		performance.io-cache performance.read-ahead \
		performance.readdir-ahead performance.open-behind \
		performance.write-behind; do
		gl volume set $VOL "$o" off
	done
fi
gl volume start $VOL
for m in 1 2; do
	timeout 60 glusterfs --volfile-server="$GHOST" --volfile-id=$VOL \
		"${MOUNT_OPTS[@]}" --log-file="$G/logs/m$m.log" "$G/m$m" ||
		fail "mount $m: $(tail -n 20 "$G/logs/m$m.log")"
done
n=0
until mountpoint -q "$G/m2" || [ $n -ge 50 ]; do
	sleep 0.2
	n=$((n + 1))
done
assert_eq 65735546 "$(stat -f -c %t "$G/m1")" "the root is a FUSE mount"
mkdir -p "$G/m1/root" "$G/m1/state"
chmod 755 "$G/m1" "$G/m1/root"
ROOT1=$G/m1/root STATE1=$G/m1/state
ROOT2=$G/m2/root STATE2=$G/m2/state
ROOT=$ROOT1 STATE=$STATE1
add_user "$CL_USER" "$CL_PW"
add_user qu "$CL_PW"
run "$W" user mod qu --state "$STATE1" --home homes/qu --quota 40M
assert_exit 0 "user mod: $ERR"
cl_start 1
cl_start 2
[ -n "${CL_PORTS[2]}" ] || fail "server 2 did not start"

! want cross || check_cross
! want protect || check_protect
! want mv || check_mv
! want quota || check_quota qu 16
! want race || check_race "${WHARF_RACE_ROUNDS:-10}" $((3 * 1024 * 1024))
! want resume || check_resume $((32 * 1024 * 1024)) $((2 * 1024 * 1024))

# --- durability of a batch of small files
gl volume profile $VOL start
"${GL[@]}" volume profile $VOL info clear >/dev/null 2>&1
check_batch GlusterFS
prof=$("${GL[@]}" volume profile $VOL info cumulative 2>&1)
fsyncs=$(printf '%s\n' "$prof" | awk '$NF == "FSYNC" {s += $(NF-1)} END {print s + 0}')
fsyncdirs=$(printf '%s\n' "$prof" | awk '$NF == "FSYNCDIR" {s += $(NF-1)} END {print s + 0}')
echo "INFO: brick profile: FSYNC $fsyncs FSYNCDIR $fsyncdirs"
[ "$fsyncs" -ge 500 ] ||
	fail "the bricks saw $fsyncs FSYNC for 500 committed files:" \
		"$(printf '%s\n' "$prof" | grep -E 'FSYNC|Brick' | head -n 20)"
pass
[ "$fsyncdirs" -ge 1 ] || fail "the bricks saw no FSYNCDIR for the folder"
pass

server_alive "${CL_PIDS[1]}"
server_alive "${CL_PIDS[2]}"
stop_server "${CL_PIDS[1]}"
stop_server "${CL_PIDS[2]}"
finish
