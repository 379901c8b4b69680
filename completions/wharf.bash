# SPDX-License-Identifier: MIT
# Bash completion for wharf: subcommands, their options, local paths, the
# Host aliases of the client configuration (as ssh's completion does), and
# remote paths, which `wharf complete-remote` asks the server for (as
# scp's completion asks over ssh). That call has a short timeout
# (WHARF_COMPLETE_TIMEOUT, default 3 s), never prompts (keys, the agent
# or WHARF_PASSWORD only) and trusts only pinned host keys, so a Tab can
# neither hang the shell nor pin a key.

_wharf_hosts()
{
	local files=("${XDG_CONFIG_HOME:-$HOME/.config}/wharf/config"
		/etc/wharf/client.conf)
	awk 'tolower($1) == "host" {
		for (i = 2; i <= NF; i++)
			if ($i !~ /[*?!]/) print $i
	}' "${files[@]}" 2>/dev/null | sort -u
}

# Connection options already on the line, for complete-remote.
_wharf_conn_args()
{
	local i w
	for ((i = 2; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-P|--port|-i|-F|-o|--psk|--host-key-policy)
			printf '%s\n' "$w" "${COMP_WORDS[i+1]}"
			i=$((i + 1)) ;;
		--plaintext)
			printf '%s\n' "$w" ;;
		esac
	done
}

# Remote names for word ([USER@]HOST:PATH) into COMPREPLY, quoted for
# the line. complete-remote prints paths; bash splits words at ':' (when
# COMP_WORDBREAKS says so), and then only what follows it is put back.
_wharf_remote()
{
	local word=$1 cur=$2 host name
	local -a conn names
	mapfile -t conn < <(_wharf_conn_args)
	mapfile -t names < <(wharf complete-remote "${conn[@]}" "$word" \
		2>/dev/null </dev/null)
	host=${word%%:*}:
	if [[ $COMP_WORDBREAKS == *:* ]]; then
		host=
		[[ $cur == : ]] && host=:
	fi
	COMPREPLY=()
	for name in "${names[@]}"; do
		COMPREPLY+=("$host$(printf '%q' "$name")")
	done
	# A folder goes on without a space, so the next Tab enters it.
	[[ ${#names[@]} -eq 1 && ${names[0]} == */ ]] &&
		compopt -o nospace 2>/dev/null
}

# The word at the cursor with any ':' bash split off put back.
_wharf_cur()
{
	local line=${COMP_LINE:0:COMP_POINT}
	printf '%s' "${line##*[[:space:]]}"
}

_wharf()
{
	local cur prev cmd conn word i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd=${COMP_WORDS[1]}
	conn="-P --port -i -F -o --host-key-policy --psk --plaintext"
	local xfer="-r --recursive -z --compress= --hash --exclude --stats
		--chunk-size --streams --no-delta --json --no-progress -q --help
		-l --links -L --copy-links -p --perms --no-perms --bwlimit"
	local cmds="serve user connect get put sync ls stat sum rm mkdir rmdir
		mv chmod df quota ping keygen keyscan --version --help"

	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "$cmds" -- "$cur"))
		return
	fi
	case "$prev" in
	--root|--state|--log|--stats|--psk|-b|--csv|-i|-F|-f|--config|\
	--exclude-from|--include-from)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--hash)
		COMPREPLY=($(compgen -W "blake2b sha256 xxh128" -- "$cur"))
		return ;;
	--compress)
		COMPREPLY=($(compgen -W "auto off 1 3 6 9 19" -- "$cur"))
		return ;;
	--host-key-policy)
		COMPREPLY=($(compgen -W "ask accept-new strict" -- "$cur"))
		return ;;
	--home|--quota|--listen|--max-clients|--idle-timeout|--max-file-size|\
	--max-startups|--per-source-max-startups|-n|-c|-P|--port|-o|-C|\
	--chunk-size|--streams|--exclude|--user|--drain-timeout|--bwlimit|\
	--include|--backup-dir)
		return ;;
	esac
	word=$(_wharf_cur)
	case "$cmd" in
	serve)
		COMPREPLY=($(compgen -W "--root --listen --state --max-clients
			--max-startups --per-source-max-startups --idle-timeout
			--psk --allow-plaintext --keys-only --max-file-size --stats
			--log --user --config --check-config --drain-timeout
			--bwlimit --ciphers --metrics-listen --proxy-from -v
			--verbose --help" -- "$cur")) ;;
	user)
		if [ "$COMP_CWORD" -eq 2 ]; then
			COMPREPLY=($(compgen -W "add mod del passwd list key" -- "$cur"))
		elif [ "${COMP_WORDS[2]}" = key ] && [ "$COMP_CWORD" -eq 3 ]; then
			COMPREPLY=($(compgen -W "add list del" -- "$cur"))
		elif [ "${COMP_WORDS[2]}" = key ] && [ "${COMP_WORDS[3]}" = add ] &&
			[ "$COMP_CWORD" -eq 5 ]; then
			COMPREPLY=($(compgen -f -- "$cur"))
		else
			COMPREPLY=($(compgen -W "--state --config --init --read-only
				--read-write --home --no-home --quota --keys-only
				--password-ok --bwlimit --disable --enable --logout
				--help" -- "$cur"))
		fi ;;
	connect|ping|keyscan)
		if [[ "$cur" == -* ]]; then
			COMPREPLY=($(compgen -W "-c -b --json -q -n --csv --help $conn" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_wharf_hosts)" -- "$cur"))
		fi ;;
	get|put|sync|ls|stat|sum|rm|mkdir|rmdir|mv|chmod|df|quota)
		local opts="--json -q --help $conn"
		case "$cmd" in
		get|put) opts+=" $xfer" ;;
		sync) opts+=" $xfer --delete --dry-run --checksum --download
			-n -c --itemize-changes --include --exclude-from
			--include-from --delete-excluded -b --backup
			--backup-dir" ;;
		ls) opts+=" -1 -a -d -h -l -r -S -t" ;;
		df|quota) opts+=" -h" ;;
		sum) opts+=" --hash" ;;
		mkdir) opts+=" -p" ;;
		esac
		if [[ "$cur" == -* ]]; then
			COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		elif [[ "$word" == *:* && "$word" != */*:* &&
			"$word" != .* && "$word" != /* ]]; then
			_wharf_remote "$word" "$cur"
		elif [[ "$cur" != */* ]]; then
			# An alias, then its colon: HOST:PATH.
			COMPREPLY=($(compgen -W "$(_wharf_hosts | sed 's/$/:/')" -- "$cur")
				$(compgen -f -- "$cur"))
			compopt -o nospace 2>/dev/null
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi ;;
	keygen)
		COMPREPLY=($(compgen -W "-f -C --psk --help" -- "$cur")) ;;
	esac
}
complete -o default -F _wharf wharf
