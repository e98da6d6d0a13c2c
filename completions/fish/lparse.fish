# fish completion for lparse (fish loads it by the command's name).
# One line per option of `lparse --help`: -s|--long|argument|description,
# where argument is empty for a flag, '-' for a value with nothing to
# complete, '@file' for a file name, or the values it takes.
set -l prog lparse
complete -c $prog -f
for spec in \
    '-k|--key|-|the field to parse (default message)' \
    '-e|--regex|-|PCRE2 regex with named groups (?<name>...), or /REGEX/im' \
    '-f|--format|regexp json ltsv csv tsv logfmt apache2 apache apache_error nginx syslog none cri docker msgpack multi|the parser format' \
    '|--try|json ltsv csv tsv logfmt apache2 apache apache_error nginx syslog none cri docker msgpack regexp:|multi: an alternative, tried in turn' \
    '|--keys|-|field names of csv and tsv columns' \
    '|--delimiter|-|csv, tsv and ltsv delimiter' \
    '|--delimiter-pattern|-|ltsv: split items where REGEX matches' \
    '|--label-delimiter|-|ltsv: between label and value' \
    '|--message-key|-|none: the field for the line; cri: of the message' \
    '|--message-format|rfc3164 rfc5424 auto|syslog message format' \
    '|--with-priority||syslog: lines start with <PRI>' \
    '|--rfc5424-time-format|-|syslog: time format of RFC 5424 lines' \
    '|--parser-engine|regexp string|syslog parser engine' \
    '|--no-colonless-ident||syslog string engine: no ident without a colon' \
    '|--time-key|-|field with the event time' \
    '|--time-format|iso8601 unixtime float|format of the time field' \
    '|--time-format-fallback|iso8601 unixtime float|a time format tried when the ones before fail' \
    '|--time-type|string unixtime float mixed|how the time field is read' \
    '|--keep-time-key||keep the time field in the record' \
    '|--utc||times without a zone are UTC' \
    '|--timezone|UTC|zone of times without one' \
    '|--estimate-current-event||no time field: use the current time' \
    '|--reserve-time||keep the event time even if a time was parsed' \
    '|--types|-|convert fields: K:TYPE,...' \
    '|--types-label-delimiter|-|between a name and its type; given, --regex group names may carry a type' \
    '|--null-value-pattern|-|values matching REGEX become null' \
    '|--null-empty-string||empty values become null' \
    '|--reserve-data||keep the original fields too' \
    '|--remove-key-name-field||with --reserve-data: drop the parsed field' \
    '|--inject-key-prefix|-|put PREFIX before the parsed keys' \
    '|--hash-value-field|-|put the parsed fields in a map under KEY' \
    '|--on-error|keep drop tag:|what to do with unparsed events' \
    '|--replace-invalid-sequence||make bytes that are not UTF-8 ? before parsing' \
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
