#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# sync's rsync-like options through the real binary, both directions:
# --itemize-changes (new, size, time, content, deleted), --json,
# --checksum, --exclude-from, --include with rsync's first-match order,
# --delete-excluded, --backup and --backup-dir (on the server: renames
# inside the user's root), symbolic links (default: listed, exit 23; -l),
# and folder modes and mtimes kept.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer_lib.sh"

U=sia
P='sia pw'
add_user $U "$P"
start_server

wsync() { run env WHARF_PASSWORD="$P" "$W" sync --no-progress \
	"$U@$(host_port)" "$@"; }
OLD='2001-02-03 04:05:06'
OLD_EPOCH=$(date -d "$OLD" +%s)

S=$T/src
mkdir -p "$S/sub/private"
printf 'aaaa\n' >"$S/a.txt"
printf 'bbbb\n' >"$S/b.txt"
printf 'cccc\n' >"$S/c.txt"
printf 'gone\n' >"$S/gone.txt"
printf 'deep\n' >"$S/sub/private/d.txt"
chmod 700 "$S/sub/private"
touch -d "$OLD" "$S/sub/private" "$S/sub"

# --- itemized first sync: everything new.
wsync "$S" /m --itemize-changes
assert_exit 0 "first sync --itemize-changes"
assert_contains "$OUT" "<f+++++++++ a.txt" "a new file, itemized"
assert_contains "$OUT" "cd+++++++++ sub/" "a new folder, itemized"
assert_contains "$OUT" "<f+++++++++ sub/private/d.txt" "a nested new file"
assert_eq 700 "$(stat -c %a "$ROOT/m/sub/private")" "sync keeps a 700 folder"
assert_eq "$OLD_EPOCH" "$(stat -c %Y "$ROOT/m/sub/private")" \
	"sync keeps a folder's old mtime"
assert_eq "$OLD_EPOCH" "$(stat -c %Y "$ROOT/m/sub")" "and its parent's"

# --- size, time, deleted.
printf 'aaaa longer\n' >"$S/a.txt"
touch -d '2010-01-01' "$S/b.txt"
rm "$S/gone.txt"
wsync "$S" /m --itemize-changes --delete
assert_exit 0 "sync --itemize-changes --delete"
assert_match "$OUT" '^<f\.st\.\.\.\.\.\. a\.txt$' "size and time changed"
assert_match "$OUT" '^<f\.\.t\.\.\.\.\.\. b\.txt$' "only the time changed"
assert_match "$OUT" '^\*deleting   gone\.txt$' "a deletion"
assert_not_contains "$OUT" "c.txt" "an unchanged file is not listed"
assert_no_file "$ROOT/m/gone.txt" "deleted"

# --- --checksum: same size and mtime, other content.
printf 'CCCC\n' >"$S/c.txt"
touch -r "$ROOT/m/c.txt" "$S/c.txt"
wsync "$S" /m --itemize-changes
assert_not_contains "$OUT" "c.txt" "without -c the change is invisible"
wsync "$S" /m --itemize-changes --checksum
assert_exit 0 "sync --itemize-changes --checksum"
assert_match "$OUT" '^<fc\.\.\.\.\.\.\.\. c\.txt$' "content differs"
assert_eq CCCC "$(cat "$ROOT/m/c.txt")" "and it was sent"

# --- --json: one object per change, then the summary.
printf 'new\n' >"$S/n.txt"
wsync "$S" /m --json
assert_exit 0 "sync --json"
printf '%s\n' "$OUT" >"$T/json.out"
python3 - "$T/json.out" <<'PY' || fail "sync --json output: $(cat "$T/json.out")"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ch = [o for o in objs if o.get("op") == "sync" and "change" in o]
assert any(o["change"] == "new" and o["path"] == "n.txt" and
           o["reasons"] == ["new"] and o["type"] == "file" for o in ch), ch
summ = [o for o in objs if o.get("op") == "sync" and "transferred" in o]
assert len(summ) == 1 and summ[0]["transferred"] == 1, summ
assert summ[0]["result"] == "ok", summ
PY
pass

# --- --exclude-from and --include, first match wins.
printf 'x\n' >"$S/debug.log"
printf 'x\n' >"$S/keep.tmp"
printf 'x\n' >"$S/drop.tmp"
printf '# comment\n\n*.log\n' >"$T/excludes"
wsync "$S" /f --exclude-from "$T/excludes" --include keep.tmp \
	--exclude '*.tmp'
assert_exit 0 "sync with --exclude-from and --include"
assert_no_file "$ROOT/f/debug.log" "--exclude-from pattern"
assert_file_exists "$ROOT/f/keep.tmp" "--include before --exclude wins"
assert_no_file "$ROOT/f/drop.tmp" "the --exclude that follows"
wsync "$S" /g --exclude '*.tmp' --include keep.tmp
assert_no_file "$ROOT/g/keep.tmp" "the first match decides: excluded"
wsync "$S" /g --exclude-from "$T/missing"
assert_exit 2 "a missing --exclude-from file"

# --- --delete-excluded: excluded at the destination goes too.
printf 'x\n' >"$ROOT/f/old.log"
give_tree "$ROOT"
wsync "$S" /f --exclude '*.log' --delete
assert_file_exists "$ROOT/f/old.log" "--delete spares what is excluded"
wsync "$S" /f --exclude '*.log' --delete-excluded --itemize-changes
assert_exit 0 "sync --delete-excluded"
assert_no_file "$ROOT/f/old.log" "--delete-excluded deletes it"
assert_contains "$OUT" "*deleting   old.log" "and says so"

# --- --backup: overwritten and deleted files move aside, on the server.
printf 'version 2\n' >"$S/a.txt"
printf 'x\n' >"$ROOT/m/extra.txt"
give_tree "$ROOT"
wsync "$S" /m --backup --delete
assert_exit 0 "sync --backup --delete"
assert_eq "aaaa longer" "$(cat "$ROOT/m/a.txt~")" "the old a.txt, as a.txt~"
assert_eq "version 2" "$(cat "$ROOT/m/a.txt")" "the new a.txt"
assert_eq x "$(cat "$ROOT/m/extra.txt~")" "a deleted file kept as NAME~"
assert_no_file "$ROOT/m/extra.txt" "and gone from its place"
wsync "$S" /m --backup --delete
assert_file_exists "$ROOT/m/a.txt~" "backups are not deleted by --delete"
printf 'version 3\n' >"$S/a.txt"
wsync "$S" /m --backup-dir .old --delete
assert_exit 0 "sync --backup-dir .old"
assert_eq "version 2" "$(cat "$ROOT/m/.old/a.txt")" "into the backup folder"
printf 'version 4\n' >"$S/sub/private/d.txt"
wsync "$S" /m --backup-dir /bk --delete
assert_eq deep "$(cat "$ROOT/bk/sub/private/d.txt")" \
	"an absolute --backup-dir is in the user's root, paths kept"
printf 'version 5\n' >"$S/a.txt"
wsync "$S" /m --backup-dir .old --delete
assert_eq "version 3" "$(cat "$ROOT/m/.old/a.txt")" "an older backup is replaced"
assert_dir_exists "$ROOT/m/.old" "the backup folder survives --delete"

# The other way: local backups.
D=$T/down
wsync "$D" /m --download
assert_exit 0 "download sync"
printf 'local change\n' >"$D/a.txt"
wsync "$D" /m --download --backup --itemize-changes
assert_exit 0 "download sync --backup"
assert_contains "$OUT" ">f" "a download is itemized with >"
assert_eq "local change" "$(cat "$D/a.txt~")" "the local a.txt~"
assert_eq "version 5" "$(cat "$D/a.txt")" "the server's a.txt"
assert_eq 700 "$(stat -c %a "$D/sub/private")" "download keeps 700"
assert_eq "$OLD_EPOCH" "$(stat -c %Y "$D/sub")" "and the old mtime"

# --- symbolic links: listed and exit 23 by default, kept with -l.
ln -s a.txt "$S/link"
wsync "$S" /m
assert_exit 23 "sync with a link, default"
assert_contains "$ERR" "skipped symbolic link $S/link" "the link is named"
assert_contains "$ERR" "1 symbolic link skipped" "the closing count"
assert_no_file "$ROOT/m/link" "no link on the server"
wsync "$S" /m -l --itemize-changes
assert_exit 0 "sync -l"
assert_eq a.txt "$(readlink "$ROOT/m/link")" "the link is made"
assert_contains "$OUT" "cL+++++++++ link" "a new link, itemized"
# -i is still the identity file (as for every command that connects).
wsync "$S" /m -i "$T/no-such-key"
assert_contains "$ERR" "no-such-key" "sync -i FILE names a key file"
wsync "$D" /m --download -l
assert_exit 0 "download sync -l"
assert_eq a.txt "$(readlink "$D/link")" "the link is made here"
wsync "$T/down2" /m --download
assert_exit 23 "download sync of a tree with a link, default"
assert_contains "$ERR" "skipped symbolic link /m/link" "named on download"
assert_no_file "$T/down2/link" "no link made by default"
wsync "$S" /copied -L
assert_exit 0 "sync -L"
assert_same "$S/a.txt" "$ROOT/copied/link" "-L sends what the link points to"
[ -L "$ROOT/copied/link" ] && fail "sync -L made a link"
wsync "$T/down3" /m --download -L
assert_exit 0 "download sync -L"
assert_same "$ROOT/m/a.txt" "$T/down3/link" "download -L: a file"

stop_server
finish
