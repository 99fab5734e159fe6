"""Reads a JSON report on stdin and prints it without the fields a run measures (times, rates,
latencies, machine and clock facts), so that two runs of the same spec and seed compare equal
when their op streams and outcomes are the same."""
import json
import re
import sys

MEASURED = re.compile(
    r"(_ns$|_ms$|_s$|^wall|^paused|throughput|latency|ops_per_s|percentiles|histogram|mean|"
    r"^p\d|^max|^min|^machine$|^timing$|^started|^stopped|^series$|^at$|^from_ns$|^tool_version$)"
)


def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if not MEASURED.search(k)}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


report = json.load(sys.stdin)
# Probe counts depend on how the threads met, not on the op streams.
for t in report.get("threads", []):
    for k in ("ticket_skips", "ring_retries", "full_undos", "timed_ops"):
        t.get("counts", {}).pop(k, None)
json.dump(strip(report), sys.stdout, indent=1, sort_keys=True)
print()
