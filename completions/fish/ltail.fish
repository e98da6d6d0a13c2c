# fish completion for ltail (fish loads it by the command's name).
# One line per option of `ltail --help`: -s|--long|argument|description,
# where argument is empty for a flag, '-' for a value with nothing to
# complete, '@file' for a file name, or the values it takes.  The operands
# are files (or globs).
set -l prog ltail
for spec in \
    '-t|--tag|-|event tag (default tail); a * becomes the path, / as .' \
    '-k|--key|-|record key of the line (default message)' \
    '|--from-encoding|-|convert lines from the encoding ENC (iconv)' \
    '|--encoding|-|the encoding written (with --from-encoding)' \
    '|--path-key|-|also put the file path in the record as KEY' \
    '-p|--pos-file|@file|keep read positions in FILE (Fluentd pos_file)' \
    '-e|--exclude|-|leave out paths matching GLOB (repeatable)' \
    '-r|--read-from-head||start files with no position at their start' \
    '|--ignore-older|-|leave out files not modified for TIME' \
    '|--once||read every file to its end, then exit' \
    '-F|--follow||follow files by name across rotation (the default)' \
    '|--refresh-interval|-|look for new files every TIME (default 60s)' \
    '|--rotate-wait|-|keep reading a rotated or deleted file for TIME (5s)' \
    '|--poll||poll the files instead of using inotify' \
    '|--poll-interval|-|how often to poll (default 1s)' \
    '|--max-line-size|-|longest line passed on whole (default 1M)' \
    '|--long-lines|split skip|cut longer lines into parts or skip them' \
    '-m|--multiline-start|-|a line matching REGEX starts a message' \
    '|--multiline-parser|docker cri java python go ruby|join lines as Fluent Bit parsers NAME,...' \
    '|--multiline-rules|@file|read more parsers from FILE ([MULTILINE_PARSER])' \
    '|--multiline-flush-interval|-|pass a message on after TIME without lines' \
    '|--end-to-end||save positions of lines delivered end to end' \
    '|--end-to-end-timeout|-|wait TIME for the last mark to come back (30s)' \
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
