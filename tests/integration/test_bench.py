"""tandem-bench runs (--quick) and reports every target: a smoke test of
the program, not of the figures (those are doc/performance.md's)."""

import json
import os
import subprocess

import harness

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    harness.TANDEMD))), "bench", "tandem-bench")
TARGETS = {
    "concurrent viewers, half ssh half websocket", "owner cat vs sshd",
    "owner seq vs sshd", "owner throughput, 100 websocket viewers vs none",
    "owner throughput, one stalled viewer vs none",
    "latency p99 at 100 viewers", "latency p99 at 1000 viewers",
    "memory per idle websocket viewer", "memory per idle ssh viewer",
    "1000 viewers joined with snapshots",
}


def test_quick_run_reports_every_target():
    work = harness.Workdir()
    out = work.join("results.json")
    tmp = work.join("tmp")
    os.mkdir(tmp)
    r = subprocess.run([BENCH, "--quick", "--tandemd", harness.TANDEMD,
                        "--json", out], capture_output=True, text=True,
                       timeout=300, env=dict(os.environ, TMPDIR=tmp))
    print(r.stdout[-3000:])
    assert r.returncode == 0, r.stderr[-3000:]
    with open(out) as f:
        doc = json.load(f)
    names = {t["name"] for t in doc["targets"]}
    assert names == TARGETS, names ^ TARGETS
    for t in doc["targets"]:
        assert set(t) >= {"name", "value", "unit", "target", "met"}, t
        assert isinstance(t["met"], bool) and \
            isinstance(t["value"], (int, float)), t
    got = {m["name"]: m["value"] for m in doc["measurements"]}
    assert got["owner cat, no viewers"] > 0
    assert got["owner cat, 10 mixed viewers"] > 0
    assert got["probes seen, 10 mixed"] > 0
    assert got["joined (mixed)"] == 10
    # The servers it started are gone, and so are their folders.
    assert os.listdir(tmp) == [], os.listdir(tmp)


def test_usage():
    r = subprocess.run([BENCH, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "usage: tandem-bench" in r.stdout
    for bad in (["--viewers", "x"], ["--bytes", "0"], ["--nope"]):
        r = subprocess.run([BENCH, *bad], capture_output=True, text=True)
        assert r.returncode == 2 and "usage:" in r.stderr, bad


if __name__ == "__main__":
    harness.main(globals(), "test_bench")
