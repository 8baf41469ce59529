"""One test per libssh/libvterm pitfall of notes/libraries.md.

Each test would fail without the matching handling in the daemon:
non-blocking client sockets and owner backpressure, retrying output
after every poll (libssh 0.10 reports no reopened window), one ssh_event
per connection, acting on what libssh callbacks recorded even when they
ran inside ssh_channel_write, login grace time and auth counting (libssh
has neither), and holding back a split UTF-8 sequence.  The 64 KiB
vterm rule is checked end to end only: a Linux PTY master hands out at
most 4095 bytes per read, so through a PTY no larger write can arise.
"""

import os
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import unicodedata

import harness
from harness import Daemon, Key, Tmux, PROMPT, wait_until


# -- helpers -------------------------------------------------------------

def serving(d, key, user="bystander", limit=5.0):
    """The daemon is alive and answers another user within limit s."""
    assert d.alive(), f"tandemd died:\n{d.log()[-2000:]}"
    t0 = time.monotonic()
    r = d.ssh(user, key, "version", timeout=30)
    took = time.monotonic() - t0
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert r.stdout.startswith("tandemd "), r.stdout
    assert took < limit, f"version took {took:.1f}s"
    return took


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        m = re.search(r"VmRSS:\s+(\d+) kB", f.read())
    return int(m.group(1))


class Client:
    """ssh -tt with pipes: the test types on stdin and reads stdout in a
    thread (or deliberately does not)."""

    def __init__(self, d, user, key, *args, read=True, argv=None):
        if argv is None:
            argv = d.ssh_argv(user, key, *args, tty=True)
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
        harness._cleanups.append(self.kill)
        self.out = bytearray()
        self.lock = threading.Lock()
        self.reader = None
        if read:
            self.start_reading()

    def start_reading(self):
        def run():
            fd = self.p.stdout.fileno()
            while True:
                try:
                    data = os.read(fd, 1 << 16)
                except OSError:
                    break
                if not data:
                    break
                with self.lock:
                    self.out += data
        self.reader = threading.Thread(target=run, daemon=True)
        self.reader.start()

    def nbytes(self):
        with self.lock:
            return len(self.out)

    def text(self):
        with self.lock:
            return self.out.decode("utf-8", "replace")

    def type(self, s):
        self.p.stdin.write(s.encode())
        self.p.stdin.flush()

    def expect(self, pattern, timeout=10):
        return wait_until(lambda: re.search(pattern, self.text()),
                          timeout=timeout,
                          what=f"/{pattern}/ in the client's output "
                          f"(tail: {self.text()[-300:]!r})")

    def wait(self, timeout=20):
        status = self.p.wait(timeout=timeout)
        if self.reader:
            self.reader.join(timeout=timeout)
        return status

    def kill(self):
        if self.p.poll() is None:
            try:
                self.p.send_signal(signal.SIGCONT)
            except ProcessLookupError:
                pass
            self.p.kill()
            self.p.wait()


class StallProxy:
    """A TCP relay to the daemon that can stop reading from it, as a
    stalled network path would; its socket buffers are kept small."""

    def __init__(self, port):
        self.target = port
        self.stalled = threading.Event()
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        self.socks = []
        threading.Thread(target=self._accept, daemon=True).start()
        harness._cleanups.append(self.close)

    def _accept(self):
        while True:
            try:
                down, _ = self.lsock.accept()
            except OSError:
                return
            up = socket.socket()
            up.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            up.connect(("127.0.0.1", self.target))
            self.socks += [down, up]
            for args in ((up, down, True), (down, up, False)):
                threading.Thread(target=self._pump, args=args,
                                 daemon=True).start()

    def _pump(self, src, dst, stallable):
        try:
            while True:
                if stallable and self.stalled.is_set():
                    time.sleep(0.02)
                    continue
                data = src.recv(16384)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.lsock.close()
        for sock in self.socks:
            sock.close()


def mux_argv(d, user, key, ctl, *args, port=None, tty=None, opts=()):
    """ssh through the connection of a ControlMaster at ctl (or, with
    "-M", the master itself), optionally via another port."""
    argv = d.ssh_argv(user, key, *args, tty=tty,
                      opts=["-o", f"ControlPath={ctl}"] + list(opts))
    if port is not None:
        argv[argv.index(str(d.port))] = str(port)
    return argv


class MuxClient(Client):
    """A session channel on the master's connection."""

    def __init__(self, d, user, key, ctl, *args, read=True):
        super().__init__(d, user, key, read=read, argv=mux_argv(
            d, user, key, ctl, *args, tty=True,
            opts=["-o", "ControlMaster=no"]))


def start_master(d, user, key, ctl, port=None):
    m = subprocess.Popen(mux_argv(d, user, key, ctl, "-N", port=port,
                                  opts=["-M"]),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    harness._cleanups.append(m.kill)
    wait_until(lambda: os.path.exists(ctl), what="the control socket")
    return m


def stop_master(m):
    """The ssh master's own exit is not under test; under a slow
    sanitizer build it may take a while to say goodbye."""
    m.terminate()
    try:
        m.wait(timeout=30)
    except subprocess.TimeoutExpired:
        m.kill()
        m.wait(timeout=10)


def live_sessions(d, key, user="alice"):
    return [s for s in d.sessions(user, key) if s["state"] != "terminated"]


def setup(config=None):
    d = Daemon(config=config).start()
    by = Key(d.work, "bystander")
    serving(d, by)
    return d, by


# -- non-blocking sockets, bounded queues ------------------------------------

def test_stalled_client_does_not_block_loop():
    d, by = setup()
    alice = Key(d.work, "alice")
    base = rss_kb(d.proc.pid)
    # A connection whose network path stalls, carrying four flooding
    # sessions: 4 x 2 MiB of window is more than the kernel buffers, so
    # a blocking socket would freeze the loop in send().
    proxy = StallProxy(d.port)
    ctl = d.work.join("mux")
    master = start_master(d, "alice", alice, ctl, port=proxy.port)
    floods = [MuxClient(d, "alice", alice, ctl) for _ in range(4)]
    for c in floods:
        c.expect(r"[#$] ")
    # And a client that is stopped outright (it reads nothing and grows
    # no window).
    stopped = Client(d, "alice", alice)
    stopped.expect(r"[#$] ")
    floods.append(stopped)
    for i, c in enumerate(floods):
        c.type(f"yes flood-{i}-flood-{i}\n")
    for i, c in enumerate(floods):
        c.expect(rf"flood-{i}-flood-{i}\r\n")
    proxy.stalled.set()
    stopped.p.send_signal(signal.SIGSTOP)
    other = Client(d, "alice", alice)
    other.expect(r"[#$] ")
    samples = []
    for i in range(8):
        time.sleep(0.4)
        serving(d, by, limit=3)
        t0 = time.monotonic()
        other.type(f"echo ping-$(({i}+1000))\n")
        other.expect(rf"ping-{1000 + i}\r\n", timeout=3)
        assert time.monotonic() - t0 < 2
        samples.append(rss_kb(d.proc.pid))
    # Output queues are bounded (about 1 MiB queued per session plus
    # what libssh holds for the client's window), so once they are full
    # memory stays flat however long the clients stall.
    if not harness.SAN:   # ASan's quarantine holds on to freed memory
        assert max(samples) < 100 * 1024, samples
        assert max(samples) - base < 40 * 1024, (base, samples)
        assert samples[-1] - samples[3] < 4 * 1024, samples
    # The stalled clients resume and are served again.
    proxy.stalled.clear()
    stopped.p.send_signal(signal.SIGCONT)
    marks = [c.nbytes() for c in floods]
    for c, n in zip(floods, marks):
        wait_until(lambda: c.nbytes() > n + (1 << 20), timeout=15,
                   what="a resumed client to receive output")
    for s in live_sessions(d, alice):
        d.command("alice", alice, "kill", s["id"])
    for c in floods + [other]:
        assert c.wait() == 255    # hung up: exit-signal HUP
    stop_master(master)
    assert d.stop() == 0


# -- libssh 0.10: no callback when the window reopens -------------------------

def test_output_larger_than_window_arrives_complete():
    d, by = setup()
    alice = Key(d.work, "alice")
    n = 500000   # ~3.9 MB with CR LF: twice OpenSSH's 2 MiB window
    c = Client(d, "alice", alice, read=False)
    c.type(f"echo; seq 1 {n}; exit 7\n")
    # Read nothing at first: the window closes with output still queued
    # in the daemon and the PTY paused.  Only the client's window adjust
    # can restart the flow, and libssh 0.10 reports no such event.
    wait_until(lambda: d.sessions("alice", alice), what="the session")
    time.sleep(2)
    t0 = time.monotonic()
    c.start_reading()
    assert c.wait(timeout=60) == 7, c.text()[-300:]
    assert time.monotonic() - t0 < 30
    lines = c.text().split("\r\n")
    nums = [line for line in lines if line.isdigit()]
    assert len(nums) == n, (len(nums), nums[-3:])
    assert nums == [str(i) for i in range(1, n + 1)]
    serving(d, by)
    assert d.stop() == 0


# -- one ssh_event per connection -----------------------------------------

def test_concurrent_sessions_interleave_without_crosstalk():
    d, by = setup()
    alice, bob = Key(d.work, "alice"), Key(d.work, "bob")
    a = Client(d, "alice", alice)
    b = Client(d, "bob", bob)
    a.expect(r"[#$] ")
    b.expect(r"[#$] ")
    # A slow ticker in each, so both connections are busy at once.
    a.type("(i=0; while [ $i -lt 30 ]; do echo tickA-$i; i=$((i+1)); "
           "sleep 0.05; done &)\n")
    b.type("(i=0; while [ $i -lt 30 ]; do echo tickB-$i; i=$((i+1)); "
           "sleep 0.05; done &)\n")
    for i in range(20):
        t0 = time.monotonic()
        a.type(f"echo A-mark-$(({i}*3))\n")
        b.type(f"echo B-mark-$(({i}*5))\n")
        a.expect(rf"A-mark-{i * 3}\r\n", timeout=3)
        b.expect(rf"B-mark-{i * 5}\r\n", timeout=3)
        assert time.monotonic() - t0 < 2, "a session stalled"
    a.expect(r"tickA-29\r\n")
    b.expect(r"tickB-29\r\n")
    ta, tb = a.text(), b.text()
    assert "A-mark" not in tb and "tickA" not in tb, "cross-talk into b"
    assert "B-mark" not in ta and "tickB" not in ta, "cross-talk into a"
    assert [int(x) for x in re.findall(r"tickA-(\d+)\r\n", ta)] == \
        list(range(30))
    a.type("exit 11\n")
    b.type("exit 12\n")
    assert (a.wait(), b.wait()) == (11, 12)
    serving(d, by)
    assert d.stop() == 0


def test_flood_does_not_starve_other_channels_of_its_connection():
    # libssh may read and dispatch packets inside ssh_channel_write, so
    # requests recorded by the callbacks there must still be acted on,
    # even while the connection never turns readable for the loop.
    d, by = setup()
    alice = Key(d.work, "alice")
    ctl = d.work.join("mux")
    master = start_master(d, "alice", alice, ctl)
    floods = [MuxClient(d, "alice", alice, ctl) for _ in range(2)]
    for i, a in enumerate(floods):
        a.expect(r"[#$] ")
        a.type(f"yes flood-{i}-flood-{i}\n")
        a.expect(rf"flood-{i}-flood-{i}\r\n")
    for i in range(3):
        t0 = time.monotonic()
        b = MuxClient(d, "alice", alice, ctl)
        try:
            b.expect(r"[#$] ", timeout=5)
        except AssertionError:
            raise AssertionError(
                f"a new session channel got no prompt in 5 s while two "
                f"other channels of its connection flood (round {i})")
        b.type(f"echo mark-$(({i}+500))\n")
        b.expect(rf"mark-{500 + i}\r\n", timeout=3)
        b.type("exit 9\n")
        assert b.wait() == 9
        assert time.monotonic() - t0 < 5
        r = subprocess.run(mux_argv(d, "alice", alice, ctl, "version",
                                    opts=["-o", "ControlMaster=no"]),
                           capture_output=True, text=True, timeout=10,
                           stdin=subprocess.DEVNULL)
        assert r.returncode == 0 and r.stdout.startswith("tandemd "), r
        serving(d, by)
    for s in live_sessions(d, alice):
        d.command("alice", alice, "kill", s["id"])
    for a in floods:
        assert a.wait() == 255
    stop_master(master)
    assert d.stop() == 0


def test_sigterm_while_flooding_connection_opens_a_channel():
    # Shutdown with a channel request recorded but not yet acted on: the
    # daemon must not start a session after it has ended them all.
    d, by = setup()
    alice = Key(d.work, "alice")
    ctl = d.work.join("mux")
    start_master(d, "alice", alice, ctl)
    floods = [MuxClient(d, "alice", alice, ctl) for _ in range(2)]
    for i, a in enumerate(floods):
        a.expect(r"[#$] ")
        a.type(f"yes flood-{i}-flood-{i}\n")
        a.expect(rf"flood-{i}-flood-{i}\r\n")
    late = MuxClient(d, "alice", alice, ctl)
    time.sleep(1)
    t0 = time.monotonic()
    try:
        status = d.stop(timeout=10)
    except AssertionError:
        log = d.log()
        raise AssertionError("tandemd did not stop on SIGTERM; log since:\n"
                             + log[log.find("received signal"):])
    assert status == 0
    assert time.monotonic() - t0 < 5
    assert "shutting down" in d.log()
    for c in floods + [late]:
        c.wait(timeout=10)
    # Every session the daemon ever started is recorded as ended.
    db = sqlite3.connect(os.path.join(d.data_dir, "tandem.db"))
    states = [r[0] for r in db.execute("SELECT state FROM sessions")]
    db.close()
    assert states and set(states) == {"terminated"}, states


# -- libssh has no LoginGraceTime and no MaxAuthTries -------------------------

def test_login_grace_time_and_auth_counting():
    d, by = setup({"login_grace_time": "2s", "max_auth_tries": "2"})
    s = socket.create_connection(("127.0.0.1", d.port))
    s.settimeout(10)
    t0 = time.monotonic()
    got = b""
    while True:
        data = s.recv(4096)
        if not data:
            break
        got += data
    took = time.monotonic() - t0
    s.close()
    assert 1.8 <= took <= 5, took
    assert got.startswith(b"SSH-2.0-tandem_")
    d.wait_log(r"login grace time exceeded")
    # An authenticated connection outlives the grace time.
    alice = Key(d.work, "alice")
    c = Client(d, "alice", alice)
    c.expect(r"[#$] ")
    time.sleep(2.5)
    c.type("echo still-$((2+2))\n")
    c.expect(r"still-4\r\n")
    # Failed attempts are counted: three wrong keys, cut after two.
    wrong = [Key(d.work, f"w{i}") for i in range(3)]
    argv = d.ssh_argv("alice", wrong[0], "version")
    i = argv.index("-i") + 2
    for k in wrong[1:] + [alice]:
        argv[i:i] = ["-i", k.path]
        i += 2
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 255 and r.stdout == "", r
    assert "Too many authentication failures" in r.stderr, r.stderr
    d.wait_log(r"connection closed: Too many authentication failures")
    c.type("exit 0\n")
    assert c.wait() == 0
    serving(d, by)
    assert d.stop() == 0


# -- libvterm: at most 64 KiB per vterm_input_write ---------------------------

def test_large_bursts_keep_screen_sane():
    d, by = setup()
    alice = Key(d.work, "alice")
    t = Tmux(d.work, " ".join(d.ssh_argv("alice", alice, tty=True)),
             name="a")
    t.wait_for(PROMPT)
    # Single multi-megabyte runs without a newline: 3 MB of x through a
    # pipe, then one 2 MB printf.
    t.type("clear; head -c 3000000 /dev/zero | tr '\\0' x; "
           "printf '%02000000d' 7; echo; echo DONE-$((6*7))\n")
    t.wait_for(r"(?m)^DONE-42$", timeout=60)
    assert d.alive(), d.log()[-2000:]
    before = t.lines()
    i = before.index("DONE-42")
    # 2,000,000 is 25,000 rows of 80: the last row of zeros ends in 7.
    assert before[i - 1] == "0" * 79 + "7", before[i - 3:i + 1]
    assert before[i - 2] == "0" * 80
    t.kill()
    wait_until(lambda: live_sessions(d, alice)[0]["state"] ==
               "disconnected", what="the session disconnected")
    serving(d, by)
    a = Tmux(d.work, " ".join(d.ssh_argv("alice", alice, "attach",
                                         tty=True)), name="b")
    a.wait_for(r"(?m)^DONE-42$")
    after = a.lines()
    assert after[:i + 1] == before[:i + 1], (before, after)
    a.type("echo again-$((1+1))\n")
    a.wait_for(r"(?m)^again-2$")
    a.type("exit 3\n")
    assert a.wait_dead() == 3
    assert d.stop() == 0


# -- libvterm: a UTF-8 sequence split across two writes -----------------------

GEN = r'''
import os, sys, time
def w(b):
    while b:
        n = os.write(1, b)
        b = b[n:]
# ~200 KB of combining marks and CJK, written in odd-sized pieces so
# that the reads end inside sequences.
unit = "e\u0301\u4e2d\u6587 cafe\u0301 \u00e9\u0301 ".encode()
bulk = unit * (200000 // len(unit))
for i in range(0, len(bulk), 4093):
    w(bulk[i:i + 4093])
w(b"\n")
time.sleep(0.3)
# The last screen: each line is cut inside e + U+0301 (after its first
# byte) and inside a CJK character, with a pause, so that the daemon
# reads the parts separately.
for k in range(30):
    line = ("L%02d e\u0301x \u4e2d\u6587 end\n" % k).encode()
    cut1 = line.index(b"\xcc") + 1
    cut2 = line.index(b"\xe4") + 2
    w(line[:cut1]); time.sleep(0.02)
    w(line[cut1:cut2]); time.sleep(0.02)
    w(line[cut2:])
'''


def test_split_utf8_repainted_intact():
    d, by = setup()
    alice = Key(d.work, "alice")
    gen = d.work.join("gen.py")
    with open(gen, "w") as f:
        f.write(GEN)
    t = Tmux(d.work, " ".join(d.ssh_argv("alice", alice, tty=True,
                                         opts=["-o", "SetEnv=LANG=C.UTF-8"])),
             name="a")
    t.wait_for(PROMPT)
    t.type(f"clear; python3 {gen}; echo GEN-$((40+2))\n")
    t.wait_for(r"(?m)^GEN-42$", timeout=30)
    expect = [f"L{k:02d} \u00e9x \u4e2d\u6587 end" for k in range(30)]

    def marked(tmux):
        lines = [unicodedata.normalize("NFC", line).rstrip()
                 for line in tmux.lines()]
        return [line for line in lines if re.match(r"L\d\d ", line)]
    # The owner's own terminal got the raw stream: the generator is right.
    first = marked(t)
    assert first and first == [e for e in expect if e in first], first
    assert len(first) >= 20, first
    t.kill()
    wait_until(lambda: live_sessions(d, alice)[0]["state"] ==
               "disconnected", what="the session disconnected")
    a = Tmux(d.work, " ".join(d.ssh_argv("alice", alice, "attach",
                                         tty=True)), name="b")
    a.wait_for(r"(?m)^GEN-42$")
    screen = a.screen()
    assert "\ufffd" not in screen, screen
    assert marked(a) == first, (marked(a), first)
    a.type("exit 0\n")
    assert a.wait_dead() == 0
    serving(d, by)
    assert d.stop() == 0


if __name__ == "__main__":
    harness.main(globals(), "test_pitfalls")
