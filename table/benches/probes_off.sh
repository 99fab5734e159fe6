#!/usr/bin/env bash
# Probes compiled off vs a build without probes (the target: within 2%).
#
# Builds the `probes_off` bench twice: against the table as it is (plain operations are the
# `*_probed` ones with `NoProbe`), and against a twin copy of table/src with every probe call
# deleted (under target/, never committed). Then:
#   1. compares the machine code of the hot loops and of every table function they use,
#      normalised for addresses (identical code means a difference of exactly 0);
#   2. counts instructions per operation inside the loops with callgrind (repeatable on a noisy
#      machine), if valgrind is installed, and in the table as it is, the lookup's and a
#      writer's churn on a table of either allocator;
#   3. times both builds in alternating runs (A B B A ...), ROUNDS times (default 10).
#
# Usage: table/benches/probes_off.sh            (from anywhere in the repository)
#        ROUNDS=8 table/benches/probes_off.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds="${ROUNDS:-10}"
target_dir="${CARGO_TARGET_DIR:-target}"
twin="$target_dir/probes-off-twin"
work="$twin/out"

# --- the twin: table/src without probe calls ------------------------------------------------
rm -rf "$twin/table" "$work"
mkdir -p "$twin/table/benches" "$work"
cp -r table/src "$twin/table/src"
# Every probe call is a statement alone on its line (checked below), so deleting those lines
# removes the calls and nothing else.
sed -i -E '/^[[:space:]]*probe\.[a-z_]+\(.*\);[[:space:]]*$/d' "$twin"/table/src/*.rs
if grep -nE '^[^/]*\bprobe\.[a-z_]+\(' "$twin"/table/src/*.rs; then
    echo "error: probe calls above were not deleted (a call spanning lines?); fix the pattern" >&2
    exit 1
fi
removed=$(( $(cat table/src/*.rs | wc -l) - $(cat "$twin"/table/src/*.rs | wc -l) ))
cp table/benches/probes_off.rs "$twin/table/benches/"
cp Cargo.lock "$twin/Cargo.lock"
crossbeam_req=$(grep -E '^crossbeam-epoch *=' table/Cargo.toml | head -1)
affinity_req=$(grep -E '^core_affinity *=' table/Cargo.toml | head -1)
{
    echo '[workspace]'
    echo 'members = ["table"]'
    echo 'resolver = "2"'
    echo
    # The same profiles as the real workspace, so both builds get the same code generation.
    awk '/^\[profile\./ { on = 1 } /^\[/ && !/^\[profile\./ { on = 0 } on' Cargo.toml
} > "$twin/Cargo.toml"
cat > "$twin/table/Cargo.toml" <<EOF
[package]
name = "slotscope-table"
version = "0.1.0"
edition = "2021"

[dependencies]
$crossbeam_req

[dev-dependencies]
$affinity_req

[[bench]]
name = "probes_off"
harness = false
EOF

executable() { sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1; }

echo "building the table as it is (A) and the twin without probe calls (B; $removed lines deleted)..." >&2
bin_a=$(cargo bench -p slotscope-table --bench probes_off --no-run --message-format=json 2>/dev/null | executable)
bin_b=$(CARGO_TARGET_DIR="$twin/target" cargo bench --manifest-path "$twin/Cargo.toml" --bench probes_off \
    --no-run --offline --message-format=json 2>"$work/twin-build.log" | executable)
if [[ -z "$bin_a" || -z "$bin_b" ]]; then
    echo "error: a build failed; the twin's log is $work/twin-build.log" >&2
    exit 1
fi

# --- 1. machine code ----------------------------------------------------------------------
# One file per build: "name<TAB>digest" for every function of the bench or of the table,
# its body normalised (addresses, rip offsets and comments removed).
normalised_functions() {
    objdump -d -C --no-show-raw-insn "$1" | awk -v dir="$2" '
        /^[0-9a-f]+ <.*>:$/ {
            name = $0; sub(/^[0-9a-f]+ </, "", name); sub(/>:$/, "", name)
            keep = (name ~ /^probes_off::/ || name ~ /slotscope_table::/)
            if (keep) { n++; file = sprintf("%s/%05d", dir, n); print name > (file ".name") }
            next
        }
        /^$/ { keep = 0; next }
        keep {
            line = $0
            sub(/^ *[0-9a-f]+:\t/, "", line)
            sub(/ *#.*$/, "", line)
            gsub(/[0-9a-f]+ </, "<", line)
            gsub(/0x[0-9a-f]+\(%rip\)/, "X(%rip)", line)
            gsub(/::h[0-9a-f]{16}/, "", line)
            print line > (file ".body")
        }'
    for f in "$2"/*.name; do
        printf '%s\t%s\n' "$(cat "$f")" "$(md5sum < "${f%.name}.body" | cut -c1-12)"
    done | sort
}
mkdir -p "$work/a" "$work/b"
normalised_functions "$bin_a" "$work/a" > "$work/a.functions"
normalised_functions "$bin_b" "$work/b" > "$work/b.functions"
count=$(wc -l < "$work/a.functions")
echo
echo "## Probes compiled off vs no probes"
echo
differing=$(comm -23 "$work/a.functions" "$work/b.functions" | cut -f1 | sort -u | sed 's/.*/`&`/' | paste -sd, - | sed 's/,/, /g')
if [[ -z "$differing" ]]; then
    echo "- Machine code: all $count functions of the bench and the table (the loops and every table"
    echo "  function they call) are identical instruction for instruction in both builds."
else
    same=$(comm -12 "$work/a.functions" "$work/b.functions" | wc -l)
    echo "- Machine code: $same of $count functions identical; different: $differing"
    echo "  (normalised bodies: $work/a and $work/b)"
fi

# --- 2. instructions per operation (callgrind) -----------------------------------------------
if command -v valgrind > /dev/null; then
    instructions() { # binary, loop, [more arguments for the bench]
        valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect="probes_off::$2_loop" \
            "$1" --callgrind --only "$2" "${@:3}" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
    }
    ops=$("$bin_a" --callgrind --only lookup | awk '{ print $2 }')
    for loop in lookup churn writer_churn; do
        ia=$(instructions "$bin_a" "$loop")
        ib=$(instructions "$bin_b" "$loop")
        awk -v l="$loop" -v a="$ia" -v b="$ib" -v n="$ops" 'BEGIN {
            printf "- Instructions per %s op (callgrind, %d ops): probes off %.2f, no probes %.2f (ratio %.4f)\n",
                l, n, a / n, b / n, a / b }'
    done
    # The allocators: the lookup path never reads which one the table has, so the same loop in
    # the same binary must count the same instructions per lookup on a table of either.
    ring=$(instructions "$bin_a" lookup)
    magazine=$(instructions "$bin_a" lookup --magazine)
    awk -v a="$ring" -v b="$magazine" -v n="$ops" 'BEGIN {
        printf "- Instructions per lookup op (callgrind, %d ops), same binary: ring allocator %.2f, magazines of 64 %.2f (ratio %.4f)\n",
            n, a / n, b / n, a / b }'
    # ... and what the magazines save a writer that churns alone.
    ring=$(instructions "$bin_a" writer_churn)
    magazine=$(instructions "$bin_a" writer_churn --magazine)
    awk -v a="$ring" -v b="$magazine" -v n="$ops" 'BEGIN {
        printf "- Instructions per writer churn op (callgrind, %d ops), same binary: ring allocator %.2f, magazines of 64 %.2f (ratio %.4f)\n",
            n, a / n, b / n, a / b }'
else
    echo "- Instructions: valgrind not installed, skipped."
fi

# --- 3. alternating timed runs ------------------------------------------------------------
: > "$work/times"
for ((r = 1; r <= rounds; r++)); do
    # A B, then B A: the order alternates so that drift hits both builds alike.
    if (( r % 2 )); then order="a b"; else order="b a"; fi
    for which in $order; do
        bin="$bin_a"; [[ $which == b ]] && bin="$bin_b"
        "$bin" | sed "s/^/$which $r /" >> "$work/times"
    done
done
awk '
    { t[$1, $3, $2] = $4; names[$3] = 1; rounds[$2] = 1 }
    function median(v, n,   i, j, x) {
        for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
        return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    END {
        for (name in names) {
            n = 0
            for (r in rounds) { n++; va[n] = t["a", name, r]; vb[n] = t["b", name, r]; vr[n] = t["a", name, r] / t["b", name, r] }
            ma = median(va, n); mb = median(vb, n); mr = median(vr, n)
            sub(/_ns_per_op/, "", name)
            printf "- Time per %s op (%d alternating rounds, medians): probes off %.3f ns, no probes %.3f ns; " \
                "per-round ratio off/none %.4f (target <= 1.02)\n", name, n, ma, mb, mr
        }
    }' "$work/times" | sort
echo
echo "(raw figures: $work/times)"
