# fish completion for lcat (fish loads it by the command's name).
# One line per option of `lcat --help`: -s|--long|argument|description,
# where argument is empty for a flag, '-' for a value with nothing to
# complete, '@file' for a file name, or the values it takes.
set -l prog lcat
complete -c $prog -f
# with -m the operands are event files or FIFOs; otherwise a tag
complete -c $prog -n '__fish_contains_opt -s m merge' -F
for spec in \
    '-m|--merge||merge the event streams in FILE... (files or FIFOs)' \
    '|--msgpack||read msgpack maps instead of JSON' \
    '|--time-key|-|take the event time from field KEY' \
    '|--time-format|iso8601 unixtime float|time format of KEY' \
    '|--keep-time-key||keep KEY in the record' \
    '|--utc||times without a zone are UTC' \
    '|--timezone|UTC|zone of times without one' \
    '|--skip-invalid||skip bad input, count it and report at exit' \
    '|--max-event-size|-|largest value or event accepted (default 64M)' \
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
