# SPDX-License-Identifier: MIT
# Bash completion for wharf: subcommands, their options, local paths, and
# the Host aliases of the client configuration (as ssh's completion does).

# Host names without glob characters from the client configuration files.
_wharf_hosts()
{
	local files=("${XDG_CONFIG_HOME:-$HOME/.config}/wharf/config"
		/etc/wharf/client.conf)
	awk 'tolower($1) == "host" {
		for (i = 2; i <= NF; i++)
			if ($i !~ /[*?!]/) print $i
	}' "${files[@]}" 2>/dev/null | sort -u
}

_wharf()
{
	local cur prev cmd conn
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd=${COMP_WORDS[1]}
	conn="-P --port -i -F -o --host-key-policy --psk --plaintext"

	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "serve user connect get put sync ping keygen keyscan --version --help" -- "$cur"))
		return
	fi
	case "$prev" in
	--root|--state|--log|--stats|--psk|-b|--csv|-i|-F)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--hash)
		COMPREPLY=($(compgen -W "blake2b sha256" -- "$cur"))
		return ;;
	--compress)
		COMPREPLY=($(compgen -W "auto off 1 3 6 9 19" -- "$cur"))
		return ;;
	--host-key-policy)
		COMPREPLY=($(compgen -W "ask accept-new strict" -- "$cur"))
		return ;;
	esac
	case "$cmd" in
	serve)
		COMPREPLY=($(compgen -W "--root --listen --state --max-clients --max-startups --per-source-max-startups --idle-timeout --psk --allow-plaintext --keys-only --max-file-size --stats --log --user -v --help" -- "$cur")) ;;
	user)
		if [ "$COMP_CWORD" -eq 2 ]; then
			COMPREPLY=($(compgen -W "add del passwd list" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "--state --read-only --help" -- "$cur"))
		fi ;;
	connect|ping|keyscan)
		if [[ "$cur" == -* ]]; then
			COMPREPLY=($(compgen -W "-c -b --json -q -n --csv --help $conn" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_wharf_hosts)" -- "$cur"))
		fi ;;
	get|put|sync)
		if [[ "$cur" == -* ]]; then
			COMPREPLY=($(compgen -W "-r -z --compress= --hash --exclude --stats --chunk-size --streams --no-delta --json --no-progress -q --delete --dry-run --checksum --download --help $conn" -- "$cur"))
		elif [[ "$cur" != */* && "$cur" != *:* ]]; then
			# An alias, then its colon: HOST:PATH.
			COMPREPLY=($(compgen -W "$(_wharf_hosts | sed 's/$/:/')" -- "$cur")
				$(compgen -f -- "$cur"))
			compopt -o nospace 2>/dev/null
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi ;;
	keygen)
		COMPREPLY=($(compgen -W "--psk --help" -- "$cur")) ;;
	esac
}
complete -o default -F _wharf wharf
