# fish completion for lrecv (fish loads it by the command's name).
# One line per option of `lrecv --help`: -s|--long|argument|description,
# where argument is empty for a flag, '-' for a value with nothing to
# complete, '@file' for a file name, or the values it takes.
set -l prog lrecv
complete -c $prog -f
for spec in \
    '|--listen|-|Forward over TCP, and UDP heartbeats, here ([ADDR]:PORT)' \
    '|--unix|@file|Forward over a unix socket at PATH' \
    '|--port-file|@file|write the ports bound to FILE' \
    '|--no-udp||do not answer UDP heartbeats' \
    '|--shared-key|-|require the HELO/PING/PONG handshake with KEY' \
    '|--user|-|also require this user (NAME:PASSWORD)' \
    '|--self-hostname|-|hostname sent in PONG' \
    '|--deny-keepalive||tell clients (HELO) not to keep connections open' \
    '|--allow|-|accept clients from these addresses only (CIDR list)' \
    '|--client|-|shared key and users for a network (CIDR[,shared_key=K][,users=A:B])' \
    '|--allow-anonymous-source|yes no|no: only --client networks pass the handshake' \
    '|--chunk-size-limit|-|drop larger requests, unacked (default 64M)' \
    '|--chunk-size-warn|-|log requests larger than SIZE' \
    '|--skip-invalid-event||drop invalid entries alone and ack their request' \
    '|--source-hostname-key|-|add the client host name to records as KEY' \
    '|--source-address-key|-|add the client address to records as KEY' \
    '|--add-tag-prefix|-|prepend PREFIX. to every tag' \
    '|--handshake-timeout|-|close clients not through TLS and PING by then (default 10s)' \
    '|--request-timeout|-|drop a request not whole by then (default 60s, 0 never)' \
    '|--memory-limit|-|cap the connection buffers in all (default 1G)' \
    '|--idle-timeout|-|close connections silent this long (default 300s)' \
    '|--max-connections|-|refuse connections beyond N (default 1024)' \
    '|--cert|@file|serve TLS with this certificate chain (PEM)' \
    '|--key|@file|the private key of --cert (PEM)' \
    '|--ca-file|@file|require client certificates signed by these CAs' \
    '|--tls-client-name|-|require a client certificate for NAME (repeatable)' \
    '|--tls-min-version|-|lowest TLS version, 1.2 or 1.3 (default 1.2)' \
    '|--tls-ciphers|-|TLS 1.2 ciphers and TLS 1.3 suites allowed, colon-separated' \
    '|--key-passphrase-file|@file|the passphrase of an encrypted --key' \
    '|--http|-|accept HTTP POST /TAG here ([tls:][ADDR]:PORT)' \
    '|--body-size-limit|-|largest HTTP body, else 413 (default 32M)' \
    '|--cors-allow-origins|-|answer CORS for these origins (* for any)' \
    '|--add-http-headers||add the request headers to records as HTTP_NAME' \
    '|--add-remote-addr||add the client address to records as REMOTE_ADDR' \
    '|--trust-forwarded-for||REMOTE_ADDR from the first X-Forwarded-For address' \
    '|--http-204||answer 204 No Content, not 200' \
    '|--cors-allow-credentials||send Access-Control-Allow-Credentials: true' \
    '|--metrics|-|serve /metrics and /api/plugins.json here ([tls:][ADDR]:PORT)' \
    '|--metrics-file|@file|write counters to FILE in the Prometheus text format' \
    '|--metrics-interval|-|rewrite the metrics file this often (default 10s)' \
    '|--pipeline|-|the pipeline label of the metrics (default empty)' \
    '|--syslog|-|accept syslog (RFC 5424, 3164) here (tcp:, udp: or tls:[ADDR]:PORT)' \
    '|--syslog-tag|-|tag syslog events PREFIX.FACILITY.SEVERITY (default syslog)' \
    '|--syslog-max-size|-|drop larger syslog messages (default 64k)' \
    '|--end-to-end||ack and answer once the last lkit stage delivered the events' \
    '|--end-to-end-timeout|-|give up a reply not confirmed by then (default 30s)' \
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
