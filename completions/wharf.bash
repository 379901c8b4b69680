# SPDX-License-Identifier: MIT
# Bash completion for wharf: subcommands, their options, and local paths.
_wharf()
{
	local cur prev cmd
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd=${COMP_WORDS[1]}

	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "serve user connect get put ping keygen --version --help" -- "$cur"))
		return
	fi
	case "$prev" in
	--root|--state|--log|--stats|--psk|-b|--csv)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--hash)
		COMPREPLY=($(compgen -W "blake2b sha256" -- "$cur"))
		return ;;
	--compress)
		COMPREPLY=($(compgen -W "auto off 1 3 6 9 19" -- "$cur"))
		return ;;
	esac
	case "$cmd" in
	serve)
		COMPREPLY=($(compgen -W "--root --listen --state --max-clients --idle-timeout --psk --allow-plaintext --max-file-size --stats --log -v --help" -- "$cur")) ;;
	user)
		if [ "$COMP_CWORD" -eq 2 ]; then
			COMPREPLY=($(compgen -W "add del passwd list" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "--state --read-only --help" -- "$cur"))
		fi ;;
	connect)
		COMPREPLY=($(compgen -W "-c -b --psk --plaintext --json -q --help" -- "$cur")) ;;
	get|put)
		if [[ "$cur" == -* ]]; then
			COMPREPLY=($(compgen -W "-r -z --compress= --hash --exclude --stats --chunk-size --streams --no-delta --json --no-progress -q --psk --plaintext --help" -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi ;;
	ping)
		COMPREPLY=($(compgen -W "-n --csv --json --psk --plaintext --help" -- "$cur")) ;;
	keygen)
		COMPREPLY=($(compgen -W "--psk --help" -- "$cur")) ;;
	esac
}
complete -o default -F _wharf wharf
