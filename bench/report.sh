#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Markdown tables from a bench/run.sh CSV (default bench/results/latest.csv),
# for docs/benchmarks.md: the setup lines, then one table per case.
#
#   bench/report.sh [CSV] > tables.md

set -u
set -o pipefail
export LC_ALL=C

csv=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/results/latest.csv}
[ -r "$csv" ] || {
	echo "report: cannot read $csv" >&2
	exit 1
}

awk '
# Splits one CSV line (fields in double quotes may hold commas and "").
function csv_split(line, f,   n, i, c, q, cur) {
	n = 0; cur = ""; q = 0
	for (i = 1; i <= length(line); i++) {
		c = substr(line, i, 1)
		if (q) {
			if (c == "\"" && substr(line, i + 1, 1) == "\"") {
				cur = cur "\""; i++
			} else if (c == "\"") q = 0
			else cur = cur c
		} else if (c == "\"") q = 1
		else if (c == ",") { f[++n] = cur; cur = "" }
		else cur = cur c
	}
	f[++n] = cur
	return n
}
function esc(s) { gsub(/\|/, "\\|", s); return s }
function head(title, r1, r2) {
	printf "\n### %s\n\n", title
	printf "| direction | tool | median s | MB/s |%s%s CPU s client + server | sync after, s | runs (s) |\n",
	    r1 == "" ? "" : " " r1 " is N× faster |",
	    r2 == "" ? "" : " " r2 " is N× faster |"
	printf "|---|---|---:|---:|%s%s---:|---:|---|\n", r1 == "" ? "" : "---:|",
	    r2 == "" ? "" : "---:|"
}
/^#/ { sub(/^# ?/, ""); meta[++nmeta] = $0; next }
/^case,/ { next }
{
	csv_split($0, f)
	c = f[1]; rows[c] = rows[c] SUBSEP NR
	line[NR, "dir"] = f[2]; line[NR, "tool"] = f[3]
	line[NR, "bytes"] = f[4]; line[NR, "files"] = f[5]
	line[NR, "status"] = f[7]; line[NR, "med"] = f[8]
	line[NR, "mbs"] = f[9]; line[NR, "r1"] = f[10]
	line[NR, "r2"] = f[11]; line[NR, "rss"] = f[12]
	line[NR, "hwm"] = f[13]; line[NR, "times"] = f[14]
	line[NR, "cmd"] = f[15]; line[NR, "cc"] = f[16]; line[NR, "cs"] = f[17]
	line[NR, "sync"] = f[18]; line[NR, "wire"] = f[19]
	line[NR, "link"] = f[20]
}
# The delta case: per edit, time and bytes through the link, and how
# many times the tool'"'"'s time and bytes wharf'"'"'s are.
function delta_table(   k, n, i, id, j, w) {
	if (!("delta" in rows)) return
	print "\n### Delta: the receiver holds the old version, 20 Mbit/s link\n"
	print "| edit | tool | median s | link MiB | wharf is N× faster | wharf sends N× fewer bytes | runs (s) |"
	print "|---|---|---:|---:|---:|---:|---|"
	n = split(substr(rows["delta"], 2), k, SUBSEP)
	for (i = 1; i <= n; i++) {
		id = k[i]
		if (line[id, "status"] != "ok") {
			printf "| %s | %s | **%s** | | | | |\n", line[id, "dir"],
			    esc(line[id, "tool"]), line[id, "status"]
			continue
		}
		w = 0
		for (j = 1; j <= n; j++)
			if (line[k[j], "dir"] == line[id, "dir"] &&
			    line[k[j], "tool"] == "wharf")
				w = k[j]
		printf "| %s | %s | %s | %.2f | %s | %s | %s |\n",
		    line[id, "dir"], esc(line[id, "tool"]), line[id, "med"],
		    line[id, "link"] / 1048576,
		    (w && line[w, "med"] > 0) ? sprintf("%.2f", line[id, "med"] / line[w, "med"]) : "",
		    (w && line[w, "link"] > 0) ? sprintf("%.2f", line[id, "link"] / line[w, "link"]) : "",
		    line[id, "times"]
	}
}
function table(c, title, r1, r2,   k, n, i, id, s) {
	if (!(c in rows)) return
	head(title, r1, r2)
	n = split(substr(rows[c], 2), k, SUBSEP)
	for (i = 1; i <= n; i++) {
		id = k[i]
		if (line[id, "status"] != "ok") {
			printf "| %s | %s | **%s** | |%s%s | | |\n", line[id, "dir"],
			    esc(line[id, "tool"]), line[id, "status"],
			    r1 == "" ? "" : " |", r2 == "" ? "" : " |"
			continue
		}
		s = sprintf("| %s | %s | %s | %s |", line[id, "dir"],
		    esc(line[id, "tool"]), line[id, "med"], line[id, "mbs"])
		if (r1 != "") s = s " " line[id, "r1"] " |"
		if (r2 != "") s = s " " line[id, "r2"] " |"
		print s " " line[id, "cc"] " + " line[id, "cs"] " | " \
		    line[id, "sync"] " | " line[id, "times"] \
		    (line[id, "wire"] == "" ? "" : \
		    " (payload/wire " line[id, "wire"] ")") " |"
	}
}
END {
	print "### Setup of this run\n"
	for (i = 1; i <= nmeta; i++) print "- " meta[i]
	if ("prim" in rows) {
		print "\n### Primitives (bench/primitives.c), one core, 1 MiB chunks\n"
		print "| primitive | one core |"
		print "|---|---:|"
		n = split(substr(rows["prim"], 2), k, SUBSEP)
		for (i = 1; i <= n; i++) {
			x = line[k[i], "cmd"]; sub(/^bench\/primitives.c: /, "", x)
			printf "| %s | %s |\n", esc(line[k[i], "tool"]), x
		}
	}
	table(1, "Case 1: loopback, large random file", "wharf", "wharf --plaintext")
	table(2, "Case 2: 20 Mbit/s link, compressible slice, upload", "wharf", "wharf -z")
	table(3, "Case 3: loopback, small files, upload", "wharf put -r", "")
	delta_table()
	table("stripe", "Striping: 40 Mbit/s per TCP connection", "wharf --streams 1", "")
	if ("4" in rows) {
		table(4, "Case 4: concurrent wharf clients, upload", "", "")
		n = split(substr(rows["4"], 2), k, SUBSEP)
		for (i = 1; i <= n; i++)
			if (line[k[i], "hwm"] != "")
				printf "\nPeak server VmHWM: %d KiB (%.0f MiB).\n",
				    line[k[i], "hwm"], line[k[i], "hwm"] / 1024
	}
	print "\n### Client commands (`$T` is the temp dir; servers as set up above)\n"
	print "| case | direction | tool | command |"
	print "|---|---|---|---|"
	nc = split("1 2 3 4 delta stripe", cs, " ")
	for (ci = 1; ci <= nc; ci++) {
		c = cs[ci]
		if (!(c in rows)) continue
		n = split(substr(rows[c], 2), k, SUBSEP)
		for (i = 1; i <= n; i++) {
			x = line[k[i], "cmd"]
			gsub(/`/, "", x)
			printf "| %s | %s | %s | `%s` |\n", c, line[k[i], "dir"],
			    esc(line[k[i], "tool"]), esc(x)
		}
	}
	if ("mem" in rows) {
		print "\n### Memory of `wharf serve`\n"
		print "| measurement | VmRSS KiB | VmHWM KiB |"
		print "|---|---:|---:|"
		n = split(substr(rows["mem"], 2), k, SUBSEP)
		for (i = 1; i <= n; i++) {
			if (line[k[i], "status"] != "ok") {
				printf "| %s | **%s** | |\n", esc(line[k[i], "tool"]),
				    line[k[i], "status"]
				continue
			}
			printf "| %s | %s | %s |\n", esc(line[k[i], "tool"]),
			    line[k[i], "rss"], line[k[i], "hwm"]
		}
	}
}' "$csv"
