# fish completion for lsyslog (fish loads it by the command's name).
# One line per option of `lsyslog --help`: -s|--long|argument|description,
# where argument is empty for a flag, '-' for a value with nothing to
# complete, '@file' for a file name, or the values it takes.  The operand
# is the server, [udp:|tcp:|tls:]HOST[:PORT].
set -l prog lsyslog
complete -c $prog -f
complete -c $prog -a 'udp: tcp: tls:' -d transport
complete -c $prog -a '(__fish_print_hostnames)'
for spec in \
    '-f|--format|rfc5424 rfc3164|message format (default rfc5424)' \
    '|--framing|octet newline|tcp and tls framing' \
    '|--max-size|-|cut longer messages' \
    '|--message-key|-|the field of the text (default message)' \
    '|--severity-key|-|field holding the severity' \
    '|--severity|emerg alert crit err warning notice info debug|severity otherwise (default info)' \
    '|--facility-key|-|field holding the facility' \
    '|--facility|kern user mail daemon auth syslog lpr news uucp cron authpriv ftp ntp audit alert clock local0 local1 local2 local3 local4 local5 local6 local7|facility otherwise (default user)' \
    '|--hostname-key|-|field holding the HOSTNAME' \
    '|--hostname|-|HOSTNAME otherwise (default: this host)' \
    '|--appname-key|-|field holding the APP-NAME' \
    '|--appname|-|APP-NAME otherwise (default: the tag)' \
    '|--procid-key|-|field holding the PROCID' \
    '|--msgid-key|-|field holding the MSGID (rfc5424)' \
    '|--sd-key|-|map field sent as structured data' \
    '|--retry-wait|-|first wait after a failure (default 1s)' \
    '|--retry-max-interval|-|longest wait between retries (default 60s)' \
    '|--retry-timeout|-|give up after failing this long (default 72h)' \
    '|--retry-max-times|-|give up after N failures in a row' \
    '|--retry-forever||never give up' \
    '|--connect-timeout|-|connect and TLS handshake (default 10s)' \
    '|--send-timeout|-|longest stall while sending (default 60s)' \
    '|--shutdown-timeout|-|after SIGTERM, time left to send (default 10s)' \
    '|--buffer-limit|-|stop reading while this much waits (default 64M)' \
    '|--tls-ca|@file|CA certificates for the server' \
    '|--tls-cert|@file|client certificate (PEM)' \
    '|--tls-key|@file|client private key (PEM)' \
    '|--tls-verify-name|-|name the server certificate must carry' \
    '|--tls-insecure||do not verify the server certificate' \
    '|--tls-min-version|-|lowest TLS version, 1.2 or 1.3 (default 1.2)' \
    '|--tls-ciphers|-|TLS 1.2 ciphers and TLS 1.3 suites allowed, colon-separated' \
    '|--tls-key-passphrase-file|@file|the passphrase of an encrypted --tls-key' \
    '|--skip-invalid||skip bad input, count it and report at exit' \
    '|--max-event-size|-|largest event accepted (default 64M)' \
    '|--metrics-file|@file|write counters to FILE in the Prometheus text format' \
    '|--metrics-interval|-|rewrite the metrics file this often (default 10s)' \
    '|--pipeline|-|the pipeline label of the metrics (default empty)' \
    '|--stats||print counters to stderr at exit' \
    '-h|--help||show help and exit' \
    '-V|--version||show the version and exit'
    set -l f (string split '|' -- $spec)
    set -l args -c $prog -l (string sub -s 3 -- $f[2]) -d $f[4]
    test -n "$f[1]"; and set -a args -s (string sub -s 2 -- $f[1])
    switch $f[3]
        case ''
        case '-'
            set -a args -x
        case '@file'
            set -a args -r -F
        case '*'
            set -a args -x -a $f[3]
    end
    complete $args
end
