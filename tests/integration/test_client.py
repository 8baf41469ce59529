"""The tandem client inside a session, and the control socket behind it.

A real session (ssh under tmux) runs the real client, which finds the
daemon through $TANDEM; the output of each command goes to files so that
the test reads it exactly rather than off the screen.  The socket is
also attacked straight from Python (bad JSON, oversized and malformed
requests, silent and vanishing clients, another session's secret), and
the client is run against fake daemons (gone, silent, recording) to
check its own side: timeouts, error messages, the password prompt.

The two ten-second waits (a silent client is closed, a silent daemon is
given up on) run in the background while the other checks go on, so
that the file stays well under a minute.
"""

import json
import os
import re
import shlex
import socket
import stat
import subprocess
import threading
import time

import harness
from harness import Daemon, Key, Tmux, Workdir, PROMPT, wait_until

TANDEM = os.path.join(os.path.dirname(harness.TANDEMD), "tandem")
BINDIR = os.path.dirname(TANDEM)


class Shell:
    """A session's shell in tmux, with the client's folder on PATH."""

    def __init__(self, d, key, user="alice", name="t"):
        self.d = d
        self.t = Tmux(d.work, " ".join(d.ssh_argv(user, key, tty=True)),
                      name=name)
        self.t.wait_for(PROMPT)
        self.n = 0
        self.t.type(f"PATH={shlex.quote(BINDIR)}:$PATH; export PATH\n")

    def run(self, cmdline, timeout=15):
        """Run cmdline in the session; return (status, stdout, stderr)."""
        self.n += 1
        base = self.d.work.join(f"run{self.n}")
        self.t.type(f"{cmdline} >{base}.out 2>{base}.err; "
                    f"echo $? >{base}.tmp; mv {base}.tmp {base}.rc\n")
        wait_until(lambda: os.path.exists(base + ".rc"), timeout=timeout,
                   what=f"'{cmdline}' to finish (screen:\n"
                   f"{self.t.screen()})")
        with open(base + ".rc") as f:
            rc = int(f.read())
        with open(base + ".out") as f:
            out = f.read()
        with open(base + ".err") as f:
            err = f.read()
        return rc, out, err

    def env(self):
        rc, out, _ = self.run('printf %s "$TANDEM"')
        assert rc == 0
        path, sid, secret = out.rsplit(",", 2)
        return path, sid, secret


def ask(path, payload, timeout=15):
    """Send raw bytes to the control socket; return the parsed answer,
    or None if the daemon closed without one."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    try:
        s.sendall(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused before we were done: the answer may be there
    data = b""
    try:
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    s.close()
    return json.loads(data) if data else None


def request(sid, secret, argv, **extra):
    obj = {"session": sid, "secret": secret, "argv": argv}
    obj.update(extra)
    return (json.dumps(obj) + "\n").encode()


def client(args, env_tandem, input=None, timeout=30):
    env = dict(os.environ)
    env.pop("TANDEM", None)
    if env_tandem is not None:
        env["TANDEM"] = env_tandem
    return subprocess.run([TANDEM, *args], env=env, input=input,
                          capture_output=True, text=True, timeout=timeout,
                          stdin=None if input is not None
                          else subprocess.DEVNULL)


class FakeDaemon:
    """A Unix socket that records one request and answers (or not)."""

    def __init__(self, work, answer=None, name="fake.sock"):
        self.path = work.join(name)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(4)
        self.answer = answer
        self.request = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        harness._cleanups.append(self.sock.close)

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        self.request = json.loads(data)
        if self.answer is None:
            time.sleep(15)  # a stopped daemon: never answers
        else:
            conn.sendall((json.dumps(self.answer) + "\n").encode())
        conn.close()

    def env(self, sid="s-1", secret="ab" * 32):
        return f"{self.path},{sid},{secret}"


def test_client_in_session():
    work = Workdir()
    # A relative data folder: $TANDEM must still name an absolute path.
    d = Daemon(work=work, data_dir=os.path.relpath(work.join("data")))
    d.start()
    key = Key(d.work, "alice")
    sh = Shell(d, key)

    # Two ten-second waits, in the background from now on.
    idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    idle_at = {}

    def idle_client():
        idle.connect(path)
        t0 = time.monotonic()
        idle.settimeout(20)
        try:
            idle_at["data"] = idle.recv(100)
        except OSError as exc:
            idle_at["data"] = exc
        idle_at["after"] = time.monotonic() - t0

    silent = FakeDaemon(work, answer=None, name="silent.sock")
    quiet = {}

    def quiet_client():
        t0 = time.monotonic()
        quiet["r"] = client(["ls"], silent.env())
        quiet["after"] = time.monotonic() - t0

    path, sid, secret = sh.env()
    assert path == os.path.realpath(d.data_dir) + "/control.sock", path
    threads = [threading.Thread(target=idle_client),
               threading.Thread(target=quiet_client)]
    for th in threads:
        th.start()

    # The socket: mode 0600, in the 0700 data folder.
    st = os.lstat(path)
    assert stat.S_ISSOCK(st.st_mode), oct(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    assert stat.S_IMODE(os.stat(d.data_dir).st_mode) == 0o700
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    assert sid == d.sessions("alice", key)[0]["id"]

    rc, out, err = sh.run("tandem version")
    assert (rc, err) == (0, ""), (rc, err)
    assert re.fullmatch(r"tandemd \d+\.\d+\.\d+\n", out), out
    rc, out, _ = sh.run("tandem --version")
    assert rc == 0 and re.fullmatch(r"tandem \d+\.\d+\.\d+\n", out), out
    rc, out, _ = sh.run("tandem ls")
    assert rc == 0 and sid in out and "active" in out, out
    rc, out, _ = sh.run("tandem ls --json")
    assert rc == 0 and [s["id"] for s in json.loads(out)] == [sid], out
    rc, out, _ = sh.run("tandem --help")
    assert rc == 0
    for word in ("share [--read-only|--read-write]", "--password",
                 "shares", "revoke SHARE", "extend SHARE D", "viewers",
                 "handoff USER", "ls"):
        assert word in out, (word, out)

    # argv goes through as it is: the daemon judges it.
    rc, out, err = sh.run("tandem nosuchcommand")
    assert rc == 2 and "unknown command 'nosuchcommand'" in err, (rc, err)
    rc, _, err = sh.run("tandem ls --bogus")
    assert rc == 2 and "unknown option '--bogus'" in err, err
    rc, _, err = sh.run("tandem rename \"it's a 'name'\" two three")
    assert rc == 2 and "usage: rename" in err, err
    rc, _, err = sh.run("tandem attach")
    assert rc == 1 and "terminal" in err, err
    rc, _, err = sh.run("tandem -x")
    assert rc == 2 and "unknown option '-x'" in err, err
    rc, _, err = sh.run("tandem")
    assert rc == 2 and "usage: tandem" in err, err

    # Outside a session, or with a wrong secret.
    rc, _, err = sh.run("env -u TANDEM tandem ls")
    assert rc == 2, rc
    assert err == "tandem: not inside a tandem session ($TANDEM is not " \
        "set)\n", err
    rc, _, err = sh.run("TANDEM=garbage tandem ls")
    assert rc == 2 and "not inside a tandem session" in err, err
    rc, _, err = sh.run('TANDEM="${TANDEM%,*},' + "0" * 64 + '" tandem ls')
    assert (rc, err) == (1, "tandem: not authorized\n"), (rc, err)
    rc, _, err = sh.run('TANDEM="${TANDEM%,*},short" tandem ls')
    assert (rc, err) == (1, "tandem: not authorized\n"), (rc, err)

    # A second session: its secret is no key to the first one.
    sh2 = Shell(d, key, name="second")
    _, sid2, secret2 = sh2.env()
    assert sid2 != sid and secret2 != secret
    a = ask(path, request(sid, secret2, ["kill", sid]))
    assert a == {"status": 1, "stdout": "",
                 "stderr": "tandem: not authorized\n"}, a
    a = ask(path, request(sid2, secret, ["ls"]))
    assert a["status"] == 1 and a["stderr"] == "tandem: not authorized\n"
    a = ask(path, request(sid2, secret2, ["version"], tty=False))
    assert a["status"] == 0 and a["stdout"].startswith("tandemd "), a
    a = ask(path, request("no-such-session", secret, ["ls"]))
    assert a["status"] == 1 and "not authorized" in a["stderr"], a
    sh2.t.type("exit\n")
    sh2.t.wait_dead()
    # A session that ended takes its authority with it.
    a = ask(path, request(sid2, secret2, ["version"]))
    assert a["status"] == 1 and "not authorized" in a["stderr"], a

    # Hostile requests: an answer that says why, and the daemon serves on.
    a = ask(path, b"this is not json\n")
    assert a["status"] == 2, a
    assert a["stderr"].startswith("tandem: malformed request: invalid "
                                  "JSON"), a
    a = ask(path, b'{"session": "x", "argv": [1, 2]}' + b" " * 100 + b"\n")
    assert a["status"] == 2 and "malformed request" in a["stderr"], a
    a = ask(path, request(sid, secret, [1, 2, 3]))
    assert a["status"] == 2 and "\"argv\" must be an array of strings" \
        in a["stderr"], a
    a = ask(path, request(sid, secret, ["ls"] + ["x"] * 64))
    assert a["status"] == 2 and "more than 64 words" in a["stderr"], a
    a = ask(path, request(sid, secret, []))
    assert a["status"] == 2 and "empty" in a["stderr"], a
    a = ask(path, request(sid, secret, "ls"))
    assert a["status"] == 2, a
    a = ask(path, request(sid, secret, ["ls"], tty="yes"))
    assert a["status"] == 2 and "tty" in a["stderr"], a
    a = ask(path, request(sid, secret, ["share"], password="p" * 1025))
    assert a["status"] == 2 and "password" in a["stderr"], a
    a = ask(path, b"[" * 5000 + b"\n")
    assert a["status"] == 2, a
    a = ask(path, b'{"session": "x", "argv": ["\xff"]}\n')
    assert a["status"] == 2, a
    a = ask(path, b"x" * 100 * 1024)
    assert a["status"] == 2 and "longer than 65536 bytes" in a["stderr"], a
    a = ask(path, b'{"session": "' + b"y" * 70000 + b'"}\n')
    assert a["status"] == 2, a
    # Words the shell would mangle reach the command untouched.
    odd = "it's \"$HOME\" \\ *"
    a = ask(path, request(sid, secret, [odd, "x y"]))
    assert a["status"] == 2, a
    assert f"unknown command '{odd}'" in a["stderr"], a
    # Control characters are refused by the command line rules.
    a = ask(path, request(sid, secret, ["ls", "a\x1b[2Jb"]))
    assert a["status"] == 2 and "control character" in a["stderr"], a
    # Half a request, then gone; end of input before the newline.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(b'{"session": "' + sid.encode())
    s.close()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(15)
    s.connect(path)
    s.sendall(request(sid, secret, ["version"]).rstrip(b"\n"))
    s.shutdown(socket.SHUT_WR)
    a = json.loads(s.recv(65536))
    s.close()
    assert a["status"] == 2 and "end of input" in a["stderr"], a
    # Connect and go at once, many times.
    for _ in range(50):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.close()

    # Connections are bounded: past 32 at once, the next is told so.
    held = []
    for _ in range(40):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        held.append(s)
    # Those past the limit are answered "busy" (which ones depends on how
    # many earlier connections the daemon has seen close by then).
    import select
    answers = []
    deadline = time.monotonic() + 20
    while not answers and time.monotonic() < deadline:
        ready, _, _ = select.select(held, [], [], 1)
        for r in ready:
            data = r.recv(65536)
            if data:
                answers.append(json.loads(data))
    assert answers and all(a["status"] == 1 and "busy" in a["stderr"]
                           for a in answers), answers
    for s in held:
        s.close()

    def served():
        # Until the daemon has seen the others close, its listen queue
        # may still be full: connect() then says EAGAIN.
        try:
            return ask(path, request(sid, secret, ["version"]))[
                "status"] == 0
        except OSError:
            return False
    wait_until(served, timeout=20, what="connections freed")

    # Still serving, over ssh and over the socket.
    assert d.command("alice", key, "version").returncode == 0
    rc, out, _ = sh.run("tandem version")
    assert rc == 0 and out.startswith("tandemd "), out

    # The secret is never logged.
    log = d.log()
    assert secret not in log and secret2 not in log
    assert re.search(r"control: pid \d+ uid \d+: session " + sid +
                     r" \(alice\): 'version' exited 0", log), log[-2000:]
    assert "not authorized for session" in log

    # The background waits.
    for th in threads:
        th.join(timeout=30)
    assert idle_at["data"] == b"", idle_at
    assert 9 <= idle_at["after"] <= 14, idle_at
    r = quiet["r"]
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert r.stderr == "tandem: no answer from tandemd\n", r.stderr
    assert 9 <= quiet["after"] <= 14, quiet
    assert silent.request["argv"] == ["ls"]

    sh.t.type("exit\n")
    assert sh.t.wait_dead() == 0
    assert d.stop() == 0
    # The daemon takes its socket with it.
    assert not os.path.exists(path)


def test_client_against_fake_daemons():
    work = Workdir()
    # No daemon at all.
    gone = work.join("gone.sock")
    r = client(["ls"], f"{gone},s,{'ab' * 32}")
    assert r.returncode == 1
    assert r.stderr == f"tandem: cannot reach tandemd at {gone}: " \
        "No such file or directory\n", r.stderr
    # A socket file nobody listens on.
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(work.join("dead.sock"))
    dead.close()
    r = client(["ls"], f"{work.join('dead.sock')},s,{'ab' * 32}")
    assert r.returncode == 1 and "Connection refused" in r.stderr, r.stderr
    # A comma in the folder name: the path is all but the last two fields.
    comma = os.path.join(work.path, "a,b")
    os.mkdir(comma)
    fake = FakeDaemon(work, {"status": 7, "stdout": "out\u00e9\n",
                             "stderr": "err\n"}, name="a,b/x.sock")
    r = client(["share", "--label", "my 'label'", "-e", "1h", ""],
               fake.env("sid-1", "cd" * 32))
    assert r.returncode == 7, r
    assert (r.stdout, r.stderr) == ("out\u00e9\n", "err\n"), r
    fake.thread.join(5)
    assert fake.request == {
        "session": "sid-1", "secret": "cd" * 32, "tty": False,
        "argv": ["share", "--label", "my 'label'", "-e", "1h", ""]}, \
        fake.request

    # share --password reads one line from a pipe...
    fake = FakeDaemon(work, {"status": 0, "stdout": "", "stderr": ""},
                      name="pw.sock")
    r = client(["share", "--read-only", "--password"], fake.env(),
               input="s3cret pass\nignored\n")
    assert r.returncode == 0, r
    fake.thread.join(5)
    assert fake.request["password"] == "s3cret pass", fake.request
    assert fake.request["argv"] == ["share", "--read-only", "--password"]
    # ...in the daemon's option syntax...
    for argv in (["share", "-p"], ["share", "-rp", "-e", "1h"],
                 ["share", "-e", "1h", "--password", "--", "x"]):
        fake = FakeDaemon(work, {"status": 0, "stdout": "", "stderr": ""},
                          name="p.sock")
        r = client(argv, fake.env(), input="pw\n")
        fake.thread.join(5)
        assert fake.request.get("password") == "pw", (argv, fake.request)
        os.unlink(fake.path)
    # ...but not when --password is a value, a word, or for another
    # command; and an empty line lets tandemd make one up.
    for argv, stdin in ((["share", "--label", "--password"], "x\n"),
                        (["share", "-l--password"], "x\n"),
                        (["share", "--", "--password"], "x\n"),
                        (["ls", "--password"], "x\n"),
                        (["share", "--password"], "\n")):
        fake = FakeDaemon(work, {"status": 0, "stdout": "", "stderr": ""},
                          name="np.sock")
        r = client(argv, fake.env(), input=stdin)
        assert r.returncode == 0, (argv, r.stderr)
        fake.thread.join(5)
        assert "password" not in fake.request, (argv, fake.request)
        assert fake.request["argv"] == argv, fake.request
        os.unlink(fake.path)
    r = client(["share", "--password"], fake.env(), input="")
    assert r.returncode == 2 and "no password given" in r.stderr, r.stderr
    r = client(["share", "--password"], fake.env(), input="x" * 1025 + "\n")
    assert r.returncode == 2 and "too long" in r.stderr, r.stderr

    # The daemon reads an --authorized-keys FILE from its own folder: a
    # relative one is made absolute, from where the client runs.
    fake = FakeDaemon(work, {"status": 0, "stdout": "", "stderr": ""},
                      name="k.sock")
    env = dict(os.environ, TANDEM=fake.env())
    subprocess.run([TANDEM, "share", "-rk", "keys", "--label", "keys",
                    "--authorized-keys=sub/k2", "-k/abs"], env=env,
                   cwd=work.path, check=True, stdin=subprocess.DEVNULL,
                   capture_output=True, timeout=30)
    fake.thread.join(5)
    real = os.path.realpath(work.path)
    assert fake.request["argv"] == [
        "share", "-rk", real + "/keys", "--label", "keys",
        "--authorized-keys=" + real + "/sub/k2", "-k/abs"], fake.request

    # ...and prompts without echo on a terminal.
    fake = FakeDaemon(work, {"status": 0, "stdout": "shared\n",
                             "stderr": ""}, name="tty.sock")
    t = Tmux(work, f"env TANDEM={shlex.quote(fake.env())} "
             f"{shlex.quote(TANDEM)} share --password; "
             "echo after-rc=$?; sleep 30", name="pw")
    t.wait_for(r"Share password:")
    t.type("hunter2-secret\n")
    t.wait_for(r"after-rc=0")
    assert "hunter2" not in t.screen(), t.screen()
    assert "shared" in t.screen()
    fake.thread.join(5)
    assert fake.request["password"] == "hunter2-secret"
    assert fake.request["tty"] is True

    # A bad answer from the daemon is reported, not trusted.
    fake = FakeDaemon(work, {"status": "zero"}, name="bad.sock")
    r = client(["ls"], fake.env())
    assert r.returncode == 1 and "bad answer" in r.stderr, r.stderr
    r = client(["ls"], "relative/path,s,x")
    assert r.returncode == 2 and "not inside a tandem session" in r.stderr
    r = client(["ls"], "")
    assert r.returncode == 2 and "$TANDEM is not set" in r.stderr


def test_stale_socket_replaced():
    d = Daemon().start()
    path = os.path.join(d.data_dir, "control.sock")
    assert os.path.exists(path)
    d.proc.kill()  # SIGKILL: the socket stays behind
    d.proc.wait()
    assert os.path.exists(path)
    d2 = Daemon(work=d.work, data_dir=d.data_dir).start()
    key = Key(d2.work, "alice")
    assert d2.command("alice", key, "version").returncode == 0
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
    assert d2.stop() == 0


if __name__ == "__main__":
    harness.main(globals(), "test_client")
