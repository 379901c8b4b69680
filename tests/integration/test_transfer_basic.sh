#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Single-file transfers both ways through the real server, every result
# compared byte for byte with its source: sizes around the chunk size
# (empty, 1 byte, one chunk, one chunk + 1, 20 chunks), random and
# compressible data, default compression, -z, --compress=off, --hash
# sha256 and odd chunk sizes; names with spaces and UTF-8; overwriting a
# file (new content, the source's mode and mtime); existing directories
# as destinations; the one-shot and `connect -c` forms; `sum` against
# b2sum and sha256sum; summary lines and --stats CSV on both sides.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xfer_lib.sh"

U=alice
P='alice pw'
add_user $U "$P"
SCSV=$T/server.csv
start_server --stats "$SCSV"
HEADER='timestamp,peer,user,direction,path,bytes,wire_bytes,resumed_bytes,seconds,mb_per_s,hash,compression,result'

S=$T/src
mkdir -p "$S"
: >"$S/empty"
printf 'x' >"$S/one"
rand_file "$S/chunk" $MiB
rand_file "$S/chunk1" $((MiB + 1))
rand_file "$S/multi" $((20 * MiB))
# About 7 MB of text: compresses far better than 2x.
seq -f 'line %.0f of a compressible text file for wharf' 1 150000 \
	>"$S/text"
FILES="empty one chunk chunk1 multi text"
assert_eq 1048577 "$(fsize "$S/chunk1")" "test data: chunk + 1"

# --- every file, in one put and one get per mode; multiple sources go
# into an existing remote / local directory by base name.
MODES=("" "-z" "--compress=off" "--hash sha256")
for i in "${!MODES[@]}"; do
	read -ra opts <<<"${MODES[$i]}"
	what="mode '${MODES[$i]}'"
	wharf_c $U "$P" "mkdir m$i"
	assert_exit 0 "mkdir m$i"
	srcs=()
	for f in $FILES; do
		srcs+=("$S/$f")
	done
	rows_before=$(csv_rows "$SCSV")
	wput $U "$P" "${opts[@]}" --stats "$T/put$i.csv" "${srcs[@]}" "m$i"
	assert_exit 0 "put of all files, $what"
	for f in $FILES; do
		assert_same "$S/$f" "$ROOT/m$i/$f" "put $f, $what"
		assert_match "$OUT" "^put $S/$f  [0-9.]+ (B|KiB|MiB) in [0-9.]+ s, [0-9.]+ MB/s, wire [0-9.]+ (B|KiB|MiB) \([0-9.]+x\)$" \
			"summary line of put $f, $what"
		assert_no_file "$ROOT/m$i/.$f.wharf-part" "no partial left, $what"
	done
	assert_eq "$HEADER" "$(head -n 1 "$T/put$i.csv")" "client CSV header"
	assert_eq 6 "$(csv_rows "$T/put$i.csv")" "client CSV: a row per file"
	assert_eq $((rows_before + 6)) "$(csv_rows "$SCSV")" \
		"server CSV: a row per uploaded file, $what"

	mkdir "$T/back$i"
	rsrcs=()
	for f in $FILES; do
		rsrcs+=("m$i/$f")
	done
	rows_before=$(csv_rows "$SCSV")
	wget1 $U "$P" "${opts[@]}" --stats "$T/get$i.csv" "${rsrcs[@]}" \
		"$T/back$i"
	assert_exit 0 "get of all files, $what"
	for f in $FILES; do
		assert_same "$S/$f" "$T/back$i/$f" "get $f, $what"
		assert_match "$OUT" "^get m$i/$f  .* in [0-9.]+ s, [0-9.]+ MB/s, wire .*\([0-9.]+x\)$" \
			"summary line of get $f, $what"
		assert_no_file "$T/back$i/.$f.wharf-part" "no local partial left"
	done
	assert_eq 6 "$(csv_rows "$T/get$i.csv")" "client get CSV: a row per file"
	assert_eq $((rows_before + 6)) "$(csv_rows "$SCSV")" \
		"server CSV: a row per downloaded file, $what"
done
assert_eq "$HEADER" "$(head -n 1 "$SCSV")" "server CSV header"
assert_eq 1 "$(grep -c '^timestamp,' "$SCSV")" "one header in the server CSV"

# The CSV rows themselves: direction, path, bytes, hash, compression.
row=$(grep ',put,m1/text,' "$T/put1.csv")
assert_match "$row" "^[0-9T:Z-]+,127\.0\.0\.1:$PORT,$U,put,m1/text,$(fsize "$S/text"),[0-9]+,0,[0-9.]+,[0-9.]+,(blake2b|sha256),zstd-3,ok$" \
	"client CSV row of put -z text"
wire=$(printf '%s' "$row" | cut -d, -f7)
[ $((wire * 2)) -lt "$(fsize "$S/text")" ] ||
	fail "-z on text: wire $wire is not under half of $(fsize "$S/text")"
pass
row=$(grep ',get,m1/text,' "$T/get1.csv")
wire=$(printf '%s' "$row" | cut -d, -f7)
[ -n "$wire" ] && [ $((wire * 2)) -lt "$(fsize "$S/text")" ] ||
	fail "get -z on text: wire '$wire' is not under half: $row"
pass
row=$(grep ',put,m2/text,' "$T/put2.csv")
assert_eq "$(fsize "$S/text")" "$(printf '%s' "$row" | cut -d, -f7)" \
	"--compress=off: wire bytes equal the size"
assert_eq off "$(printf '%s' "$row" | cut -d, -f12)" "CSV compression off"
row=$(grep ',put,m3/multi,' "$T/put3.csv")
assert_eq sha256 "$(printf '%s' "$row" | cut -d, -f11)" "CSV hash sha256"
row=$(grep -E ',put,"?/m1/text"?,' "$SCSV")
assert_match "$row" ",put,/m1/text,$(fsize "$S/text"),[0-9]+,0,[0-9.]+,[0-9.]+,(blake2b|sha256),zstd-stream,ok$" \
	"server CSV row of put -z text"

# Summary ratios: -z on text well above 2x, raw random data 1.00x.
# (These runs are repeated here so that $OUT holds their summaries;
# --no-delta, or the copies already there would be reused, not sent.)
wput $U "$P" -z --no-delta "$S/text" "$S/multi" m1
assert_exit 0 "put -z again"
r=$(ratio_of "$(summary_line put "$S/text")")
assert_gt_float "$r" 2 "put -z of text: summary ratio"
r=$(ratio_of "$(summary_line put "$S/multi")")
assert_eq 1.00 "$r" "put -z of random data goes raw"
line=$(last_log 'op=put path="/m1/text" result=ok')
assert_eq zstd-stream "$(log_field compress "$line")" \
	"server log: compress=zstd-stream"
[ $(($(log_field wire "$line") * 2)) -lt "$(log_field bytes "$line")" ] ||
	fail "server log: -z wire not under half: $line"
pass
wget1 $U "$P" -z --no-delta m1/text "$T/back1/text"
assert_exit 0 "get -z again"
assert_same "$S/text" "$T/back1/text" "get -z of text"
assert_gt_float "$(ratio_of "$(summary_line get m1/text)")" 2 \
	"get -z of text: summary ratio"
wget1 $U "$P" --compress=off --no-delta m2/text "$T/back2/text"
assert_exit 0 "get --compress=off again"
assert_eq 1.00 "$(ratio_of "$(summary_line get m2/text)")" \
	"get --compress=off: ratio 1.00x"
line=$(last_log 'op=get path="/m2/text" result=ok')
assert_eq "$(log_field bytes "$line")" "$(log_field wire "$line")" \
	"server log: --compress=off get has wire = bytes"
line=$(last_log 'op=put path="/m3/multi" result=ok')
assert_eq sha256 "$(log_field hash "$line")" "server log: hash=sha256"

# Other chunk sizes (the smallest and the largest allowed).
wput $U "$P" --chunk-size 65536 "$S/multi" cs64k.bin
assert_exit 0 "put --chunk-size 65536"
assert_same "$S/multi" "$ROOT/cs64k.bin" "put with 64 KiB chunks"
wget1 $U "$P" --chunk-size 4194304 cs64k.bin "$T/cs4m.bin"
assert_exit 0 "get --chunk-size 4194304"
assert_same "$S/multi" "$T/cs4m.bin" "get with 4 MiB chunks"

# --- single-file forms: no destination, a new name, an existing dir.
wput $U "$P" "$S/one"
assert_exit 0 "put with no remote path"
assert_same "$S/one" "$ROOT/one" "put into the remote working directory"
wput $U "$P" "$S/chunk1" renamed.bin
assert_exit 0 "put to a new name"
assert_same "$S/chunk1" "$ROOT/renamed.bin" "put to a new name"
mkdir -p "$T/cwd"
cd "$T/cwd" || fail "cd $T/cwd"
wget1 $U "$P" renamed.bin
assert_exit 0 "get with no local path"
cd "$T" || fail "cd $T"
assert_same "$S/chunk1" "$T/cwd/renamed.bin" "get into the current folder"
wget1 $U "$P" renamed.bin "$T/local new.bin"
assert_exit 0 "get to a new local name"
assert_same "$S/chunk1" "$T/local new.bin" "get to a new local name"

wharf_c $U "$P" "mkdir indir"
assert_exit 0 "mkdir indir"
wput $U "$P" "$S/chunk" indir
assert_exit 0 "put into an existing remote directory"
assert_same "$S/chunk" "$ROOT/indir/chunk" "put into a remote directory"
assert_no_file "$ROOT/indir/.chunk.wharf-part"
mkdir "$T/ldir"
wget1 $U "$P" indir/chunk "$T/ldir"
assert_exit 0 "get into an existing local directory"
assert_same "$S/chunk" "$T/ldir/chunk" "get into a local directory"

# --- names with spaces and UTF-8.
NAME='ü ñ 文件.txt'
rand_file "$S/$NAME" $((MiB + 4321))
wput $U "$P" "$S/$NAME"
assert_exit 0 "put of a UTF-8 name with spaces"
assert_same "$S/$NAME" "$ROOT/$NAME" "put of '$NAME'"
assert_contains "$OUT" "put $S/$NAME  " "summary names the file"
mkdir "$T/u8"
wget1 $U "$P" "$NAME" "$T/u8"
assert_exit 0 "get of a UTF-8 name with spaces"
assert_same "$S/$NAME" "$T/u8/$NAME" "get of '$NAME'"
wharf_c $U "$P" "mkdir 'dir with space'; put '$S/$NAME' 'dir with space/$NAME'; get 'dir with space/$NAME' '$T/u8/copy $NAME'"
settle_server
assert_exit 0 "connect -c put and get of a UTF-8 name with spaces"
assert_same "$S/$NAME" "$ROOT/dir with space/$NAME" "connect -c put"
assert_same "$S/$NAME" "$T/u8/copy $NAME" "connect -c get"

# --- overwriting: the new content wins, with the source's mode and mtime.
for size in 1000 $((3 * MiB + 5)); do
	name=ow$size.bin
	printf 'old content\n' >"$ROOT/$name"
	chmod 600 "$ROOT/$name"
	touch -d '2001-02-03 04:05:06' "$ROOT/$name"
	rand_file "$S/$name" "$size"
	chmod 640 "$S/$name"
	touch -d '2020-01-02 03:04:05' "$S/$name"
	wput $U "$P" "$S/$name" "$name"
	assert_exit 0 "put over an existing file ($size bytes)"
	assert_same "$S/$name" "$ROOT/$name" "overwritten remote file"
	assert_eq "$(stat -c '%a %Y' "$S/$name")" \
		"$(stat -c '%a %Y' "$ROOT/$name")" \
		"overwritten remote file has the source's mode and mtime"
	assert_no_file "$ROOT/.$name.wharf-part"

	mkdir -p "$T/ow"
	printf 'old local content\n' >"$T/ow/$name"
	chmod 600 "$T/ow/$name"
	chmod 604 "$ROOT/$name"
	touch -d '2019-05-06 07:08:09' "$ROOT/$name"
	wget1 $U "$P" "$name" "$T/ow/$name"
	assert_exit 0 "get over an existing local file ($size bytes)"
	assert_same "$ROOT/$name" "$T/ow/$name" "overwritten local file"
	assert_eq "$(stat -c '%a %Y' "$ROOT/$name")" \
		"$(stat -c '%a %Y' "$T/ow/$name")" \
		"overwritten local file has the server's mode and mtime"
done

# --- connect -c: put, get, sum (BLAKE2b and SHA-256), summaries.
wharf_c $U "$P" "mkdir cdir; put $S/multi cdir/m.bin; get cdir/m.bin $T/cget.bin; put -z $S/text cdir/t.txt; get --hash sha256 cdir/t.txt $T/cget.txt; sum cdir/m.bin; sum --hash sha256 cdir/m.bin; sum cdir/t.txt; sum --hash sha256 m0/empty; sum m0/empty"
settle_server
assert_exit 0 "connect -c with put, get and sum"
assert_same "$S/multi" "$ROOT/cdir/m.bin" "connect -c put"
assert_same "$S/multi" "$T/cget.bin" "connect -c get"
assert_same "$S/text" "$ROOT/cdir/t.txt" "connect -c put -z"
assert_same "$S/text" "$T/cget.txt" "connect -c get --hash sha256"
assert_match "$OUT" "^put $S/multi  20\.00 MiB in [0-9.]+ s, [0-9.]+ MB/s, wire 20\.00 MiB \(1\.00x\)$" \
	"connect -c put summary"
assert_match "$OUT" "^get cdir/m\.bin  20\.00 MiB in .*, wire " \
	"connect -c get summary"
assert_gt_float "$(ratio_of "$(summary_line put "$S/text")")" 2 \
	"connect -c put -z of text: ratio"
b2=$(b2sum -l 256 "$S/multi" | cut -d' ' -f1)
s2=$(sha256sum "$S/multi" | cut -d' ' -f1)
assert_match "$OUT" "^$b2  cdir/m\.bin$" "sum equals b2sum -l 256"
assert_match "$OUT" "^$s2  cdir/m\.bin$" "sum --hash sha256 equals sha256sum"
assert_match "$OUT" "^$(b2sum -l 256 "$S/text" | cut -d' ' -f1)  cdir/t\.txt$" \
	"sum of the text file"
assert_match "$OUT" "^$(sha256sum </dev/null | cut -d' ' -f1)  m0/empty$" \
	"sha256 sum of an empty file"
assert_match "$OUT" "^$(b2sum -l 256 </dev/null | cut -d' ' -f1)  m0/empty$" \
	"blake2b sum of an empty file"
wharf_c $U "$P" "sum '$NAME'"
assert_exit 0 "sum of a UTF-8 name"
assert_eq "$(b2sum -l 256 "$S/$NAME" | cut -d' ' -f1)  $NAME" "$OUT" \
	"sum line format of a UTF-8 name"

# -q leaves the summary out; the file still arrives.
wput $U "$P" -q "$S/chunk" quiet.bin
assert_exit 0 "put -q"
assert_eq "" "$OUT" "put -q prints no summary"
assert_same "$S/chunk" "$ROOT/quiet.bin" "put -q"

# The server logged one put line per upload, with the fields documented.
assert_match "$(cat "$LOG")" 'op=put path="/m0/multi" result=ok bytes=20971520 wire=[0-9]+ resumed=0 secs=[0-9.]+ rate=[0-9.]+MB/s' \
	"server log line of a put"
assert_match "$(cat "$LOG")" 'op=get path="/m0/chunk1" result=ok bytes=1048577 wire=[0-9]+ resumed=0 secs=' \
	"server log line of a get"
assert_eq 0 "$(find "$ROOT" -name '*.wharf-part' | wc -l)" \
	"no partials left anywhere on the server"
server_alive
stop_server
finish
