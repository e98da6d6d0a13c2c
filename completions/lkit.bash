# bash completion for the lkit programs.
#
# One entry per program in _lkit_spec: its options, a trailing '=' marking
# one that takes an argument; the values some arguments take, as
# OPT|OPT:value,value (the value @file completes file names); and which
# options make the operands files ('*' if they always are).  To add a
# program, add its entry and its name to the complete line at the end.

# _lkit_spec PROG: sets opts, values and files for PROG; 1 if unknown.
_lkit_spec()
{
	opts= values= files=
	case $1 in
	lcat)
		opts='-m --merge --msgpack --time-key= --time-format=
		    --keep-time-key --utc --timezone= --skip-invalid
		    --max-event-size=
		    --metrics-file= --metrics-interval= --pipeline=
		    --stats -h --help -V --version'
		values='--time-format:iso8601,unixtime,float --timezone:UTC'
		files='-m --merge'
		;;
	lout)
		opts='-f= --format= --fields= --key= --time-key= --tag-key=
		    --time-format= --time-type= --delimiter= --label-delimiter=
		    --utc --timezone= -p= --path= --compress= --max-open-files=
		    -t= --tag= --skip-invalid --max-event-size=
		    --metrics-file= --metrics-interval= --pipeline= --stats -h
		    --help -V --version'
		values='-f|--format:stdout,json,ltsv,csv,tsv,single_value,msgpack,out_file
		    --time-type:float,unixtime,string
		    --time-format:iso8601,unixtime,float
		    --compress:gzip --timezone:UTC -p|--path:@file'
		;;
	lreform)
		opts='-j= --jq= -t= --tag= -d= --remove-keys= -k= --keep-keys=
		    -m= --rename= -n --renew-record -a --auto-typecast
		    --renew-time-key= --time-format= --utc --timezone=
		    --skip-invalid --max-event-size=
		    --metrics-file= --metrics-interval= --pipeline=
		    --stats -h --help
		    -V --version'
		values='--time-format:iso8601,unixtime,float --timezone:UTC'
		;;
	lgrep)
		opts='-r= --regexp= -x= --exclude= --or --and -t= --tag=
		    -j= --jq= -i --ignore-case -v --invert-match -c --count
		    --add-tag-prefix= --remove-tag-prefix= --add-tag-suffix=
		    --remove-tag-suffix= --skip-invalid --max-event-size=
		    --metrics-file= --metrics-interval= --pipeline=
		    --stats -h --help -V --version'
		;;
	lparse)
		opts='-k= --key= -e= --regex= -f= --format= --try= --keys=
		    --delimiter= --delimiter-pattern= --label-delimiter=
		    --message-key= --message-format= --with-priority
		    --rfc5424-time-format= --parser-engine= --no-colonless-ident
		    --time-key= --time-format= --time-format-fallback=
		    --time-type= --keep-time-key --utc --timezone=
		    --estimate-current-event --reserve-time --types=
		    --null-value-pattern= --null-empty-string --reserve-data
		    --remove-key-name-field --inject-key-prefix=
		    --hash-value-field= --on-error= --types-label-delimiter=
		    --replace-invalid-sequence --skip-invalid
		    --max-event-size=
		    --metrics-file= --metrics-interval= --pipeline=
		    --stats -h --help -V --version'
		values='-f|--format:regexp,json,ltsv,csv,tsv,logfmt,apache2,apache,apache_error,nginx,syslog,none,cri,docker,msgpack,multi
		    --try:regexp:,json,ltsv,csv,tsv,logfmt,apache2,apache,apache_error,nginx,syslog,none,cri,docker,msgpack
		    --message-format:rfc3164,rfc5424,auto
		    --parser-engine:regexp,string
		    --time-format|--time-format-fallback:iso8601,unixtime,float
		    --time-type:string,unixtime,float,mixed --timezone:UTC
		    --on-error:keep,drop,tag:'
		;;
	ltail)
		opts='-t= --tag= -k= --key= --path-key= -p= --pos-file=
		    -e= --exclude= -r --read-from-head --ignore-older=
		    --from-encoding= --encoding= --once -F --follow
		    --refresh-interval= --rotate-wait= --poll --poll-interval=
		    --max-line-size= --long-lines= -m= --multiline-start=
		    --multiline-parser= --multiline-rules=
		    --multiline-flush-interval= --end-to-end
		    --end-to-end-timeout=
		    --metrics-file= --metrics-interval= --pipeline=
		    --stats -h --help -V --version'
		values='-p|--pos-file|--multiline-rules:@file
		    --long-lines:split,skip
		    --multiline-parser:docker,cri,java,python,go,ruby'
		files='*'
		;;
	lrecv)
		opts='--listen= --unix= --port-file= --no-udp --shared-key=
		    --user= --self-hostname= --deny-keepalive --allow= --client=
		    --allow-anonymous-source= --chunk-size-limit=
		    --chunk-size-warn= --skip-invalid-event
		    --source-hostname-key= --source-address-key=
		    --add-tag-prefix= --idle-timeout= --handshake-timeout=
		    --request-timeout= --max-connections= --memory-limit= --cert=
		    --key= --ca-file= --tls-client-name= --tls-min-version=
		    --tls-ciphers= --key-passphrase-file= --http= --body-size-limit=
		    --cors-allow-origins= --add-http-headers --add-remote-addr
		    --trust-forwarded-for --http-204 --cors-allow-credentials
		    --metrics= --syslog= --syslog-tag= --syslog-max-size=
		    --metrics-file= --metrics-interval= --pipeline=
		    --end-to-end --end-to-end-timeout= --stats -h
		    --help -V --version'
		values='--unix|--port-file|--cert|--key|--ca-file|--key-passphrase-file:@file
		    --tls-min-version:1.2,1.3 --allow-anonymous-source:yes,no'
		;;
	lforward)
		opts='--ack --ack-timeout= --compress= --time-as-integer
		    --chunk-limit-size= --chunk-limit-records= --flush-interval=
		    --buffer-limit= --heartbeat= --heartbeat-interval=
		    --phi-threshold= --hard-timeout= --recover-wait= --secondary=
		    --retry-wait= --retry-max-interval= --retry-timeout=
		    --retry-max-times= --retry-forever --keepalive
		    --connect-timeout= --send-timeout= --balance= --shared-key=
		    --self-hostname= --username= --password= --tls --ca-file=
		    --cert= --key= --tls-verify-hostname= --insecure --tls-ca=
		    --tls-cert= --tls-key= --tls-verify-name= --tls-insecure
		    --tls-min-version= --tls-ciphers= --key-passphrase-file=
		    --tls-key-passphrase-file= --dns-round-robin
		    --shutdown-timeout= --skip-invalid --max-event-size=
		    --metrics-file= --metrics-interval= --pipeline=
		    --stats -h --help -V --version'
		values='--compress:gzip,zstd,text --heartbeat:transport,udp,none
		    --balance:hash: --tls-min-version:1.2,1.3
		    --ca-file|--cert|--key|--tls-ca|--tls-cert|--tls-key|--key-passphrase-file|--tls-key-passphrase-file:@file'
		;;
	lbuffer)
		opts='-d= --dir= --chunk-limit-size= --chunk-limit-records=
		    --flush-interval= --chunk-keys= --timekey= --timekey-wait=
		    --timekey-use-utc --timekey-zone= --chunk-limit-open=
		    --total-limit-size=
		    --overflow-action= --flush-thread-count= --retry-wait=
		    --retry-exponential-backoff-base= --retry-max-interval=
		    --retry-randomize= --retry-timeout= --retry-max-times=
		    --retry-forever --secondary= --dead-letter-dir= --fsync=
		    --fsync-interval= --shutdown-timeout= --status --json
		    --skip-invalid --max-event-size=
		    --metrics-file= --metrics-interval= --pipeline=
		    --stats -h --help
		    -V --version'
		values='-d|--dir|--dead-letter-dir:@file --chunk-keys:tag,time
		    --overflow-action:block,drop-oldest-chunk,error
		    --retry-randomize:true,false --fsync:always,interval,never'
		;;
	lhttp)
		opts='-f= --format= --batch-size= --batch-records=
		    --flush-interval= --workers= --method= -H= --header=
		    -u= --user= --bearer= --bearer-file= --compress= --timeout=
		    --connect-timeout= --tls-ca= --tls-cert= --tls-key=
		    --tls-insecure --tls-min-version= --tls-ciphers=
		    --tls-key-passphrase-file= --time-key= --time-format= --time-type=
		    --tag-key= --utc --timezone= --index= --id-key= --pipeline=
		    --dead-letter= --retry-wait= --retry-max-interval=
		    --retry-timeout= --retry-max-times= --retry-forever
		    --shutdown-timeout= --skip-invalid --max-event-size=
		    --metrics-file= --metrics-interval= --metrics-pipeline=
		    --stats -h --help -V --version'
		values='-f|--format:ndjson,json,msgpack,elasticsearch
		    --method:POST,PUT --compress:gzip
		    --time-format:iso8601,unixtime,float
		    --time-type:float,unixtime,string --timezone:UTC
		    --bearer-file|--tls-ca|--tls-cert|--tls-key|--tls-key-passphrase-file|--dead-letter:@file
		    --tls-min-version:1.2,1.3'
		;;
	lsyslog)
		opts='-f= --format= --framing= --max-size= --message-key=
		    --severity-key= --severity= --facility-key= --facility=
		    --hostname-key= --hostname= --appname-key= --appname=
		    --procid-key= --msgid-key= --sd-key= --retry-wait=
		    --retry-max-interval= --retry-timeout= --retry-max-times=
		    --retry-forever --connect-timeout= --send-timeout=
		    --shutdown-timeout= --buffer-limit= --tls-ca= --tls-cert=
		    --tls-key= --tls-verify-name= --tls-insecure --tls-min-version=
		    --tls-ciphers= --tls-key-passphrase-file= --skip-invalid
		    --max-event-size=
		    --metrics-file= --metrics-interval= --pipeline=
		    --stats -h --help -V --version'
		values='-f|--format:rfc5424,rfc3164 --framing:octet,newline
		    --severity:emerg,alert,crit,err,warning,notice,info,debug
		    --facility:kern,user,mail,daemon,auth,syslog,lpr,news,uucp,cron,authpriv,ftp,ntp,audit,alert,clock,local0,local1,local2,local3,local4,local5,local6,local7
		    --tls-ca|--tls-cert|--tls-key|--tls-key-passphrase-file:@file
		    --tls-min-version:1.2,1.3'
		;;
	*)
		return 1
		;;
	esac
}

# _lkit_values OPT: completes the argument of OPT from $values.
_lkit_values()
{
	local v list

	for v in $values; do
		case "|${v%%:*}|" in
		*"|$1|"*)
			list=${v#*:}
			if [ "$list" = @file ]; then
				compopt -o filenames 2>/dev/null
				COMPREPLY=($(compgen -f -- "$cur"))
			else
				COMPREPLY=($(compgen -W "${list//,/ }" -- "$cur"))
			fi
			return
			;;
		esac
	done
}

_lkit()
{
	local cur prev prog opts values files w i ended=
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	prog=${1##*/}
	_lkit_spec "$prog" || return
	opts=" ${opts//[$'\n\t']/ } "

	# --opt=value: bash splits it at '=' unless COMP_WORDBREAKS lacks it
	if [ "$cur" = = ]; then
		cur=
	elif [ "$prev" = = ] && [ "$COMP_CWORD" -ge 2 ]; then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		cur=${cur#*=}
	fi
	case $opts in
	*" $prev= "*)
		_lkit_values "$prev"
		return
		;;
	esac

	# options end at the first operand or at --
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [ "$w" = -- ] || [[ $w != -?* ]]; then
			ended=1
			break
		fi
		case " $files " in *" $w "*) files='*' ;; esac
		case $opts in
		*" $w= "*)
			# its argument: the next word, or '=' and the word after
			((i++))
			[ "${COMP_WORDS[i]}" = = ] && ((i++))
			;;
		esac
	done
	if [ -z "$ended" ] && [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "${opts//=/}" -- "$cur"))
	elif [ "$files" = '*' ]; then
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}

complete -F _lkit lcat lout lreform lgrep lparse ltail lforward lrecv lbuffer lhttp lsyslog
