# fish completion for lhttp (fish loads it by the command's name).
# One line per option of `lhttp --help`: -s|--long|argument|description,
# where argument is empty for a flag, '-' for a value with nothing to
# complete, '@file' for a file name, or the values it takes.
set -l prog lhttp
complete -c $prog -f
for spec in \
    '-f|--format|ndjson json msgpack elasticsearch|how records are sent' \
    '|--batch-size|-|largest request body (default 5M)' \
    '|--batch-records|-|most events in a request' \
    '|--flush-interval|-|send a batch at least this often' \
    '|--workers|-|requests in flight at once' \
    '|--method|POST PUT|the request method' \
    '-H|--header|-|add a request header (NAME: VALUE)' \
    '-u|--user|-|basic authentication (USER:PASSWORD)' \
    '|--bearer|-|send Authorization: Bearer TOKEN' \
    '|--bearer-file|@file|the bearer token from FILE' \
    '|--compress|gzip|gzip request bodies' \
    '|--timeout|-|longest request (default 60s)' \
    '|--connect-timeout|-|longest connect (default 10s)' \
    '|--tls-ca|@file|CA certificates to verify the server' \
    '|--tls-cert|@file|client certificate (PEM)' \
    '|--tls-key|@file|client private key (PEM)' \
    '|--tls-insecure||do not verify the server certificate' \
    '|--tls-min-version|-|lowest TLS version, 1.2 or 1.3 (default 1.2)' \
    '|--tls-ciphers|-|TLS 1.2 ciphers and TLS 1.3 suites allowed, colon-separated' \
    '|--tls-key-passphrase-file|@file|the passphrase of an encrypted --tls-key' \
    '|--time-key|-|add the event time to the record as KEY' \
    '|--time-format|iso8601 unixtime float|format of the --time-key value' \
    '|--time-type|float unixtime string|type of the --time-key value' \
    '|--tag-key|-|add the tag to the record as KEY' \
    '|--utc||times and --index in UTC' \
    '|--timezone|UTC|times and --index in TZ' \
    '|--index|-|elasticsearch index (strftime, placeholders)' \
    '|--id-key|-|elasticsearch _id from field KEY' \
    '|--pipeline|-|elasticsearch ingest pipeline' \
    '|--dead-letter|@file|write rejected events to DIR' \
    '|--retry-wait|-|first wait after a failure' \
    '|--retry-max-interval|-|longest wait between retries' \
    '|--retry-timeout|-|give a batch up after failing this long' \
    '|--retry-max-times|-|give a batch up after N retries' \
    '|--retry-forever||never give a batch up' \
    '|--shutdown-timeout|-|time left to deliver after SIGTERM' \
    '|--skip-invalid||skip bad input, count it and report at exit' \
    '|--max-event-size|-|largest event accepted (default 64M)' \
    '|--metrics-file|@file|write counters to FILE in the Prometheus text format' \
    '|--metrics-interval|-|rewrite the metrics file this often (default 10s)' \
    '|--metrics-pipeline|-|the pipeline label of the metrics (default empty)' \
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
