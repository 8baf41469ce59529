"""tandemd start-up, data folder, offline user commands, signals."""

import os
import signal
import sqlite3
import stat
import subprocess
import time

import harness
from harness import Daemon, Key, Workdir, TANDEMD


def test_first_start_creates_data_folder():
    d = Daemon().start()
    st = os.stat(d.data_dir)
    assert stat.S_IMODE(st.st_mode) == 0o700, oct(st.st_mode)
    for name in ("ssh_host_ed25519_key", "server.secret", "tandem.db"):
        path = os.path.join(d.data_dir, name)
        assert os.path.exists(path), name
        assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0, name
    assert os.path.getsize(os.path.join(d.data_dir, "server.secret")) == 32
    db = sqlite3.connect(os.path.join(d.data_dir, "tandem.db"))
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] >= 1
    db.close()
    # The host key the client pins is the one in the folder.
    key = Key(d.work, "alice")
    assert d.command("alice", key, "version").stdout.startswith("tandemd ")
    pub = open(os.path.join(d.data_dir, "ssh_host_ed25519_key.pub")).read()
    assert pub.split()[1] in open(d.known_hosts).read()
    assert d.stop() == 0


def test_restart_keeps_host_key_and_users():
    d = Daemon().start()
    alice = Key(d.work, "alice")
    d.command("alice", alice, "version")
    hostkey = open(os.path.join(d.data_dir, "ssh_host_ed25519_key")).read()
    assert d.stop() == 0
    d.start()
    # StrictHostKeyChecking=accept-new would fail on a changed key.
    d.command("alice", alice, "version")
    assert open(os.path.join(d.data_dir,
                             "ssh_host_ed25519_key")).read() == hostkey
    assert d.stop() == 0


def test_help_version_and_bad_flags():
    r = subprocess.run([TANDEMD, "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("tandemd ")
    r = subprocess.run([TANDEMD, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--ssh-listen" in r.stdout
    r = subprocess.run([TANDEMD, "--no-such-flag"], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "usage" in r.stderr
    r = subprocess.run([TANDEMD, "frobnicate"], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "unknown command" in r.stderr
    for bad in ("nonsense", "127.0.0.1", "127.0.0.1:99999", "1.2.3:22"):
        w = Workdir()
        r = subprocess.run([TANDEMD, "--data-dir", w.join("d"),
                            "--ssh-listen", bad], capture_output=True,
                           text=True, timeout=10)
        assert r.returncode != 0, bad
        assert "ssh_listen" in r.stderr or "listen" in r.stderr, r.stderr


def test_bad_config_file_names_line():
    w = Workdir()
    conf = w.join("bad.conf")
    with open(conf, "w") as f:
        f.write("# comment\nlog_level = info\nmax_auth_tries = many\n")
    r = subprocess.run([TANDEMD, "--config", conf, "--data-dir",
                        w.join("d")], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode != 0
    assert f"{conf}:3" in r.stderr and "max_auth_tries" in r.stderr, r.stderr
    assert not os.path.exists(w.join("d")), "nothing may be created"
    with open(conf, "w") as f:
        f.write("no_such_key = 1\n")
    r = subprocess.run([TANDEMD, "--config", conf], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode != 0 and "unknown setting" in r.stderr
    r = subprocess.run([TANDEMD, "--config", w.join("missing.conf")],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and "missing.conf" in r.stderr
    with open(conf, "wb") as f:
        f.write(b"shell = \"/bin/sh\x00\"\n" + b"x" * 5000 + b"\n")
    r = subprocess.run([TANDEMD, "--config", conf], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode != 0 and f"{conf}:1" in r.stderr, r.stderr


def test_flags_override_config_file():
    d = Daemon(config={"ssh_listen": "127.0.0.1:1", "enroll": "closed"})
    # --ssh-listen 127.0.0.1:0 on the command line wins over port 1.
    d.start()
    assert d.port != 1
    key = Key(d.work, "alice")
    r = d.ssh("alice", key, "version")
    assert r.returncode == 255, "config enroll = closed must apply"
    assert d.stop() == 0


def test_data_folder_permissions_and_lock():
    w = Workdir()
    loose = w.join("loose")
    os.mkdir(loose, 0o755)
    os.chmod(loose, 0o755)
    d = Daemon(work=w, data_dir=loose)
    d.start(expect_ready=False)
    assert d.proc.wait(timeout=10) == 1
    assert "chmod 700" in d.log()
    # Two daemons on one folder: the second is refused.
    a = Daemon().start()
    b = Daemon(work=Workdir(), data_dir=a.data_dir)
    b.start(expect_ready=False)
    assert b.proc.wait(timeout=10) == 1
    assert "another tandemd" in b.log()
    assert a.alive()
    assert a.stop() == 0


def test_offline_user_commands():
    d = Daemon(config={"enroll": "closed"})
    w = d.work
    alice, bob = Key(w, "alice"), Key(w, "bob")
    r = d.offline("user", "add", "alice", "--key", alice.pub, "--admin")
    assert r.returncode == 0, r.stderr
    r = d.offline("user", "add", "alice", "--key", bob.pub)
    assert r.returncode == 1 and "exists" in r.stderr
    r = d.offline("user", "add", "bob", "--key", alice.pub)
    assert r.returncode == 1 and "already bound" in r.stderr
    r = d.offline("user", "add", "Bad Name", "--key", bob.pub)
    assert r.returncode == 2 and "not a valid user name" in r.stderr
    r = d.offline("user", "add", "carol")
    assert r.returncode == 2 and "--key" in r.stderr
    junk = w.join("junk.pub")
    with open(junk, "w") as f:
        f.write("ssh-ed25519 AAAAnotbase64!!\n")
    r = d.offline("user", "add", "carol", "--key", junk)
    assert r.returncode == 1 and "junk.pub:1" in r.stderr
    r = d.offline("user", "add", "carol", "--key", w.join("nope.pub"))
    assert r.returncode == 1
    r = d.offline("user", "add", "bob", "--key", bob.pub)
    assert r.returncode == 0, r.stderr
    import json
    users = json.loads(d.offline("user", "list", "--json").stdout)
    assert [(u["name"], u["role"], u["keys"]) for u in users] == \
        [("alice", "admin", 1), ("bob", "user", 1)]
    assert "alice" in d.offline("user", "list").stdout
    d.start()
    assert d.command("alice", alice, "version").returncode == 0
    assert d.command("bob", bob, "version").returncode == 0
    # user del while the daemon runs: bob can no longer log in.
    r = d.offline("user", "del", "bob")
    assert r.returncode == 0, r.stderr
    assert d.ssh("bob", bob, "version").returncode == 255
    r = d.offline("user", "del", "bob")
    assert r.returncode == 1 and "no user" in r.stderr
    r = d.offline("user", "frob")
    assert r.returncode == 2
    assert d.stop() == 0


def test_sigterm_ends_sessions_and_exits_cleanly():
    d = Daemon().start()
    key = Key(d.work, "alice")
    t = harness.Tmux(d.work, " ".join(d.ssh_argv("alice", key, tty=True)))
    t.wait_for(harness.PROMPT)
    rows = d.sessions("alice", key)
    assert rows[0]["state"] == "active"
    assert d.stop() == 0
    assert "shutting down" in d.log()
    status = t.wait_dead()
    assert status is not None
    db = sqlite3.connect(os.path.join(d.data_dir, "tandem.db"))
    states = [r[0] for r in db.execute("SELECT state FROM sessions")]
    db.close()
    assert states == ["terminated"], states


def test_restart_marks_orphaned_sessions_terminated():
    d = Daemon().start()
    key = Key(d.work, "alice")
    t = harness.Tmux(d.work, " ".join(d.ssh_argv("alice", key, tty=True)))
    t.wait_for(harness.PROMPT)
    # A crash: no chance to record anything.
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    d.start()
    rows = d.sessions("alice", key)
    assert [r["state"] for r in rows] == ["terminated"], rows
    assert rows[0]["ended_at"] is not None
    assert "marked 1 sessions of a previous run terminated" in d.log()
    assert d.stop() == 0


def test_sighup_reopens_log():
    w = Workdir()
    logf = w.join("t.log")
    d2 = Daemon(work=w, config={"log_file": logf})
    d2.start(expect_ready=False)
    harness.wait_until(lambda: os.path.exists(logf) and
                       "listening for ssh" in open(logf).read(),
                       what="log file")
    os.rename(logf, logf + ".1")
    d2.proc.send_signal(signal.SIGHUP)
    harness.wait_until(lambda: os.path.exists(logf), what="reopened log")
    harness.wait_until(lambda: "log reopened" in open(logf).read(),
                       what="line in reopened log")
    assert d2.stop() == 0
    assert "stopped:" in open(logf).read()


if __name__ == "__main__":
    harness.main(globals(), "test_startup")
