"""The fan-out engine under a viewer that stops reading (not timing
tests): the owner's output completes while the viewer is stopped,
tandemd's memory stays bounded, the viewer is resynchronised with a
snapshot and ends on the owner's final screen, and a viewer stalled past
viewer_stall_timeout is disconnected.  Also: a flood of plain text is
skipped by the screen model and the screen stays right."""

import os
import re
import signal
import subprocess
import time

import harness
from harness import wait_until
from test_share import Setup
from test_web import metric, metrics

COLS, ROWS = 200, 50

# Full screens of coloured letters, over and over, then a clear and a
# marker: a few MB of output that the model cannot skip (the cursor goes
# home every screen), so that frames stay large.
FLOOD = r'''
import sys
rows, cols, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
screens = []
for k in range(8):
    cells = []
    for r in range(rows - 1):
        cells.append("".join("\x1b[3%dm%c" % ((r + c + k) % 8,
                     65 + (r * 7 + c * 3 + k) % 26) for c in range(cols)))
    screens.append(("\x1b[H" + "\r\n".join(cells)).encode())
out = sys.stdout.buffer
for i in range(n):
    out.write(screens[i % 8])
out.write(b"\x1b[0m\x1b[2J\x1b[Hflood-done-" + sys.argv[3].encode() + b"\r\n")
out.flush()
'''


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def ssh_pid(tmux):
    """The ssh client running in a Tmux pane (the pane runs sh -c)."""
    pane = int(tmux._tmux("display-message", "-p", "-t", tmux.target,
                          "#{pane_pid}"))
    out = subprocess.run(["ps", "--ppid", str(pane), "-o", "pid=,comm="],
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        pid, comm = line.split(None, 1)
        if comm.strip() == "ssh":
            return int(pid)
    raise AssertionError(f"no ssh under pane {pane}: {out!r}")


def setup(config=None):
    s = Setup(config=config, cols=COLS, rows=ROWS)
    path = s.d.work.join("flood.py")
    with open(path, "w") as f:
        f.write(FLOOD)
    s.flood = path
    return s


def test_stalled_viewer_resyncs():
    s = setup()
    d = s.d
    sh = s.share("--read-only")
    v = s.viewer(sh["token"], key=s.bob, cols=COLS, rows=ROWS)
    s.owner_runs("echo before-stall")
    v.wait_for("before-stall")
    resyncs = metric(metrics(d), "tandem_viewer_resyncs_total")
    pid = ssh_pid(v)
    os.kill(pid, signal.SIGSTOP)
    try:
        base = rss_kb(d.proc.pid)
        s.owner_runs(f"python3 {s.flood} {ROWS} {COLS} 3000")
        # The owner's output completes though the viewer reads nothing.
        s.owner.wait_for(r"flood-done-3000", timeout=120)
        peak = rss_kb(d.proc.pid)
        # Memory stays bounded: the viewer's backlog was dropped, not
        # kept (3000 screens of ~40 KB went by; kept, they add ~20 MB
        # here; dropped, ~4 MB of libssh's and the kernel's buffers).
        if not harness.SAN:     # ASan's quarantine keeps freed memory
            assert peak - base < 12 * 1024, (base, peak)
        st = metric(metrics(d), "tandem_viewer_resyncs_total")
        assert st == resyncs, "resynchronised while stopped?"
    finally:
        os.kill(pid, signal.SIGCONT)
    # Reading again: a snapshot, then live, on the owner's final screen.
    v.wait_for(r"flood-done-3000", timeout=30)
    wait_until(lambda: metric(metrics(d), "tandem_viewer_resyncs_total")
               > resyncs, what="a resync counted")
    s.owner_runs("echo after-resync")
    v.wait_for("after-resync")
    wait_until(lambda: v.screen() == s.owner.screen(),
               what="the viewer on the owner's screen")
    log = d.log()
    assert "stalled" in log and "resynchronised" in log
    assert d.stop() == 0


def test_stall_timeout_disconnects():
    s = setup(config={"viewer_stall_timeout": "2s"})
    d = s.d
    sh = s.share("--read-only")
    v = s.viewer(sh["token"], key=s.bob, cols=COLS, rows=ROWS)
    other = s.viewer(sh["token"], key=s.carol, cols=COLS, rows=ROWS,
                     name="other")
    s.owner_runs("echo two-viewers")
    v.wait_for("two-viewers")
    other.wait_for("two-viewers")
    pid = ssh_pid(v)
    os.kill(pid, signal.SIGSTOP)
    try:
        s.owner_runs(f"python3 {s.flood} {ROWS} {COLS} 2500")
        s.owner.wait_for(r"flood-done-2500", timeout=120)
        wait_until(lambda: metric(metrics(d),
                   "tandem_viewer_stall_disconnects_total") == 1,
                   timeout=30, what="the stalled viewer dropped")
    finally:
        os.kill(pid, signal.SIGCONT)
    # The stopped one finds its connection gone; the other watches on.
    v.wait_dead(timeout=30)
    other.wait_for(r"flood-done-2500")
    s.owner_runs("echo still-live")
    other.wait_for("still-live")
    leaves = [a for a in s.audit() if a["action"] == "viewer.leave"]
    assert len(leaves) == 1, leaves
    assert "took no output for 2 seconds" in d.log()
    assert d.stop() == 0


def test_websocket_stall():
    import socket
    from test_web import ws_open
    s = setup(config={"viewer_stall_timeout": "2s"})
    d = s.d
    sh = s.share("--read-only", "--no-auth")
    # A small receive buffer, so that the server's queue fills soon.
    ws = ws_open(d, sh["token"], sockopt=[(socket.SOL_SOCKET,
                                            socket.SO_RCVBUF, 4096)])
    ws.recv()                           # the status message
    s.owner_runs(f"python3 {s.flood} {ROWS} {COLS} 2500")
    s.owner.wait_for(r"flood-done-2500", timeout=120)
    wait_until(lambda: metric(metrics(d),
               "tandem_viewer_stall_disconnects_total") == 1,
               timeout=30, what="the stalled websocket dropped")
    wait_until(lambda: metric(metrics(d), 'tandem_viewers{transport='
               '"websocket",permission="read_only"}') == 0,
               what="the viewer gone")
    # Reading now drains what the kernel held, then the connection ends.
    ws.settimeout(10)
    try:
        while ws.recv():
            pass
    except Exception:
        pass
    assert d.alive()
    assert d.stop() == 0


def test_flood_skipped_screen_right():
    s = Setup()
    d = s.d
    sh = s.share("--read-only")
    v = s.viewer(sh["token"], key=s.bob)
    s.owner_runs("echo ready")
    v.wait_for("ready")
    before = metric(metrics(d), "tandem_model_skipped_bytes_total")
    s.owner_runs("seq 1 300000; echo seq-done")
    s.owner.wait_for(r"(?m)^seq-done")
    v.wait_for(r"(?m)^seq-done")
    assert metric(metrics(d), "tandem_model_skipped_bytes_total") > \
        before + 1000000
    # The viewer shows what the owner's terminal shows.
    wait_until(lambda: v.screen() == s.owner.screen(),
               what="the same screen")
    assert re.search(r"(?m)^299999$", v.screen())
    assert d.stop() == 0


if __name__ == "__main__":
    harness.main(globals(), "test_fanout")
