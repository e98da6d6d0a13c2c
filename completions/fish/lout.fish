# fish completion for lout (fish loads it by the command's name).
# One line per option of `lout --help`: -s|--long|argument|description,
# where argument is empty for a flag, '-' for a value with nothing to
# complete, '@file' for a file name, or the values it takes.
set -l prog lout
complete -c $prog -f
for spec in \
    '-f|--format|stdout json ltsv csv tsv single_value msgpack out_file|how events are written' \
    '|--fields|-|fields to write, in order (csv, tsv)' \
    '|--key|-|the field single_value writes' \
    '|--time-key|-|add the event time to the record as KEY' \
    '|--tag-key|-|add the tag to the record as KEY' \
    '|--time-format|iso8601 unixtime float|format of written times' \
    '|--time-type|float unixtime string|type of the --time-key value' \
    '|--delimiter|-|field delimiter' \
    '|--label-delimiter|-|ltsv label delimiter' \
    '|--utc||write times in UTC' \
    '|--timezone|UTC|write times in TZ' \
    '-p|--path|@file|append to files named by event time, tag and fields' \
    '|--compress|gzip|gzip the --path files' \
    '|--max-open-files|-|keep at most N --path files open (default 64)' \
    '-t|--tag|-|write only events whose tag matches PATTERN' \
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
