# fish completion for lforward (fish loads it by the command's name).
# One line per option of `lforward --help`: -s|--long|argument|description,
# where argument is empty for a flag, '-' for a value with nothing to
# complete, '@file' for a file name, or the values it takes.  The operands
# are servers, HOST:PORT or unix:PATH, then [,weight=N][,standby]
# [,name=NAME][,shared_key=KEY][,username=U][,password=P].
set -l prog lforward
complete -c $prog -f
complete -c $prog -a '(__fish_print_hostnames)'
for spec in \
    '|--ack||ask for an ack of every request; resend until acked' \
    '|--ack-timeout|-|wait this long for an ack (default 190s)' \
    '|--compress|gzip zstd text|send CompressedPackedForward (zstd: Fluentd 1.19)' \
    '|--time-as-integer||send times as integer seconds, not EventTime' \
    '|--chunk-limit-size|-|largest request (default 1M)' \
    '|--chunk-limit-records|-|most events in a request' \
    '|--flush-interval|-|send a request at least this often (default 1s)' \
    '|--buffer-limit|-|stop reading stdin while this much is held (default 64M)' \
    '|--heartbeat|transport udp none|how servers are watched' \
    '|--heartbeat-interval|-|heartbeat period (default 1s)' \
    '|--phi-threshold|-|detach a server when phi exceeds N (default 16)' \
    '|--hard-timeout|-|detach a server silent this long (default 60s)' \
    '|--recover-wait|-|heartbeats needed to use a server again (default 10s)' \
    '|--secondary|-|where requests go when retries are exhausted (HOST:PORT or unix:PATH)' \
    '|--retry-wait|-|first wait after a failure, doubled each time (default 1s)' \
    '|--retry-max-interval|-|longest wait between retries (default 60s)' \
    '|--retry-timeout|-|give a request up after failing this long (default 72h)' \
    '|--retry-max-times|-|give a request up after N failures' \
    '|--retry-forever||never give a request up' \
    '|--keepalive||keep connections open between requests' \
    '|--connect-timeout|-|connect and handshake timeout (default 10s)' \
    '|--send-timeout|-|longest stall while sending (default 60s)' \
    '|--balance|-|send events with the same KEY to the same server (hash:KEY)' \
    '|--shared-key|-|HELO/PING/PONG handshake with KEY' \
    '|--self-hostname|-|hostname sent in PING' \
    '|--username|-|user for the handshake' \
    '|--password|-|password for the handshake' \
    '|--tls||connect with TLS' \
    '|--ca-file|@file|CA certificates to verify servers' \
    '|--cert|@file|client certificate (PEM)' \
    '|--key|@file|client private key (PEM)' \
    '|--tls-verify-hostname|-|name the server certificate must carry' \
    '|--insecure||do not verify server certificates' \
    '|--tls-ca|@file|the same as --ca-file' \
    '|--tls-cert|@file|the same as --cert' \
    '|--tls-key|@file|the same as --key' \
    '|--tls-verify-name|-|the same as --tls-verify-hostname' \
    '|--tls-insecure||the same as --insecure' \
    '|--tls-min-version|-|lowest TLS version, 1.2 or 1.3 (default 1.2)' \
    '|--tls-ciphers|-|TLS 1.2 ciphers and TLS 1.3 suites allowed, colon-separated' \
    '|--key-passphrase-file|@file|the passphrase of an encrypted --key' \
    '|--tls-key-passphrase-file|@file|the same as --key-passphrase-file' \
    '|--dns-round-robin||each connection to the next address of the name' \
    '|--shutdown-timeout|-|after SIGTERM, time left to deliver (default 10s)' \
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
