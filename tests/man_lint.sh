#!/bin/sh
# SPDX-License-Identifier: MIT
# The manual page passes groff's and mandoc's checks without a message.
# mandoc's STYLE level is left out: its "outdated mandoc.db" notes depend
# on the pages installed on the machine, not on ours. Exit 77: skipped.
page=${1:?usage: man_lint.sh PAGE}
status=0
for tool in groff mandoc; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool not installed (scripts/bootstrap.sh test installs it)"
		exit 77
	fi
done
out=$(groff -ww -z -man "$page" 2>&1) || status=1
if [ -n "$out" ] || [ $status != 0 ]; then
	echo "FAIL: groff -ww -z -man $page:"
	echo "$out"
	exit 1
fi
out=$(mandoc -T lint -W warning "$page" 2>&1) || status=1
if [ -n "$out" ] || [ $status != 0 ]; then
	echo "FAIL: mandoc -T lint $page:"
	echo "$out"
	exit 1
fi
echo "man page clean: groff -ww and mandoc -T lint"
