#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Two servers on one state folder and one root (docs/deployment.md): what
# one does the other sees. Cross-server transfers, an upload cut on one
# resumed on the other, protection set through either enforced by both
# (and neither save dropping the other's entry), one quota across both
# (four parallel 40 MiB uploads under 100 MiB never store more), a first
# start of both at once on an empty state (one admin password, one host
# key), same-path uploads racing through both (every round one whole
# upload wins; the loser hears BUSY, never INTERNAL or a stale handle),
# and mv that never replaces.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer_lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

! want first_start || check_first_start "$T" 3

ROOT1=$ROOT ROOT2=$ROOT STATE1=$STATE STATE2=$STATE
add_user "$CL_USER" "$CL_PW"
add_user qu "$CL_PW"
run "$W" user mod qu --state "$STATE" --home homes/qu --quota 100M
assert_exit 0 "user mod: $ERR"
cl_start 1
cl_start 2

! want cross || check_cross
! want protect || check_protect
! want quota || check_quota qu 40
! want race || check_race 10 $((3 * 1024 * 1024))
! want mv || check_mv
! want batch || check_batch "local disk"
! want resume || check_resume $((64 * 1024 * 1024)) $((4 * 1024 * 1024))

cl_on 1
server_alive "${CL_PIDS[1]}"
server_alive "${CL_PIDS[2]}"
stop_server "${CL_PIDS[1]}"
stop_server "${CL_PIDS[2]}"
finish
