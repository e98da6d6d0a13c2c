#!/bin/sh
# lreform --jq: the native evaluator of jq's subset (jqfast) against libjq.
# Hundreds of programs, in the subset and near it, over varied records;
# each runs twice, natively and with LKIT_JQ_NATIVE=0 (libjq only), and
# the output bytes, messages and exit status must be the same.
. "${0%/*}/lib.sh"
PY=/usr/bin/python3
plan 7

cat >"$T/gen.py" <<'EOF'
import msgpack, random, struct, subprocess, sys, os

rnd = random.Random(1230)
T = sys.argv[1]
pk = lambda v: msgpack.packb(v, use_bin_type=True)

def s8(s):          # a short string in a str8 header (not the smallest)
    b = s.encode()
    return b'\xd9' + bytes([len(b)]) + b

def rawmap(pairs):  # pairs of raw key and value bytes, a fixmap
    return bytes([0x80 | len(pairs)]) + b''.join(k + v for k, v in pairs)

STRS = ["WARN", "warn", "Info", "INFO", "h\u00e9llo \u00c0BZ", "", "x",
        "a\"b\\c\nd\te", "\u2603 snow", "x" * 40, "\U0001f600 MiXeD",
        "error", "Warn", "ABC xyz 123", "\u00e9", "12", "-7", "007", "-0",
        "1e3", " 5", "123456789012345678", "-", "3.5", "0"]
NUMS = [0, 1, -1, 5, 127, 128, 255, -33, 65535, 2**31, 2**53 + 1,
        2**63 - 1, -2**63, 2**64 - 1, 0.5, 1.0, -0.0, 2.5, 1e300, 3.14,
        1e20, 1e19, 9007199254740993.0]
KEYS = ["level", "msg", "a", "b", "n", "x", "nested", "k k", "\u00e9"]

def scalar():
    r = rnd.random()
    if r < 0.45:
        return pk(rnd.choice(STRS))
    if r < 0.75:
        return pk(rnd.choice(NUMS))
    if r < 0.82:
        return pk(rnd.choice([True, False, None]))
    if r < 0.86:
        return b'\xca' + struct.pack('>f', rnd.choice([0.5, 1.0, 2.25]))
    if r < 0.89:
        return s8(rnd.choice(["WARN", "a", "warn"]))
    if r < 0.91:
        return pk(b"WARN")                      # bin
    if r < 0.93:
        return b'\xd7\x00' + struct.pack('>II', 1500000000, 5)  # EventTime
    if r < 0.94:
        return b'\xd4\x05\x01'                  # another ext
    if r < 0.96:
        return b'\xa3\xffab'                    # invalid UTF-8
    return pk(rnd.choice(NUMS))

def value(depth=0):
    r = rnd.random()
    if depth < 2 and r < 0.12:
        return nested(depth + 1)
    if depth < 2 and r < 0.18:
        return b'\x93' + pk(1) + pk("a") + scalar()
    return scalar()

def nested(depth):
    keys = rnd.sample(["b", "c", "d", "level", "\u00e9"], rnd.randint(0, 3))
    pairs = [(pk(k), value(depth)) for k in keys]
    if rnd.random() < 0.1:
        return b'\xde' + struct.pack('>H', len(pairs)) + \
            b''.join(k + v for k, v in pairs)   # map16, few pairs
    return rawmap(pairs)

def record():
    keys = rnd.sample(KEYS, rnd.randint(0, 7))
    pairs = [(pk(k), value()) for k in keys]
    r = rnd.random()
    if r < 0.03:
        pairs.append((pk(1), pk("int key")))
    elif r < 0.06 and pairs:
        pairs.append(pairs[0])                  # a key twice
    elif r < 0.09:
        pairs.append((pk(b"level"), pk("BIN KEY")))
    elif r < 0.11:
        pairs.append((s8("a"), pk("s8 key")))
    elif r < 0.13:
        pairs.append((b'\xa2\xc3(', pk("bad key")))
    return rawmap(pairs)

def event(rec):
    return b'\x93' + pk("t") + pk(1500000000) + rec

plain = [{"level": l, "msg": m, "a": 1, "n": n}
         for l in ["WARN", "Info", "error"] for m in ["hi", "h\u00e9"]
         for n in [1, 2.5]]
with open(T + "/plain.bin", "wb") as f:
    for r in plain:
        f.write(event(pk(r)))
with open(T + "/recs.bin", "wb") as f:
    for _ in range(300):
        f.write(event(record()))

P1 = [".level", ".a", ".b", ".n", ".x", ".msg", '.["k k"]', '.["\u00e9"]',
      ".missing", '.["a"]']
PN = P1 + [".nested.b", ".nested.c", ".nested.level", '.nested["\u00e9"]',
           ".nested.c.d", ".a.b", ".missing.b", '.nested.b.c']
CONSTS = ['"x"', '"WARN"', '"warn"', '""', '"\u00e9"', '"a\\"b\\\\c\\n"',
          '"Info"', "0", "1", "5", "2.5", "1.0", "0.5", "255",
          "100000000000000000000", "9007199254740993", "true", "false",
          "null", "3.14", "007"]
OPS = ["==", "!=", "<", "<=", ">", ">="]
LITS = ['"WARN"', '"ar"', '""', '"\u00e9"', '"x x"', '"a\\"b"', '"-/ #"']
KS = ["a", "b", "level", "x", '"k k"', '"\u00e9"', '""', "msg"]

def obj():
    keys = rnd.sample(KS, rnd.randint(0, 4))
    ents = []
    for k in keys:
        r = rnd.random()
        if r < 0.3 and not k.startswith('"'):
            ents.append(k)
        elif r < 0.7:
            ents.append("%s: %s" % (k, rnd.choice(PN)))
        else:
            ents.append("%s: %s" % (k, rnd.choice(CONSTS)))
    return "{" + ", ".join(ents) + "}"

def cond(d=0):
    r = rnd.random()
    if d < 2 and r < 0.15:
        return "(%s) %s (%s)" % (cond(d + 1), rnd.choice(["and", "or"]),
                                cond(d + 1))
    if d < 2 and r < 0.25:
        return "%s %s %s" % (cond(d + 1), rnd.choice(["and", "or"]),
                             cond(d + 1))
    if d < 2 and r < 0.32:
        return "(%s | not)" % cond(d + 1)
    if r < 0.36:
        return "(%s | test(%s))" % (rnd.choice(PN), rnd.choice(LITS))
    if r < 0.4:
        return rnd.choice(PN)
    if r < 0.5:
        return "%s %s %s" % (rnd.choice(CONSTS), rnd.choice(OPS),
                             rnd.choice(PN))
    if r < 0.55:
        return "%s %s %s" % (rnd.choice(PN), rnd.choice(OPS),
                             rnd.choice(PN))
    return "%s %s %s" % (rnd.choice(PN), rnd.choice(OPS), rnd.choice(CONSTS))

def stage():
    r = rnd.random()
    if r < 0.05:
        return "."
    if r < 0.25:
        return "%s = %s" % (rnd.choice(P1), rnd.choice(CONSTS))
    if r < 0.4:
        return "%s = %s" % (rnd.choice(P1), rnd.choice(PN))
    if r < 0.6:
        return "%s |= %s" % (rnd.choice(P1), rnd.choice(
            ["ascii_downcase", "ascii_upcase", "tostring", "length",
             "tonumber"]))
    if r < 0.7:
        return "del(%s)" % ", ".join(rnd.sample(P1, rnd.randint(1, 3)))
    if r < 0.78:
        return obj()
    return "select(%s)" % cond()

subset = [".level |= ascii_downcase", 'select(.level == "WARN")',
          "del(.msg)", '.a = "x"', ".", ".a = .n", ".a = .a",
          'select(.n > 1 and .level != "x" | not)', ".n = 1",
          '.["k k"] = null | .level|=ascii_upcase|del(.a,.b)',
          'select(.nested.b) | .x = .nested', ".a = .missing.b",
          "select(.a) | .", ".a = .b | .", '.a = .["b"].c | .b = .a',
          "del(.a) | .", 'select(.msg | test("ar"))', "{level, msg}",
          '{a: .level, "k k": 1, b: .nested.b} | .a |= ascii_downcase',
          "{}", 'select(.level | test("WARN") | not) | {x: .n}',
          'select(.a | test("x"))', "{a: .b}", "select(.a == null) | {x: 1}"]
for _ in range(330):
    subset.append(" | ".join(stage() for _ in range(rnd.randint(1, 4))))
# near the subset: valid jq that jqfast must leave to libjq
near = [".a.b = 1", ".a |= utf8bytelength",
        '.a = "\\u00e9"', ".a = -1", ".n += 1", ".a = .b + 1",
        '.["a"]?', "del(.a.b)", ".x = 1e3", ".a |= ascii_downcase | .b",
        "select(.a == [1])", "..", '.a = "\\(.b)"', ". as $x | .",
        ".x = $tag", ".a = .b.c?", ".level |= (ascii_downcase)",
        ".a .b = 1", "del(.[0])", ".a = 1e20",
        ".a = 1 | empty", "select(.a == 1, .b == 2)", ".a = (.b)",
        "select(not)", '.a |= "x"',
        ".a = 1 # comment", "if .a then . else empty end", ".[]",
        ".a = .b // 1", ".a = 1.", ".a = .5",
        "tostring", ".a |= tostring | .b = [1]",
        "select(.level == \"WARN\") | .a", 'select(.a | test("^a"))',
        'select(.a | test("a.b"))', 'select(.a | test("x"; "i"))',
        'select(.a | test("\\\\d"))', "{a: .b | .c}", "{(.a): 1}",
        '{"a"}', "{a: 1, a: 2}", 'select(test("x"))', "{a: .b, c: -1}",
        'select(.a | test("a") and .b)', ".a = 1\r", ".e5 = 1"]

def run(prog, native, inp):
    env = dict(os.environ)
    env["LKIT_JQ_NATIVE"] = "1" if native else "0"
    p = subprocess.run(["lreform", "--stats", "--jq", prog],
                       stdin=open(inp, "rb"), env=env,
                       capture_output=True, timeout=60)
    err = p.stderr.replace(b", jq native ", b"\0").split(b"\0")[0]
    return p.returncode, p.stdout, p.stderr, err

bad_diff, bad_sub, bad_near, events = [], [], [], 0
for prog in subset + near:
    a = run(prog, True, T + "/recs.bin")
    b = run(prog, False, T + "/recs.bin")
    # the stats line ends differently: compare what comes before
    sa = [l.split(b", jq native ")[0] for l in a[2].splitlines()]
    sb = [l for l in b[2].splitlines()]
    if (a[0], a[1], sa) != (b[0], b[1], sb):
        bad_diff.append(prog)
    native = b", jq native " in a[2]
    if prog in subset and not native:
        bad_sub.append(prog)
    if prog in near and native:
        bad_near.append(prog)
    if native:
        events += int(a[2].split(b", jq native ")[-1].split()[0])
with open(T + "/result", "w") as f:
    f.write("programs %d\n" % len(subset + near))
    f.write("native events %d\n" % events)
    for name, l in (("differ", bad_diff), ("not native", bad_sub),
                    ("native but near", bad_near)):
        for p in l:
            f.write("%s: %s\n" % (name, p))
EOF

$PY "$T/gen.py" "$T" || echo "Bail out! the generator failed"

check "the records and programs were made" \
	"test \$(sed -n 's/^programs //p' '$T/result') -ge 300 &&
	 test -s '$T/recs.bin'"
check "native and libjq give the same bytes, messages and status" \
	"! grep '^differ' '$T/result'"
check "every program of the subset is run natively" \
	"! grep '^not native' '$T/result'"
check "no program outside the subset is run natively" \
	"! grep '^native but near' '$T/result'"
check "most events of the varied records were done natively" \
	"test \$(sed -n 's/^native events //p' '$T/result') -gt 50000"
check "the bench programs run natively on every plain event" \
	"for p in '.level |= ascii_downcase' 'select(.level == \"WARN\")' \
	    'del(.msg)' '.a = \"x\"'; do
		lreform --stats --jq \"\$p\" <'$T/plain.bin' 2>&1 >/dev/null |
		    grep -q 'events in 12,.*jq native 12\$' || exit 1
	done"
check "LKIT_JQ_NATIVE=0 runs libjq only" \
	"! LKIT_JQ_NATIVE=0 lreform --stats --jq 'del(.msg)' <'$T/plain.bin' 2>&1 >/dev/null |
	    grep -q 'jq native'"
