# fish completion for lreform (fish loads it by the command's name).
# One line per option of `lreform --help`: -s|--long|argument|description,
# where argument is empty for a flag, '-' for a value with nothing to
# complete, '@file' for a file name, or the values it takes.
set -l prog lreform
complete -c $prog -f
for spec in \
    '-j|--jq|-|transform each record with a jq program' \
    '-t|--tag|-|retag events (placeholders allowed)' \
    '-d|--remove-keys|-|remove fields (keys or $.a.b paths)' \
    '-k|--keep-keys|-|keep only these input fields (implies -n)' \
    '-m|--rename|-|rename field OLD to NEW, in place' \
    '-n|--renew-record||start from an empty record' \
    '-a|--auto-typecast||a VALUE that is one placeholder keeps its type' \
    '|--renew-time-key|-|set the event time from field KEY (unix time)' \
    '|--time-format|iso8601 unixtime float|format of ${time}' \
    '|--utc||write ${time} in UTC' \
    '|--timezone|UTC|write ${time} in TZ' \
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
