# fish completion for lbuffer (fish loads it by the command's name).
# One line per option of `lbuffer --help`: -s|--long|argument|description,
# where argument is empty for a flag, '-' for a value with nothing to
# complete, '@file' for a file name, or the values it takes.  After --
# comes the output command.
set -l prog lbuffer
complete -c $prog -f
for spec in \
    '-d|--dir|@file|keep chunks as files in DIR (default: in memory)' \
    '|--chunk-limit-size|-|close a chunk at this size (default 8M)' \
    '|--chunk-limit-records|-|close a chunk at N events' \
    '|--flush-interval|-|close a chunk this long after it opened (default 60s)' \
    '|--chunk-keys|tag time|one open chunk per tag, time bucket and record key values' \
    '|--timekey|-|length of a time bucket (with --chunk-keys time)' \
    '|--timekey-wait|-|flush a bucket this long after its end (default 10m)' \
    '|--timekey-use-utc||align buckets and format times in UTC (default local)' \
    '|--timekey-zone|-|align buckets and format times in ZONE: +HHMM or a tz name' \
    '|--chunk-limit-open|-|most open chunks; the oldest closes first (default 256)' \
    '|--total-limit-size|-|most bytes held (default 512M, 64G with --dir)' \
    '|--overflow-action|block drop-oldest-chunk error|what to do when full' \
    '|--flush-thread-count|-|run up to N outputs at once (default 1)' \
    '|--retry-wait|-|wait after the first failure (default 1s)' \
    '|--retry-exponential-backoff-base|-|factor from one wait to the next (default 2)' \
    '|--retry-max-interval|-|longest wait between retries (default none)' \
    '|--retry-randomize|true false|vary waits by up to 12.5% (default true)' \
    '|--retry-timeout|-|give a chunk up after failing this long (default 72h)' \
    '|--retry-max-times|-|give a chunk up after N retries' \
    '|--retry-forever||never give a chunk up' \
    '|--secondary|-|run sh -c CMD with a chunk given up' \
    '|--dead-letter-dir|@file|where chunks given up go (default DIR/dead)' \
    '|--fsync|always interval never|when chunk files are forced to disk' \
    '|--fsync-interval|-|period of --fsync interval (default 1s)' \
    '|--shutdown-timeout|-|after SIGTERM, time left to flush (default 10s)' \
    '|--status||show the chunks held in --dir and exit' \
    '|--json||show --status as JSON' \
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
