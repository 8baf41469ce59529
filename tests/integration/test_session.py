"""Sessions over SSH: shell, exit status, sizes, detach/attach, commands."""

import json
import os
import re
import signal
import subprocess
import time

import harness
from harness import Daemon, Key, Tmux, PROMPT, wait_until


def shell(d, key, user="alice", cols=80, rows=24, args=(), name="t"):
    """An interactive ssh client in a tmux window, at its prompt."""
    t = Tmux(d.work, " ".join(d.ssh_argv(user, key, *args, tty=True)),
             cols=cols, rows=rows, name=name)
    return t


def test_login_output_and_exit_status():
    d = Daemon().start()
    key = Key(d.work, "alice")
    r = d.ssh("alice", key, tty=True, input="echo hel''lo-$((6*7))\nexit 3\n")
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert "hello-42" in r.stdout
    r = d.ssh("alice", key, tty=True, input="exit\n")
    assert r.returncode == 0
    # Killed by a signal: ssh reports it as 255.
    r = d.ssh("alice", key, tty=True, input="kill -KILL $$\n")
    assert r.returncode == 255, r.returncode
    rows = d.sessions("alice", key)
    assert [s["exit_status"] for s in rows] == [3, 0, None], rows
    assert all(s["state"] == "terminated" for s in rows)
    assert d.stop() == 0


def test_files_limit():
    """tandemd takes the hard open-files limit for its connections; the
    programs in sessions keep the soft limit it was started with."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(soft, 512)
    resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard))
    try:
        d = Daemon().start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    with open(f"/proc/{d.proc.pid}/limits") as f:
        line = [x for x in f if x.startswith("Max open files")][0]
    assert line.split()[3] == str(hard), (line, hard)
    key = Key(d.work, "alice")
    r = d.ssh("alice", key, tty=True, input="ulimit -n; exit\n")
    assert re.search(rf"(?m)^(?:[#$] )?{low}\r?$", r.stdout), (low, r.stdout)
    assert d.stop() == 0


def test_term_and_environment():
    d = Daemon().start()
    key = Key(d.work, "alice")
    t = shell(d, key)
    t.wait_for(PROMPT)
    t.type('echo "T=$TERM S=${#TANDEM_SESSION} U=$TANDEM_USER"\n')
    t.wait_for(r"T=tmux-256color S=36 U=alice")  # tmux's TERM
    t.type("exit 0\n")
    assert t.wait_dead() == 0
    assert d.stop() == 0


def test_configured_command():
    d = Daemon(config={"command": "echo configured-$((40+2)); exit 7"})
    d.start()
    key = Key(d.work, "alice")
    r = d.ssh("alice", key, tty=True)
    assert r.returncode == 7 and "configured-42" in r.stdout, r
    assert d.stop() == 0


def test_window_change_seen_by_stty():
    d = Daemon().start()
    key = Key(d.work, "alice")
    t = shell(d, key, cols=100, rows=30)
    t.wait_for(PROMPT)
    t.type("stty size\n")
    t.wait_for(r"(?m)^30 100$")
    t.resize(120, 40)
    wait_until(lambda: d.sessions("alice", key)[0]["cols"] == 120,
               what="size recorded")
    t.type("clear; stty size\n")
    t.wait_for(r"(?m)^40 120$")
    row = d.sessions("alice", key)[0]
    assert (row["cols"], row["rows"]) == (120, 40)
    t.type("exit\n")
    t.wait_dead()
    assert d.stop() == 0


def test_detach_then_attach_repaints_screen():
    d = Daemon().start()
    key = Key(d.work, "alice")
    t = shell(d, key, name="a")
    t.wait_for(PROMPT)
    # Colour, text and a cursor that is not at the start of a line.
    t.type("clear; printf '\\033[1;31mRED\\033[0m plain\\n'; "
           "for i in 1 2 3; do echo line-$i; done; printf 'tail:'; "
           "sleep 1000\n")
    t.wait_for(r"tail:")
    before = t.lines()
    t.kill()
    wait_until(lambda: d.sessions("alice", key)[0]["state"] ==
               "disconnected", what="session disconnected")
    sid = d.sessions("alice", key)[0]["id"]
    a = shell(d, key, args=("attach", sid[:8]), name="b")
    a.wait_for(r"tail:")
    after = a.lines()
    assert after[:6] == before[:6], (before, after)
    # The cursor is where the program left it.
    assert a.cursor() == (5, before.index("tail:")), a.cursor()
    assert d.sessions("alice", key)[0]["state"] == "active"
    # Colours survive the repaint.
    esc = a._tmux("capture-pane", "-p", "-e", "-t", a.target)
    assert re.search(r"\x1b\[[0-9;]*31[0-9;]*mRED", esc), repr(esc[:200])
    a.send("C-c")
    a.type("exit 5\n")
    assert a.wait_dead() == 5
    assert d.stop() == 0


def test_attach_repaints_alternate_screen():
    d = Daemon().start()
    key = Key(d.work, "alice")
    t = shell(d, key, name="a")
    t.wait_for(PROMPT)
    t.type("echo primary-text\n")
    t.wait_for("primary-text")
    t.type("printf '\\033[?1049h\\033[H\\033[2JALT-SCREEN\\033[5;10HXY'; "
           "sleep 1000\n")
    t.wait_for("ALT-SCREEN")
    t.kill()
    wait_until(lambda: d.sessions("alice", key)[0]["state"] ==
               "disconnected", what="disconnected")
    a = shell(d, key, args=("attach",), name="b")
    a.wait_for("ALT-SCREEN")
    lines = a.lines()
    assert lines[4].startswith("         XY"), lines[:6]
    assert "primary-text" not in a.screen()
    alt = a._tmux("display-message", "-p", "-t", a.target,
                  "#{alternate_on}").strip()
    assert alt == "1", "the viewer's terminal must be in the alt screen"
    a.send("C-c")
    a.type("printf '\\033[?1049l'; exit\n")
    a.wait_dead()
    assert d.stop() == 0


def test_attach_takes_over_from_other_client():
    d = Daemon().start()
    key = Key(d.work, "alice")
    t = shell(d, key, name="a")
    t.wait_for(PROMPT)
    t.type("echo first-client\n")
    t.wait_for("first-client")
    a = shell(d, key, args=("attach",), name="b")
    a.wait_for("first-client")
    t.wait_for(r"\[detached: session attached from another client\]")
    status = t.wait_dead()
    assert status == 0, (status, t.screen())
    a.type("echo second-client\n")
    a.wait_for("second-client")
    a.type("exit\n")
    a.wait_dead()
    assert d.stop() == 0


def test_ls_rename_kill():
    d = Daemon().start()
    key, bob = Key(d.work, "alice"), Key(d.work, "bob")
    t1 = shell(d, key, cols=90, rows=20, name="one")
    t1.wait_for(PROMPT)
    t2 = shell(d, key, name="two")
    t2.wait_for(PROMPT)
    rows = d.sessions("alice", key, all=False)
    assert len(rows) == 2
    for r in rows:
        assert re.fullmatch(r"[0-9a-f-]{36}", r["id"])
        assert r["state"] == "active"
        assert r["client_address"] == "127.0.0.1"
        assert r["auth_method"] == "publickey"
        assert r["ended_at"] is None
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
                            r["started_at"])
    assert (rows[0]["cols"], rows[0]["rows"]) == (90, 20)
    first = rows[0]["id"]
    # Other users see none of alice's sessions and cannot touch them.
    assert d.sessions("bob", bob) == []
    r = d.ssh("bob", bob, "kill", first)
    assert r.returncode == 1 and "no running session" in r.stderr
    r = d.ssh("bob", bob, "rename", first, "mine")
    assert r.returncode == 1
    # rename, then refer to the session by its name.
    r = d.command("alice", key, "rename", first[:6], "'build box'")
    assert "renamed" in r.stdout
    assert d.sessions("alice", key)[0]["name"] == "build box"
    text = d.command("alice", key, "ls").stdout
    assert "build box" in text and "active" in text and first in text
    r = d.command("alice", key, "kill", "'build box'")
    assert "killed session " + first in r.stdout
    status = t1.wait_dead()
    assert status == 255, status   # hung up: exit-signal HUP
    wait_until(lambda: d.sessions("alice", key)[0]["state"] == "terminated",
               what="terminated")
    row = d.sessions("alice", key)[0]
    assert row["ended_at"] is not None
    assert len(d.sessions("alice", key, all=False)) == 1
    r = d.ssh("alice", key, "kill", first)
    assert r.returncode == 1 and "no running session" in r.stderr
    # A prefix shorter than 4 characters is not a reference.
    r = d.ssh("alice", key, "kill", first[:3])
    assert r.returncode == 1
    r = d.ssh("alice", key, "attach")
    assert r.returncode == 1 and "ssh -t" in r.stderr
    t2.type("exit\n")
    t2.wait_dead()
    r = d.ssh("alice", key, "attach", tty=True)
    assert r.returncode == 1 and "no running session" in r.stderr
    assert d.stop() == 0


def test_detached_session_keeps_running():
    d = Daemon().start()
    key = Key(d.work, "alice")
    t = shell(d, key, name="a")
    t.wait_for(PROMPT)
    marker = d.work.join("ticks")
    t.type(f"while :; do date +%s%N >> {marker}; sleep 0.1; done\n")
    wait_until(lambda: os.path.exists(marker), what="marker file")
    t.kill()
    wait_until(lambda: d.sessions("alice", key)[0]["state"] ==
               "disconnected", what="disconnected")
    n = len(open(marker).read().split())
    time.sleep(1)
    assert len(open(marker).read().split()) > n + 3, "program stopped"
    r = d.command("alice", key, "kill", d.sessions("alice", key)[0]["id"])
    assert r.returncode == 0
    assert d.stop() == 0


def test_enroll_first_key_and_wrong_key():
    d = Daemon().start()
    alice, other = Key(d.work, "alice"), Key(d.work, "other")
    assert d.command("alice", alice, "version").returncode == 0
    assert "enrolled new user alice" in d.log()
    # A known name with another key is refused...
    r = d.ssh("alice", other, "version")
    assert r.returncode == 255 and "Permission denied" in r.stderr
    d.wait_log(r"auth failed for alice from 127\.0\.0\.1 port \d+: "
               r"publickey SHA256:\S+: key is not registered")
    # ...and alice's key cannot enroll a second name.
    r = d.ssh("mallory", alice, "version")
    assert r.returncode == 255
    d.wait_log(r"auth failed for mallory .*already belongs")
    users = json.loads(d.offline("user", "list", "--json").stdout)
    assert [u["name"] for u in users] == ["alice"]
    assert d.stop() == 0


def test_enroll_closed():
    d = Daemon(config={"enroll": "closed"})
    alice, bob = Key(d.work, "alice"), Key(d.work, "bob")
    assert d.offline("user", "add", "alice", "--key",
                     alice.pub).returncode == 0
    d.start()
    assert d.command("alice", alice, "version").returncode == 0
    r = d.ssh("bob", bob, "version")
    assert r.returncode == 255 and "Permission denied" in r.stderr
    d.wait_log(r"auth failed for bob .*enroll = closed")
    assert d.stop() == 0


def test_max_sessions_per_user():
    d = Daemon(config={"max_sessions": "1"}).start()
    key = Key(d.work, "alice")
    t = shell(d, key, name="a")
    t.wait_for(PROMPT)
    r = d.ssh("alice", key, tty=True, input="exit\n")
    assert r.returncode == 1 and "too many sessions" in r.stderr + r.stdout
    t.type("exit\n")
    t.wait_dead()
    assert d.stop() == 0


def test_help_and_usage_errors():
    d = Daemon().start()
    key = Key(d.work, "alice")
    out = d.command("alice", key, "help").stdout
    for name in ("attach", "kill", "ls", "rename"):
        assert re.search(rf"(?m)^  {name}\b", out), name
    r = d.ssh("alice", key, "frobnicate")
    assert r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr
    r = d.ssh("alice", key, "ls", "--bogus")
    assert r.returncode == 2 and "--bogus" in r.stderr
    r = d.ssh("alice", key, "rename", "onlyone")
    assert r.returncode == 2 and "usage: rename" in r.stderr
    assert d.stop() == 0


def test_keepalive_drops_dead_client():
    d = Daemon(config={"keepalive_interval": "1s",
                       "keepalive_count_max": "2"}).start()
    key = Key(d.work, "alice")
    # Not under tmux: tmux continues a stopped pane process.
    client = subprocess.Popen(d.ssh_argv("alice", key, tty=True),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
    harness._cleanups.append(client.kill)
    wait_until(lambda: d.sessions("alice", key), what="session")
    # An idle client that answers keepalives stays.
    time.sleep(3.5)
    row = d.sessions("alice", key)[0]
    assert row["state"] == "active", (row, d.log()[-600:])
    # A client that stops answering (a dead link) is dropped, and its
    # session goes on, disconnected.
    client.send_signal(signal.SIGSTOP)
    try:
        d.wait_log(r"alice not responding, disconnecting", timeout=10)
        row = d.sessions("alice", key)[0]
        assert row["state"] == "disconnected", row
    finally:
        client.send_signal(signal.SIGCONT)
    assert d.stop() == 0


if __name__ == "__main__":
    harness.main(globals(), "test_session")
