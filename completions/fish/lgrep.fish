# fish completion for lgrep (fish loads it by the command's name).
# One line per option of `lgrep --help`: -s|--long|argument|description,
# where argument is empty for a flag, '-' for a value with nothing to
# complete, '@file' for a file name, or the values it takes.
set -l prog lgrep
complete -c $prog -f
for spec in \
    '-r|--regexp|-|keep events whose field KEY matches PATTERN' \
    '-x|--exclude|-|drop events whose field KEY matches PATTERN' \
    '|--or||the -r/-x that follow form an <or> section' \
    '|--and||the -r/-x that follow form an <and> section' \
    '-t|--tag|-|keep events whose tag matches PATTERN' \
    '-j|--jq|-|keep events whose jq CONDITION is true' \
    '-i|--ignore-case||match every PATTERN ignoring case' \
    '-v|--invert-match||write the events not selected' \
    '-c|--count||write only the number of selected events' \
    '|--add-tag-prefix|-|prepend PREFIX. to the tag of selected events' \
    '|--remove-tag-prefix|-|strip PREFIX. from the tag of selected events' \
    '|--add-tag-suffix|-|append .SUFFIX to the tag of selected events' \
    '|--remove-tag-suffix|-|strip .SUFFIX from the tag of selected events' \
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
