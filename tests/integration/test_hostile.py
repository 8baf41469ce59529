"""Malformed, oversized and hostile input over SSH.

Every hostile step gets a clear refusal, changes nothing, and leaves the
daemon serving others: after each one the daemon is alive and another
user's `ssh ... version` still works.
"""

import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import termios
import threading
import time

import harness
from harness import Daemon, Key, wait_until, free_port


# -- helpers -------------------------------------------------------------

# The shell's prompt in a raw client stream: at the start of a line or
# right after a title sequence (OSC 2 ... BEL).
PROMPT_RE = r"(?:^|[\n\x07])[#$] "

def serving(d, key, user="bystander"):
    """The daemon is alive and answers another user at once."""
    assert d.alive(), f"tandemd died:\n{d.log()[-2000:]}"
    t0 = time.monotonic()
    r = d.ssh(user, key, "version", timeout=15)
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert r.stdout.startswith("tandemd "), r.stdout
    assert time.monotonic() - t0 < 5, "the daemon answered slowly"


def log_since(d, mark):
    return d.log()[mark:]


def loglevel(argv, level="INFO"):
    """The harness runs ssh with LogLevel=ERROR, which hides the
    client's own reports of refused requests."""
    return [f"LogLevel={level}" if a == "LogLevel=ERROR" else a
            for a in argv]


def as_user(d, name, key, *args, opts=()):
    """Run ssh with the user name given by -l, so that a name that
    starts with '-' reaches the server instead of ssh's option parser."""
    argv = d.ssh_argv("x", key, *args, opts=opts)
    i = argv.index("x@127.0.0.1")
    argv[i:i + 1] = ["-l", name, "127.0.0.1"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


def keys_argv(d, user, keys, *args):
    """ssh offering several keys, in this order."""
    argv = d.ssh_argv(user, keys[0], *args)
    i = argv.index("-i") + 2
    for k in keys[1:]:
        argv[i:i] = ["-i", k.path]
        i += 2
    return argv


def new_port_log(d, mark):
    """The 'connection from ... port N' lines logged since mark."""
    return re.findall(r"connection from 127\.0\.0\.1 port (\d+)",
                      log_since(d, mark))


class PtyClient:
    """A process (ssh) on a pseudo-terminal of our own, whose window
    size we choose: tmux cannot make a 5000x5000 window."""

    def __init__(self, argv, rows, cols, env=None):
        pid, fd = pty.fork()
        if pid == 0:  # child: the size is set before ssh reads it
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ,
                            struct.pack("HHHH", rows, cols, 0, 0))
                os.execvpe(argv[0], argv, env or os.environ)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.out = b""
        self.status = None
        harness._cleanups.append(self.close)

    def _pump(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise
            data = b""
        self.out += data
        return bool(data)

    def text(self):
        return self.out.decode("utf-8", "replace")

    def expect(self, pattern, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.text())
            if m:
                return m
            left = deadline - time.monotonic()
            if left <= 0 or not self._pump(min(left, 0.2)) and \
                    self.poll() is not None:
                raise AssertionError(
                    f"no /{pattern}/ from the client; it printed:\n"
                    f"{self.text()[-1500:]!r}")

    def write(self, s):
        os.write(self.fd, s.encode())

    def resize(self, rows, cols):
        # The kernel sends SIGWINCH to ssh, which sends window-change.
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ,
                    struct.pack("HHHH", rows, cols, 0, 0))

    def poll(self):
        if self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.status = os.waitstatus_to_exitcode(st)
        return self.status

    def wait(self, timeout=10):
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError("the client did not exit")
            self._pump(0.05)
        while self._pump(0):   # what is left in the pty
            pass
        return self.status

    def close(self):
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.status = -9
        try:
            os.close(self.fd)
        except OSError:
            pass


class LibsshClient:
    """A bare SSH client: libssh (tandemd's own dependency) driven
    through ctypes.  It sends what OpenSSH refuses to: a password or
    keyboard-interactive attempt the server never offered, a user name
    that starts with '-' or holds shell metacharacters."""

    HOST, PORT_STR, TIMEOUT, PROCESS_CONFIG = 0, 2, 9, 38
    AUTH_SUCCESS, AUTH_DENIED, AUTH_INFO, AUTH_ERROR = 0, 1, 3, -1
    _lib = None

    @classmethod
    def lib(cls):
        if cls._lib is None:
            P, S = ctypes.c_void_p, ctypes.c_char_p
            lib = ctypes.CDLL(ctypes.util.find_library("ssh") or
                              "libssh.so.4")
            sigs = {
                "ssh_new": ([], P),
                "ssh_options_set": ([P, ctypes.c_int, P], ctypes.c_int),
                "ssh_connect": ([P], ctypes.c_int),
                "ssh_is_connected": ([P], ctypes.c_int),
                "ssh_disconnect": ([P], None),
                "ssh_free": ([P], None),
                "ssh_get_error": ([P], S),
                "ssh_userauth_password": ([P, S, S], ctypes.c_int),
                "ssh_userauth_kbdint": ([P, S, S], ctypes.c_int),
                "ssh_userauth_publickey": ([P, S, P], ctypes.c_int),
                "ssh_pki_import_privkey_file":
                    ([S, S, P, P, ctypes.POINTER(P)], ctypes.c_int),
                "ssh_key_free": ([P], None),
            }
            for name, (args, res) in sigs.items():
                fn = getattr(lib, name)
                fn.argtypes, fn.restype = args, res
            cls._lib = lib
        return cls._lib

    def __init__(self, port):
        self.L = self.lib()
        self.s = self.L.ssh_new()
        harness._cleanups.append(self.close)
        no, timeout = ctypes.c_int(0), ctypes.c_long(3)
        self.L.ssh_options_set(self.s, self.PROCESS_CONFIG, ctypes.byref(no))
        self.L.ssh_options_set(self.s, self.TIMEOUT, ctypes.byref(timeout))
        self.L.ssh_options_set(self.s, self.HOST, b"127.0.0.1")
        self.L.ssh_options_set(self.s, self.PORT_STR, str(port).encode())
        assert self.L.ssh_connect(self.s) == 0, self.error()

    def error(self):
        return self.L.ssh_get_error(self.s).decode(errors="replace")

    def connected(self):
        return bool(self.L.ssh_is_connected(self.s))

    def password(self, user, pw):
        return self.L.ssh_userauth_password(self.s, user.encode(),
                                            pw.encode())

    def kbdint(self, user):
        return self.L.ssh_userauth_kbdint(self.s, user.encode(), None)

    def publickey(self, user, key):
        k = ctypes.c_void_p()
        assert self.L.ssh_pki_import_privkey_file(
            key.path.encode(), None, None, None, ctypes.byref(k)) == 0
        try:
            return self.L.ssh_userauth_publickey(self.s, user.encode(), k)
        finally:
            self.L.ssh_key_free(k)

    def close(self):
        if self.s:
            self.L.ssh_disconnect(self.s)
            self.L.ssh_free(self.s)
            self.s = None


def probe(port, payload, timeout=8.0):
    """Connect, send payload, read until the server closes.  Returns
    (how it ended, seconds, bytes received)."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(timeout)
    t0 = time.monotonic()
    got = b""
    how = "eof"
    try:
        if payload:
            s.sendall(payload)
        while True:
            data = s.recv(65536)
            if not data:
                break
            got += data
    except socket.timeout:
        how = "open"
    except (ConnectionResetError, BrokenPipeError):
        how = "reset"
    finally:
        s.close()
    return how, time.monotonic() - t0, got


def setup(config=None):
    d = Daemon(config=config).start()
    by = Key(d.work, "bystander")
    serving(d, by)   # enrolls the bystander
    return d, by


# -- terminal sizes --------------------------------------------------------

def test_huge_pty_request_refused():
    d, by = setup()
    alice = Key(d.work, "alice")
    d.command("alice", alice, "version")
    for size in (5000, 65535):
        mark = len(d.log())
        c = PtyClient(d.ssh_argv("alice", alice), rows=size, cols=size)
        # OpenSSH goes on without a terminal after the refusal.
        c.expect(r"PTY allocation request failed on channel 0")
        c.expect(PROMPT_RE)
        d.wait_log(rf"refused pty request of {size}x{size}")
        c.write("echo S=$(stty size) T=$TERM\n")
        # The session runs at the 80x24 default, without the client's
        # terminal type.
        c.expect(r"S=24 80 T=dumb")
        rows = [r for r in d.sessions("alice", alice)
                if r["state"] != "terminated"]
        assert [(r["cols"], r["rows"], r["state"]) for r in rows] == \
            [(80, 24, "active")], rows
        assert f"{size}x{size}" not in re.sub(
            r"refused pty request of \d+x\d+", "", log_since(d, mark))
        serving(d, by)
        c.write("exit 6\n")
        assert c.wait() == 6, c.text()
    assert [(r["cols"], r["rows"]) for r in d.sessions("alice", alice)] == \
        [(80, 24), (80, 24)]
    assert d.stop() == 0


def test_huge_window_change_ignored():
    d, by = setup()
    alice = Key(d.work, "alice")
    c = PtyClient(d.ssh_argv("alice", alice), rows=30, cols=100)
    c.expect(PROMPT_RE)
    c.write("echo S1=$(stty size)\n")
    c.expect(r"S1=30 100")
    for n, (rows, cols) in enumerate([(5000, 5000), (65535, 65535),
                                      (24, 5000), (5000, 80)]):
        c.resize(rows, cols)
        d.wait_log(rf"ignored window change to {cols}x{rows}")
        c.write(f"echo S{n + 2}=$(stty size)\n")
        c.expect(rf"S{n + 2}=30 100")
        row = d.sessions("alice", alice)[0]
        assert (row["cols"], row["rows"]) == (100, 30), row
        serving(d, by)
    # A sane size afterwards still goes through.
    c.resize(40, 120)
    wait_until(lambda: d.sessions("alice", alice)[0]["cols"] == 120,
               what="the new size recorded")
    c.write("echo S9=$(stty size)\n")
    c.expect(r"S9=40 120")
    c.write("exit 0\n")
    assert c.wait() == 0
    assert d.stop() == 0


def test_zero_size_pty_request_gets_default():
    d, by = setup()
    alice = Key(d.work, "alice")
    # ssh -tt with stdin not a terminal asks for a 0x0 pty.
    r = d.ssh("alice", alice, tty=True,
              input="echo S=$(stty size) T=${TERM}; exit 3\n")
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert "PTY allocation request failed" not in r.stderr
    assert re.search(r"S=24 80 T=\w", r.stdout), r.stdout
    assert "T=dumb" not in r.stdout, "the pty request was refused"
    row = d.sessions("alice", alice)[0]
    assert (row["cols"], row["rows"]) == (80, 24), row
    serving(d, by)
    assert d.stop() == 0


# -- environment -------------------------------------------------------------

def test_bogus_env_requests():
    d, by = setup()
    alice = Key(d.work, "alice")
    env = dict(os.environ)
    env["LC_CTRL"] = "a\x01b\x1b[31m"
    env["LC_BIG"] = "x" * 5000
    env["LC_OK"] = "fine-value"
    env["LC_A-B"] = "bad-name"
    argv = d.ssh_argv("alice", alice, tty=True, opts=[
        "-o", "SendEnv=LC_CTRL LC_BIG LC_OK LC_A-B",
        "-o", "SetEnv=EVIL=1 LD_PRELOAD=/tmp/x PATH=/evil "
        "TANDEM_USER=mallory LANG=C.UTF-8"])
    script = ('echo "E=${EVIL-unset} P=${LD_PRELOAD-unset} '
              'C=${LC_CTRL-unset} B=${LC_BIG-unset} O=${LC_OK-unset} '
              'L=${LANG-unset} U=$TANDEM_USER"; '
              'echo "PATH=$PATH"; env | grep -c "^LC_A-B=" ; exit 0\n')
    r = subprocess.run(argv, input=script, capture_output=True, text=True,
                       timeout=30, env=env)
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert re.search(r"E=unset P=unset C=unset B=unset O=fine-value "
                     r"L=C\.UTF-8 U=alice\n", r.stdout), r.stdout
    assert "PATH=/evil" not in r.stdout
    assert re.search(r"(?m)^0$", r.stdout), r.stdout
    serving(d, by)
    assert d.log().count("refused env request") == 7, d.log()[-3000:]
    assert d.stop() == 0


def test_many_env_requests_capped():
    d, by = setup()
    alice = Key(d.work, "alice")
    env = dict(os.environ)
    for i in range(45):
        env[f"LC_V{i:02d}"] = f"v{i}"
    argv = d.ssh_argv("alice", alice, tty=True,
                      opts=["-o", "SendEnv=LC_V*"])
    r = subprocess.run(argv, input='echo "N=$(env | grep -c ^LC_V)"; '
                       'exit 0\n', capture_output=True, text=True,
                       timeout=30, env=env)
    assert r.returncode == 0, (r.returncode, r.stderr)
    # 32 per channel are kept; the rest are refused.
    assert re.search(r"N=32\n", r.stdout), r.stdout
    assert d.log().count("refused env request") == 13
    serving(d, by)
    assert d.stop() == 0


# -- channels and forwarding ---------------------------------------------

def test_local_forward_refused():
    d, by = setup()
    alice = Key(d.work, "alice")
    lport = free_port()
    fwd = subprocess.Popen(
        loglevel(d.ssh_argv("alice", alice, "-N",
                            opts=["-L", f"{lport}:127.0.0.1:{d.port}"])),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    harness._cleanups.append(fwd.kill)
    d.wait_log(r"accepted publickey for alice")

    def connect():
        try:
            return socket.create_connection(("127.0.0.1", lport), timeout=1)
        except OSError:
            return None
    for i in range(3):
        s = wait_until(connect, what="the local forward to listen")
        s.settimeout(5)
        # The daemon refuses the direct-tcpip channel, so ssh closes the
        # forwarded connection at once: no SSH banner comes through.
        assert s.recv(100) == b""
        s.close()
    serving(d, by)
    assert fwd.poll() is None, "the connection itself must stay up"
    fwd.terminate()
    err = fwd.communicate(timeout=10)[1].decode()
    assert err.count("open failed: administratively prohibited") == 3, err
    # ssh -W opens the same kind of channel.
    r = subprocess.run(loglevel(d.ssh_argv("alice", alice, "-W",
                                           f"127.0.0.1:{d.port}")),
                       capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 255
    assert "administratively prohibited" in r.stderr, r.stderr
    assert "stdio forwarding failed" in r.stderr, r.stderr
    serving(d, by)
    assert d.stop() == 0


def test_remote_forward_refused():
    d, by = setup()
    alice = Key(d.work, "alice")
    for spec in ("0:127.0.0.1:22", f"{free_port()}:127.0.0.1:22",
                 d.work.join("fwd.sock") + ":127.0.0.1:22"):
        r = d.ssh("alice", alice, "version",
                  opts=["-o", "ExitOnForwardFailure=yes", "-R", spec])
        assert r.returncode == 255, (spec, r.returncode, r.stdout)
        assert "remote port forwarding failed" in r.stderr, r.stderr
        assert r.stdout == "", "no command may run"
        serving(d, by)
    assert not os.path.exists(d.work.join("fwd.sock"))
    # Without ExitOnForwardFailure the command runs and ssh warns.
    r = subprocess.run(loglevel(d.ssh_argv("alice", alice, "version",
                                           opts=["-R", "0:127.0.0.1:22"])),
                       capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and r.stdout.startswith("tandemd "), r
    assert "Warning: remote port forwarding failed" in r.stderr, r.stderr
    serving(d, by)
    assert d.stop() == 0


def test_agent_and_x11_requests_do_not_break_session():
    d, by = setup()
    alice = Key(d.work, "alice")
    sock = d.work.join("agent.sock")
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", sock],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    harness._cleanups.append(agent.kill)
    wait_until(lambda: os.path.exists(sock), what="ssh-agent")
    env = dict(os.environ, SSH_AUTH_SOCK=sock, DISPLAY=":55")
    script = ('echo "A=${SSH_AUTH_SOCK-none} D=${DISPLAY-none}"; '
              'exit 4\n')
    for opts in (["-A"], ["-X"], ["-Y"], ["-A", "-X"]):
        argv = loglevel(d.ssh_argv("alice", alice, tty=True, opts=opts))
        r = subprocess.run(argv, input=script, capture_output=True,
                           text=True, timeout=30, env=env)
        assert r.returncode == 4, (opts, r.returncode, r.stderr)
        assert "A=none D=none\n" in r.stdout, r.stdout
        if "-X" in opts or "-Y" in opts:
            assert "X11 forwarding request failed on channel 0" in \
                r.stderr, r.stderr
        serving(d, by)
    # Exec commands too.
    r = subprocess.run(d.ssh_argv("alice", alice, "version",
                                  opts=["-A", "-X"]),
                       capture_output=True, text=True, timeout=30, env=env,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and r.stdout.startswith("tandemd "), r
    assert d.stop() == 0


def test_subsystem_refused():
    d, by = setup()
    alice = Key(d.work, "alice")
    for name in ("sftp", "netconf", "x" * 300):
        r = d.ssh("alice", alice, name, opts=["-s"])
        assert r.returncode == 255, (name, r.returncode)
        assert "subsystem request failed on channel 0" in r.stderr, r.stderr
        serving(d, by)
    assert d.log().count("refused subsystem request") == 3
    # sftp(1) itself gives up cleanly.
    r = subprocess.run(["sftp", "-F", "/dev/null", "-P", str(d.port),
                        "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                        "-o", f"UserKnownHostsFile={d.known_hosts}",
                        "-i", alice.path, "-b", "/dev/null",
                        "alice@127.0.0.1"],
                       capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert r.returncode != 0, r
    assert d.sessions("alice", alice) == []
    serving(d, by)
    assert d.stop() == 0


def test_too_many_channels_on_one_connection():
    d, by = setup()
    alice = Key(d.work, "alice")
    # Connection multiplexing: one master, many session channels.
    ctl = d.work.join("mux")
    mopts = ["-o", f"ControlPath={ctl}", "-o", "ControlMaster=no"]
    master = subprocess.Popen(d.ssh_argv("alice", alice, "-N",
                                         opts=["-M", "-o",
                                               f"ControlPath={ctl}"]),
                              stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    harness._cleanups.append(master.kill)
    wait_until(lambda: os.path.exists(ctl), what="the control socket")
    # Ten sessions in flight at once on the one connection...
    held = [subprocess.Popen(d.ssh_argv("alice", alice, tty=True,
                                        opts=mopts),
                             stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
            for _ in range(10)]
    for p in held:
        harness._cleanups.append(p.kill)
    wait_until(lambda: len([r for r in d.sessions("alice", alice)
                            if r["state"] == "active"]) == 10,
               what="ten sessions")
    # ...and the eleventh channel is refused: the client falls back to a
    # connection of its own.
    mark = len(d.log())
    r = d.ssh("alice", alice, "version", opts=mopts + ["-v"])
    assert "session request failed: Session open refused by peer" in \
        r.stderr, r.stderr[-2000:]
    assert r.returncode == 0 and r.stdout.startswith("tandemd ")
    assert len(new_port_log(d, mark)) == 1
    serving(d, by)
    for p in held:
        p.stdin.write(b"exit\n")
        p.stdin.close()
    for p in held:
        assert p.wait(timeout=15) == 0
    # The channels are freed: the connection takes new ones.
    r = d.ssh("alice", alice, "version", opts=mopts)
    assert r.returncode == 0, r.stderr
    master.terminate()
    master.wait(timeout=10)
    assert d.stop() == 0


# -- exec commands ---------------------------------------------------------

def test_unknown_and_malformed_exec():
    d, by = setup()
    alice = Key(d.work, "alice")
    # A running session and a renamed one that must come through untouched.
    keep = subprocess.Popen(d.ssh_argv("alice", alice, tty=True),
                            stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    harness._cleanups.append(keep.kill)
    wait_until(lambda: d.sessions("alice", alice), what="a session")
    sid = d.sessions("alice", alice)[0]["id"]
    d.command("alice", alice, "rename", sid, "keep-me")
    before = d.sessions("alice", alice)
    cases = [
        (["frobnicate"], r"unknown command 'frobnicate' \(try 'help'\)"),
        (["FROB" * 40], r"unknown command 'F"),
        (["rename", sid, "'unterminated"],
         r"bad command line: unterminated quote"),
        (["rename", sid, '"unterminated'],
         r"bad command line: unterminated quote"),
        (["kill", sid + "\\"], r"bad command line: trailing backslash"),
        (["rename", sid, "evil\x1b[2J\x07"],
         r"bad command line: control character"),
        (["kill", "\x01" + sid], r"bad command line: control character"),
        (["kill"] + ["w"] * 70, r"bad command line: too many words"),
        (["rename", sid] + ["w"] * 64, r"bad command line: too many words"),
    ]
    for args, pattern in cases:
        r = d.ssh("alice", alice, *args)
        assert r.returncode == 2, (args[:3], r.returncode, r.stderr)
        assert re.search(r"^tandem: " + pattern, r.stderr), (args[:3],
                                                             r.stderr)
        assert r.stdout == "", r.stdout
        assert "\x1b" not in r.stderr and "\x07" not in r.stderr
        serving(d, by)
    assert d.sessions("alice", alice) == before
    keep.stdin.write(b"exit 0\n")
    keep.stdin.close()
    assert keep.wait(timeout=10) == 0
    assert d.stop() == 0


def test_exec_line_too_long():
    d, by = setup()
    alice = Key(d.work, "alice")
    d.command("alice", alice, "version")
    for n in (5000, 70000):
        r = d.ssh("alice", alice, "ls", "a" * n)
        # Answered like any other malformed line: exit 2 and a reason.
        assert r.returncode == 2, (n, r.returncode, r.stderr)
        assert "tandem: bad command line: command line too long" in \
            r.stderr, r.stderr
        serving(d, by)
    # Just under the limit it is an ordinary usage error.
    r = d.ssh("alice", alice, "ls", "a" * 4000)
    assert r.returncode == 2 and "wrong number of arguments" in r.stderr
    assert d.sessions("alice", alice) == []
    assert d.stop() == 0


def test_bad_arguments_to_known_commands():
    d, by = setup()
    alice = Key(d.work, "alice")
    d.command("alice", alice, "version")
    keep = subprocess.Popen(d.ssh_argv("alice", alice, tty=True),
                            stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    harness._cleanups.append(keep.kill)
    wait_until(lambda: d.sessions("alice", alice), what="a session")
    sid = d.sessions("alice", alice)[0]["id"]
    before = d.sessions("alice", alice)
    cases = [
        (["kill"], 2, r"kill: wrong number of arguments\nusage: kill "
                      r"SESSION\n"),
        (["kill", sid, sid], 2, r"kill: wrong number of arguments"),
        (["kill", "nosuch"], 1, r"no running session 'nosuch'\n"),
        (["kill", sid[:3]], 1, rf"no running session '{sid[:3]}'"),
        (["rename", "x"], 2, r"rename: wrong number of arguments\n"
                             r"usage: rename SESSION NAME\n"),
        (["rename", sid, "n" * 200], 2,
         r"a session name is 1 to 64 printable characters\n"),
        (["rename", sid, "''"], 2,
         r"a session name is 1 to 64 printable characters\n"),
        (["rename", "nosuch", "name"], 1, r"no session 'nosuch'\n"),
        (["ls", "--bogus"], 2, r"ls: unknown option '--bogus'\n"
                              r"usage: ls \[--all\] \[--json\]\n"),
        (["ls", "-z"], 2, r"ls: unknown option '-z'"),
        (["ls", "--json=yes"], 2, r"ls: option '--json' takes no value"),
        (["ls", "--json", "--json"], 2, r"ls: option '--json' given twice"),
        (["ls", "extra"], 2, r"ls: wrong number of arguments"),
        (["version", "extra"], 2, r"version: wrong number of arguments"),
        (["attach", sid, "more"], 2, r"attach: wrong number of arguments"),
        (["attach", sid], 1, r"attach needs a terminal: use ssh -t"),
    ]
    for args, status, pattern in cases:
        r = d.ssh("alice", alice, *args)
        assert r.returncode == status, (args, r.returncode, r.stderr)
        assert re.fullmatch(r"tandem: " + pattern + r"(.|\n)*", r.stderr), \
            (args, r.stderr)
        serving(d, by)
    assert d.sessions("alice", alice) == before
    assert keep.poll() is None
    keep.stdin.write(b"exit 0\n")
    keep.stdin.close()
    assert keep.wait(timeout=10) == 0
    assert d.stop() == 0


# -- authentication --------------------------------------------------------

def test_password_and_keyboard_interactive_refused():
    d, by = setup({"max_auth_tries": "3"})
    alice = Key(d.work, "alice")
    d.command("alice", alice, "version")
    for method, opt in (("password", "PasswordAuthentication"),
                        ("keyboard-interactive",
                         "KbdInteractiveAuthentication")):
        mark = len(d.log())
        r = d.ssh("alice", None, "version", opts=[
            "-o", f"PreferredAuthentications={method}", "-o", f"{opt}=yes",
            "-o", "NumberOfPasswordPrompts=1"])
        assert r.returncode == 255, r
        # Only publickey is offered, so OpenSSH does not even try.
        assert "alice@127.0.0.1: Permission denied (publickey)." in \
            r.stderr, r.stderr
        new = log_since(d, mark)
        assert "accepted" not in new and "exec request" not in new, new
        assert re.search(r"connection from 127\.0\.0\.1 port \d+", new)
        serving(d, by)
    # A client that sends a password anyway is refused, logged, counted.
    mark = len(d.log())
    c = LibsshClient(d.port)
    port = new_port_log(d, mark)[0]
    for i in range(2):
        assert c.password("alice", "hunter2") == c.AUTH_DENIED, c.error()
        assert "Authentication that can continue: publickey" in c.error()
    assert len(re.findall(
        rf"auth failed for alice from 127\.0\.0\.1 port {port}: password "
        rf"authentication is not accepted", log_since(d, mark))) == 2
    assert "hunter2" not in d.log()
    serving(d, by)
    # keyboard-interactive is refused too, and counted: the third
    # failure is the last (max_auth_tries = 3).
    assert c.kbdint("alice") == c.AUTH_DENIED, c.error()
    d.wait_log(rf"port {port}: connection closed: Too many authentication "
               rf"failures", timeout=5)
    assert len(re.findall(rf"auth failed for alice from 127\.0\.0\.1 port "
                          rf"{port}: ", log_since(d, mark))) == 3
    c.close()
    # The right key still works for alice.
    c = LibsshClient(d.port)
    assert c.publickey("alice", alice) == c.AUTH_SUCCESS, c.error()
    c.close()
    serving(d, by)
    assert d.stop() == 0


def test_keyboard_interactive_attempts_counted():
    d, by = setup({"max_auth_tries": "3"})
    alice = Key(d.work, "alice")
    d.command("alice", alice, "version")
    mark = len(d.log())
    c = LibsshClient(d.port)
    port = new_port_log(d, mark)[0]
    for i in range(3):
        assert c.kbdint("alice") == c.AUTH_DENIED, (i, c.error())
    # Every refused attempt counts toward max_auth_tries, whatever the
    # method, as in sshd: the third is the last.
    d.wait_log(rf"port {port}: connection closed: Too many authentication "
               rf"failures", timeout=5)
    new = log_since(d, mark)
    assert len(re.findall(rf"auth failed for alice from 127\.0\.0\.1 port "
                          rf"{port}: ", new)) == 3, new
    c.close()
    serving(d, by)
    assert d.stop() == 0


def test_wrong_key_refused_and_logged():
    d, by = setup()
    alice, other = Key(d.work, "alice"), Key(d.work, "other")
    d.command("alice", alice, "version")
    mark = len(d.log())
    r = d.ssh("alice", other, "version")
    assert r.returncode == 255 and "Permission denied" in r.stderr
    port = new_port_log(d, mark)[0]
    d.wait_log(rf"auth failed for alice from 127\.0\.0\.1 port {port}: "
               rf"publickey SHA256:\S+: key is not registered for this user")
    serving(d, by)
    # alice's key cannot enroll a second name.
    mark = len(d.log())
    r = d.ssh("bob", alice, "version")
    assert r.returncode == 255 and "Permission denied" in r.stderr
    port = new_port_log(d, mark)[0]
    d.wait_log(rf"auth failed for bob from 127\.0\.0\.1 port {port}: "
               rf"publickey SHA256:\S+: key already belongs to another user")
    users = json.loads(d.offline("user", "list", "--json").stdout)
    assert sorted(u["name"] for u in users) == ["alice", "bystander"]
    assert d.command("alice", alice, "version").returncode == 0
    serving(d, by)
    assert d.stop() == 0


def test_max_auth_tries():
    d, by = setup({"max_auth_tries": "2"})
    alice = Key(d.work, "alice")
    d.command("alice", alice, "version")
    wrong = [Key(d.work, f"wrong{i}") for i in range(4)]
    # The client offers its keys in order: four wrong ones, then alice's.
    argv = keys_argv(d, "alice", wrong + [alice], "version")
    mark = len(d.log())
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 255, r
    assert r.stdout == ""
    assert "Too many authentication failures" in r.stderr, r.stderr
    port = new_port_log(d, mark)[0]
    d.wait_log(rf"port {port}: connection closed: Too many authentication "
               rf"failures")
    new = log_since(d, mark)
    # Exactly max_auth_tries failures were counted before the cut.
    assert len(re.findall(rf"auth failed for alice from 127\.0\.0\.1 port "
                          rf"{port}:", new)) == 2, new
    assert f"accepted publickey for alice from 127.0.0.1 port {port}" \
        not in new
    serving(d, by)
    # One wrong key and then the right one: still in.
    r = subprocess.run(keys_argv(d, "alice", [wrong[0], alice], "version"),
                       capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert d.stop() == 0


def test_invalid_user_names_refused():
    d, by = setup()
    key = Key(d.work, "k")
    names = ["Bad Name", "../x", "a" * 41, "x" * 33, "ALICE", ".hidden",
             "al\u00efce", "a/b", "a" * 39 + "!", ""]
    # OpenSSH sends these...
    for name in names[:-1]:
        mark = len(d.log())
        r = as_user(d, name, key, "version")
        assert r.returncode == 255, (name, r)
        assert "Permission denied (publickey)" in r.stderr, (name, r.stderr)
        port = new_port_log(d, mark)[0]
        d.wait_log(rf"auth failed for \(invalid name\) from 127\.0\.0\.1 "
                   rf"port {port}: user name not valid")
        serving(d, by)
    # ...these only a bare client does (OpenSSH refuses them itself).
    for name in names + ["-oProxyCommand=x", "-x", "a;b", "$(id)",
                         "a\tb", "a\x1b[2Jb", "bystander\nx"]:
        mark = len(d.log())
        c = LibsshClient(d.port)
        port = new_port_log(d, mark)[0]
        assert c.publickey(name, key) == c.AUTH_DENIED, (name, c.error())
        c.close()
        d.wait_log(rf"auth failed for \(invalid name\) from 127\.0\.0\.1 "
                   rf"port {port}: user name not valid")
        assert "\x1b" not in d.log()
        serving(d, by)
    # 40 characters of the token alphabet are a share token, not a name:
    # refused as such, with the reason, and logged with a prefix only.
    mark = len(d.log())
    r = d.ssh("a" * 40, key, "version")
    assert r.returncode == 255, r
    assert "tandem: unknown share token" in r.stderr, r.stderr
    port = new_port_log(d, mark)[0]
    d.wait_log(rf"refused join with token aaaaaa\S* from 127\.0\.0\.1 "
               rf"port {port}: unknown share token")
    serving(d, by)
    name = "-oProxyCommand-" + "a" * 25
    mark = len(d.log())
    c = LibsshClient(d.port)
    port = new_port_log(d, mark)[0]
    assert c.publickey(name, key) == c.AUTH_DENIED, c.error()
    d.wait_log(rf"port {port}: connection closed: tandem: unknown share "
               rf"token")
    c.close()
    assert "a" * 40 not in d.log() and name not in d.log()
    serving(d, by)
    # The longest valid name is 32 characters.
    assert as_user(d, "x" * 32, key, "version").returncode == 0
    users = json.loads(d.offline("user", "list", "--json").stdout)
    assert sorted(u["name"] for u in users) == ["bystander", "x" * 32]
    assert d.stop() == 0


def test_enroll_closed_refuses_unknown_names():
    d = Daemon(config={"enroll": "closed"})
    by, carol = Key(d.work, "bystander"), Key(d.work, "carol")
    assert d.offline("user", "add", "bystander", "--key",
                     by.pub).returncode == 0
    d.start()
    serving(d, by)
    for name in ("carol", "root", "admin"):
        mark = len(d.log())
        r = d.ssh(name, carol, "version")
        assert r.returncode == 255 and "Permission denied" in r.stderr
        port = new_port_log(d, mark)[0]
        d.wait_log(rf"auth failed for {name} from 127\.0\.0\.1 port {port}:"
                   rf" publickey SHA256:\S+: unknown user \(enroll = "
                   rf"closed\)")
        serving(d, by)
    # The bystander's own key cannot take a new name either.
    r = d.ssh("dave", by, "version")
    assert r.returncode == 255
    users = json.loads(d.offline("user", "list", "--json").stdout)
    assert [u["name"] for u in users] == ["bystander"]
    assert d.stop() == 0


# -- connections that never log in -----------------------------------------

def test_login_grace_time():
    d, by = setup({"login_grace_time": "2s"})
    results = {}

    def run(name, payload):
        results[name] = probe(d.port, payload, timeout=10)

    threads = [threading.Thread(target=run, args=a) for a in
               (("silent", b""), ("banner", b"SSH-2.0-OpenSSH_9.2\r\n"),
                ("half-banner", b"SSH-2."))]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    # Meanwhile the daemon serves others as usual.
    time.sleep(0.3)
    serving(d, by)
    assert time.monotonic() - t0 < 1.8, "served only after the grace time"
    for t in threads:
        t.join()
    for name, (how, secs, got) in results.items():
        assert how == "eof", (name, how)
        assert 1.8 <= secs <= 5, (name, secs)
        assert got.startswith(b"SSH-2.0-tandem_"), (name, got[:40])
    # A client that is silent before even sending its version gets the
    # reason in a disconnect message.
    assert b"Login grace time exceeded" in results["silent"][2]
    assert d.log().count("login grace time exceeded") == 3
    assert d.log().count("connection closed: Login grace time exceeded") == 3
    serving(d, by)
    assert d.stop() == 0


def test_garbage_on_ssh_port():
    d, by = setup({"login_grace_time": "3s"})
    cases = [
        ("random", os.urandom(8192)),
        ("megabyte line", b"A" * (1 << 20)),
        ("http", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("ssh1", b"SSH-1.5-old\r\n"),
        ("nul banner", b"SSH-2.0-\x00\x00\x00\r\n" + b"\x00" * 100),
        ("banner then junk", b"SSH-2.0-x\r\n" + os.urandom(5000)),
        ("huge packet length", b"SSH-2.0-x\r\n\xff\xff\xff\xf0" +
         b"\x00" * 64),
    ]
    for name, payload in cases:
        mark = len(d.log())
        how, secs, got = probe(d.port, payload, timeout=10)
        assert how in ("eof", "reset"), (name, how)
        assert secs < 1.5, (name, secs)
        d.wait_log(r"key exchange failed", timeout=5)
        assert "key exchange failed" in log_since(d, mark), name
        serving(d, by)
    # A truncated banner is not an error yet: it waits out the grace time.
    how, secs, got = probe(d.port, b"SSH-2.", timeout=10)
    assert how == "eof" and 2.7 <= secs <= 6, (how, secs)
    # Nobody got in.
    assert "accepted publickey" not in re.sub(
        r"accepted publickey for bystander", "", d.log())
    serving(d, by)
    assert d.stop() == 0


def test_many_concurrent_connections():
    d, by = setup()
    keys = [Key(d.work, f"u{i}") for i in range(5)]
    procs = []
    t0 = time.monotonic()
    for i in range(50):
        k = keys[i % 5]
        procs.append(subprocess.Popen(
            d.ssh_argv(f"u{i % 5}", k, "version"), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for p in procs:
        harness._cleanups.append(p.kill)
    results = [(p.wait(timeout=60), p.stdout.read().decode(),
                p.stderr.read().decode()) for p in procs]
    bad = [r for r in results if r[0] != 0 or
           not r[1].startswith("tandemd ")]
    assert not bad, bad[:3]
    assert time.monotonic() - t0 < 30
    # Plus a half-open crowd that never logs in.
    socks = [socket.create_connection(("127.0.0.1", d.port))
             for _ in range(50)]
    serving(d, by)
    for s in socks:
        s.close()
    serving(d, by)
    assert d.stop() == 0


if __name__ == "__main__":
    harness.main(globals(), "test_hostile")
