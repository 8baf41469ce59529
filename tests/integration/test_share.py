"""Sharing a live session over SSH: shares, viewers, permissions, expiry,
revocation, limits, refusals and the audit trail."""

import json
import os
import re
import subprocess
import threading
import time

import harness
from harness import Daemon, Key, Tmux, PROMPT, wait_until


class Setup:
    """A daemon, users alice (owner) and bob, and alice's live session."""

    def __init__(self, config=None, cols=80, rows=24):
        self.d = Daemon(config=config).start()
        self.alice = Key(self.d.work, "alice")
        self.bob = Key(self.d.work, "bob")
        self.carol = Key(self.d.work, "carol")
        for name, key in (("bob", self.bob), ("carol", self.carol)):
            self.d.command(name, key, "version")
        self.owner = Tmux(self.d.work, " ".join(
            self.d.ssh_argv("alice", self.alice, tty=True)), cols=cols,
            rows=rows, name="owner")
        self.owner.wait_for(PROMPT)
        self.sid = self.d.sessions("alice", self.alice)[0]["id"]

    def share(self, *args, user="alice", key=None, check=True):
        r = self.d.ssh(user, key or self.alice, "share", self.sid,
                       "--json", *args)
        if check:
            assert r.returncode == 0, r.stderr
            return json.loads(r.stdout)
        return r

    def viewer(self, token, key=None, name="viewer", cols=80, rows=24,
               opts=()):
        return Tmux(self.d.work, " ".join(self.d.ssh_argv(
            token, key or self.bob, tty=True, opts=opts)), cols=cols,
            rows=rows, name=name)

    def audit(self):
        r = self.d.command("alice", self.alice, "audit", "--json")
        return json.loads(r.stdout)

    def owner_runs(self, text):
        self.owner.type(text + "\n")


def test_read_only_viewer_sees_output_and_cannot_type():
    s = Setup()
    marker = s.d.work.join("pwned")
    s.owner_runs("echo before-join")
    s.owner.wait_for("before-join")
    sh = s.share("--read-only")
    assert sh["permission"] == "read_only" and len(sh["token"]) == 40
    assert sh["ssh_command"] == \
        f"ssh -p {s.d.port} {sh['token']}@127.0.0.1"
    v = s.viewer(sh["token"])
    # A late joiner sees the earlier screen at once.
    v.wait_for("before-join")
    s.owner_runs("echo live-output")
    v.wait_for("live-output")
    # Keystrokes of a read-only viewer never reach the shell.
    v.type(f"touch {marker}\n")
    v.send("C-c")
    time.sleep(0.5)
    s.owner_runs("echo after-typing")
    v.wait_for("after-typing")
    assert not os.path.exists(marker)
    assert "touch" not in s.owner.screen()
    # Nor do bytes piped in before the join completes.
    early = s.d.work.join("early")
    p = subprocess.Popen(s.d.ssh_argv(sh["token"], s.bob, tty=True),
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    harness._cleanups.append(p.kill)
    p.stdin.write(f"touch {early}\n".encode())
    p.stdin.flush()
    wait_until(lambda: len(json.loads(s.d.command(
        "alice", s.alice, "viewers", s.sid, "--json").stdout)) == 2,
        what="second viewer")
    s.owner_runs("echo after-early")
    v.wait_for("after-early")
    assert not os.path.exists(early)
    p.kill()
    # The viewer's screen equals the owner's, line for line.
    wait_until(lambda: v.lines() == s.owner.lines(), what="same screen")
    # The owner's window title names the viewer.
    title = s.owner._tmux("display-message", "-p", "-t", "main",
                          "#{pane_title}")
    assert "[tandem: 1 viewer: bob]" in title, title
    assert s.d.stop() == 0


def test_read_write_viewer_types_without_terminal_replies():
    s = Setup()
    marker = s.d.work.join("typed")
    sh = s.share("--read-write")
    v = s.viewer(sh["token"])
    v.wait_for(PROMPT)
    # A reply the viewer's terminal might send (cursor position, colour
    # report) is dropped; the keys around it arrive.
    v.type("echo rw-")
    v._tmux("send-keys", "-t", "main", "-l", "\x1b[12;40R")
    v._tmux("send-keys", "-t", "main", "-l", "\x1b]11;rgb:1e1e/1e1e/1e1e\x07")
    v.type(f"typed; touch {marker}\n")
    wait_until(lambda: os.path.exists(marker), what="viewer's command")
    s.owner.wait_for(r"(?m)^rw-typed$")
    assert "rgb" not in s.owner.screen() and "40R" not in s.owner.screen()
    assert s.d.stop() == 0


def test_viewer_with_smaller_terminal_is_told_and_recovers():
    s = Setup(cols=100, rows=30)
    s.owner_runs("echo wide-session")
    sh = s.share()
    v = s.viewer(sh["token"], cols=80, rows=24)
    v.wait_for(r"This session is 100x30 and your terminal is 80x24")
    v.resize(100, 30)
    v.wait_for("wide-session")
    assert s.d.stop() == 0


def test_full_screen_program_same_for_viewer():
    s = Setup()
    sh = s.share()
    v = s.viewer(sh["token"])
    v.wait_for(PROMPT)
    # GR''EEN: the typed line must not match what the program draws.
    s.owner_runs("printf '\\033[?1049h\\033[2J\\033[3;5HTOP\\033[10;20H"
                 "\\033[1;32mGR''EEN\\033[0m'; sleep 3; "
                 "printf '\\033[?1049l'")
    v.wait_for("GREEN")
    wait_until(lambda: v.lines() == s.owner.lines(), what="alt screen equal")
    wait_until(lambda: "GREEN" not in s.owner.screen(), what="app exit")
    wait_until(lambda: v.lines() == s.owner.lines(), what="equal after exit")
    assert s.d.stop() == 0


def test_real_full_screen_programs_same_for_viewer():
    s = Setup()
    sh = s.share()
    v = s.viewer(sh["token"])
    v.wait_for(PROMPT)
    same = lambda what: wait_until(lambda: v.lines() == s.owner.lines(),
                                   what=what)
    s.owner_runs("TERM=xterm-256color less /etc/services")
    s.owner.wait_for(r"ftp")
    same("less: screens equal")
    s.owner.send("Space")
    same("less after a page: screens equal")
    s.owner.send("q")
    # Back on the primary screen: the program has let go of the input.
    s.owner.wait_for(r"(?m)^[$#] TERM=xterm-256color less /etc/services$")
    # And the shell has prompted again (typing sooner races its
    # terminal settings under a slow build).
    s.owner.wait_for(r"(?m)^[$#]$")
    s.owner_runs("echo less-d''one")
    s.owner.wait_for(r"(?m)^less-done$")
    same("after less")
    s.owner_runs("TERM=xterm-256color vi /etc/services")
    s.owner.wait_for(r"ftp")
    same("vi: screens equal")
    s.owner.type(":q!")
    s.owner.send("Enter")
    # Back on the primary screen: the program has let go of the input.
    s.owner.wait_for(r"(?m)^[$#] TERM=xterm-256color vi /etc/services$")
    # And the shell has prompted again (typing sooner races its
    # terminal settings under a slow build).
    s.owner.wait_for(r"(?m)^[$#]$")
    s.owner_runs("echo vi-d''one")
    s.owner.wait_for(r"(?m)^vi-done$")
    same("after vi")
    assert s.d.stop() == 0


def test_revoke_cuts_viewer_within_a_second():
    s = Setup()
    sh = s.share()
    v = s.viewer(sh["token"])
    v.wait_for(PROMPT)
    r = s.d.command("alice", s.alice, "revoke", sh["share_id"])
    revoked = time.time()
    assert "1 viewer disconnected" in r.stdout
    v.wait_for(r"\[tandem: this share was revoked", timeout=5)
    assert v.wait_dead() is not None
    # The viewer's ssh had exited by then, or within a second of it
    # (its exit status file's time says when).
    assert os.path.getmtime(v.status_file) - revoked < 1.0
    # The token no longer works, with a clear message.
    r = s.d.ssh(sh["token"], s.bob, opts=("-o", "LogLevel=INFO"), tty=True)
    assert r.returncode == 255 and "this share was revoked" in r.stderr
    r = s.d.ssh("alice", s.alice, "revoke", sh["share_id"])
    assert r.returncode == 1 and "revoked" in r.stderr
    actions = [a["action"] for a in s.audit()]
    for a in ("share.create", "viewer.join", "share.revoke",
              "viewer.refused"):
        assert a in actions, (a, actions)
    assert s.d.stop() == 0


def test_expiry_cuts_viewer_and_extend_relabel():
    s = Setup()
    sh = s.share("--expires", "2s")
    v = s.viewer(sh["token"])
    v.wait_for(PROMPT)
    v.wait_for(r"\[tandem: this share has expired", timeout=5)
    v.wait_dead()
    expired = harness.iso_to_epoch(sh["expires_at"])
    assert os.path.getmtime(v.status_file) - expired < 1.0
    rows = json.loads(s.d.command("alice", s.alice, "shares", s.sid,
                                  "--all", "--json").stdout)
    assert rows[0]["state"] == "expired"
    assert "share.expire" in [a["action"] for a in s.audit()]
    # extend and relabel an active share.
    sh2 = s.share("--expires", "30m", "--label", "pairing")
    r = s.d.command("alice", s.alice, "extend", sh2["share_id"], "4h")
    assert "now expires" in r.stdout
    r = s.d.command("alice", s.alice, "relabel", sh2["share_id"],
                    "'NOC handoff'")
    row = [x for x in json.loads(s.d.command(
        "alice", s.alice, "shares", s.sid, "--json").stdout)
        if x["share_id"] == sh2["share_id"]][0]
    assert row["label"] == "NOC handoff"
    actions = [a["action"] for a in s.audit()]
    assert "share.extend" in actions and "share.relabel" in actions
    for bad in ("0s", "2y", "1w", "-1h", "h"):
        r = s.d.ssh("alice", s.alice, "extend", sh2["share_id"], bad)
        assert r.returncode == 2, (bad, r.stderr)
    assert s.d.stop() == 0


def test_max_viewers_under_concurrent_joins():
    s = Setup()
    sh = s.share("--max-viewers", "5", "--no-auth")
    procs = []
    for i in range(20):
        p = subprocess.Popen(s.d.ssh_argv(sh["token"], None, tty=True,
                                          opts=("-o", "LogLevel=INFO")),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        harness._cleanups.append(p.kill)
        procs.append(p)
    wait_until(lambda: sum(p.poll() is not None for p in procs) >= 15,
               timeout=30, what="15 refusals")
    time.sleep(0.5)
    viewers = json.loads(s.d.command("alice", s.alice, "viewers", s.sid,
                                     "--json").stdout)
    assert len(viewers) == 5, viewers
    refused = [p for p in procs if p.poll() is not None]
    assert len(refused) == 15
    for p in refused:
        out = p.stdout.read().decode() + p.stderr.read().decode()
        assert "this share is full" in out, out
    assert s.d.stop() == 0


def test_user_share_and_wrong_user():
    s = Setup()
    sh = s.share("--user", "bob", "--read-write")
    assert sh["token"] is None and sh["kind"] == "user"
    # bob sees it in ls, with owner and permission.
    rows = json.loads(s.d.command("bob", s.bob, "ls", "--json").stdout)
    assert [(r["id"], r["shared_by"], r["permission"]) for r in rows] == \
        [(s.sid, "alice", "read_write")]
    v = Tmux(s.d.work, " ".join(s.d.ssh_argv("bob", s.bob, "attach",
                                             s.sid, tty=True)), name="bob")
    v.wait_for(PROMPT)
    v.type("echo bob-was-here\n")
    s.owner.wait_for(r"(?m)^bob-was-here$")
    # carol is not invited.
    r = s.d.ssh("carol", s.carol, "attach", s.sid, tty=True)
    assert r.returncode == 1 and "no running session" in r.stderr
    # A viewer may not re-share, list shares, revoke or kill.
    for args in (("share", s.sid), ("shares", s.sid), ("kill", s.sid),
                 ("revoke", sh["share_id"])):
        r = s.d.ssh("bob", s.bob, *args)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
    assert s.d.stop() == 0


def test_require_auth_and_no_auth():
    s = Setup()
    stranger = Key(s.d.work, "stranger")   # not a known user's key
    sh = s.share()
    r = s.d.ssh(sh["token"], stranger, tty=True)
    assert r.returncode == 255
    s.d.wait_log(r"key does not belong to a known user")
    sh2 = s.share("--no-auth")
    v = s.viewer(sh2["token"], key=stranger, name="guest")
    v.wait_for(PROMPT)
    viewers = json.loads(s.d.command("alice", s.alice, "viewers", s.sid,
                                     "--json").stdout)
    assert viewers[0]["user_name"] == "guest"
    assert s.d.stop() == 0


def test_authorized_keys_share():
    s = Setup()
    keys = s.d.work.join("allowed_keys")
    with open(keys, "w") as f:
        f.write("# only carol\n" + open(s.carol.pub).read())
    sh = s.share("--authorized-keys", keys)
    r = s.d.ssh(sh["token"], s.bob, tty=True)
    assert r.returncode == 255
    s.d.wait_log(r"not in the share's authorized keys")
    v = s.viewer(sh["token"], key=s.carol, name="carol")
    v.wait_for(PROMPT)
    r = s.share("--authorized-keys", s.d.work.join("nope"), check=False)
    assert r.returncode == 1 and "cannot read" in r.stderr
    # A FIFO must not block the daemon's loop.
    fifo = s.d.work.join("fifo")
    os.mkfifo(fifo)
    r = s.share("--authorized-keys", fifo, check=False)
    assert r.returncode == 1 and "cannot read" in r.stderr
    junk = s.d.work.join("junk")
    with open(junk, "w") as f:
        f.write("ssh-ed25519 not-base64!!\n")
    r = s.share("--authorized-keys", junk, check=False)
    assert r.returncode == 1 and "junk:1" in r.stderr
    assert s.d.stop() == 0


def test_password_share():
    s = Setup()
    sh = s.share("--password")
    pw = sh["password"]
    assert pw and len(pw) == 12
    opts = ("-o", "BatchMode=no", "-o", "PreferredAuthentications="
            "publickey,keyboard-interactive")
    wrong = s.viewer(sh["token"], name="wrong", opts=opts)
    wrong.wait_for("Share password:")
    wrong.type("not-the-password\n")
    wrong.wait_for(r"wrong password|Permission denied|closed")
    v = s.viewer(sh["token"], name="right", opts=opts)
    v.wait_for("Share password:")
    v.type(pw + "\n")
    v.wait_for(PROMPT)
    assert "wrong share password" in s.d.log()
    refused = [a for a in s.audit() if a["action"] == "viewer.refused"]
    assert any("wrong share password" in a["detail"] for a in refused)
    assert s.d.stop() == 0


def test_bad_tokens_refused_audited_and_rate_limited():
    s = Setup()
    sh = s.share()
    tampered = ("A" if sh["token"][0] != "A" else "B") + sh["token"][1:]
    r = s.d.ssh(tampered, s.bob, opts=("-o", "LogLevel=INFO"), tty=True)
    assert r.returncode == 255 and "unknown share token" in r.stderr
    assert sh["token"] not in s.d.log(), "a token must never be logged"
    # A token that names no share belongs to no session: only the
    # database (or an admin's audit) shows the refusal.
    import sqlite3
    db = sqlite3.connect(os.path.join(s.d.data_dir, "tandem.db"))
    rows = db.execute("SELECT detail, address FROM audit WHERE action = "
                      "'viewer.refused'").fetchall()
    db.close()
    assert rows and "unknown share token" in rows[0][0], rows
    assert rows[0][1] == "127.0.0.1"
    assert sh["token"][6:] not in rows[0][0]
    for i in range(12):
        s.d.ssh("x" * 39 + chr(ord("a") + i % 26), s.bob, tty=True)
    r = s.d.ssh(sh["token"], s.bob, opts=("-o", "LogLevel=INFO"), tty=True)
    assert r.returncode == 255 and "too many failed attempts" in r.stderr
    assert s.d.stop() == 0


def test_shares_end_with_session_and_viewer_told():
    s = Setup()
    sh = s.share()
    v = s.viewer(sh["token"])
    v.wait_for(PROMPT)
    s.owner_runs("exit 0")
    v.wait_for(r"\[tandem: the session ended\]")
    rows = json.loads(s.d.command("alice", s.alice, "shares", s.sid,
                                  "--all", "--json").stdout)
    assert rows[0]["state"] == "ended"
    r = s.d.ssh(sh["token"], s.bob, opts=("-o", "LogLevel=INFO"), tty=True)
    assert r.returncode == 255 and "the session has ended" in r.stderr
    actions = [a["action"] for a in s.audit()]
    for a in ("session.start", "viewer.join", "viewer.leave",
              "session.end"):
        assert a in actions, (a, actions)
    assert s.d.stop() == 0


def test_read_only_viewer_gets_no_clipboard_writes():
    s = Setup()
    sh = s.share()
    v = s.viewer(sh["token"])
    v.wait_for(PROMPT)
    for t in (s.owner, v):
        t._tmux("set-option", "-g", "set-clipboard", "on")
    s.owner_runs("printf '\\033]52;c;%s\\007'; echo osc-sent"
                 % "c2VjcmV0")
    v.wait_for("osc-sent")
    time.sleep(0.3)
    assert "secret" in s.owner._tmux("show-buffer", check=False)
    assert v._tmux("list-buffers", check=False).strip() == ""
    assert s.d.stop() == 0


def test_handoff_and_admin_attach():
    s = Setup()
    r = s.d.command("alice", s.alice, "handoff", s.sid, "bob")
    assert "now belongs to bob" in r.stdout
    s.owner.wait_for(r"\[detached: session handed off to bob\]")
    assert [x["id"] for x in s.d.sessions("bob", s.bob)] == [s.sid]
    assert s.d.sessions("alice", s.alice) == []
    b = Tmux(s.d.work, " ".join(s.d.ssh_argv("bob", s.bob, "attach",
                                             s.sid, tty=True)), name="bob")
    b.wait_for(PROMPT)
    b.type("echo bob-owns-it\n")
    b.wait_for(r"(?m)^bob-owns-it$")
    assert "session.handoff" in [
        a["action"] for a in json.loads(s.d.command(
            "bob", s.bob, "audit", "--json").stdout)]
    # An admin may attach (as a viewer) any session; it is audited.
    admin = Key(s.d.work, "root")
    assert s.d.offline("user", "add", "root", "--key", admin.pub,
                       "--admin").returncode == 0
    a = Tmux(s.d.work, " ".join(s.d.ssh_argv("root", admin, "attach",
                                             "--read-only", s.sid,
                                             tty=True)), name="admin")
    a.wait_for("bob-owns-it")
    audit = json.loads(s.d.command("root", admin, "audit", "--json").stdout)
    assert "admin.attach" in [x["action"] for x in audit]
    assert s.d.stop() == 0


def test_claim_link_single_use():
    s = Setup()
    sh = s.share("--claim")
    v = s.viewer(sh["token"], name="bob")
    v.wait_for(PROMPT)
    rows = json.loads(s.d.command("bob", s.bob, "ls", "--json").stdout)
    assert [r["id"] for r in rows] == [s.sid]
    r = s.d.ssh(sh["token"], s.carol, opts=("-o", "LogLevel=INFO"),
                tty=True)
    assert r.returncode == 255 and "unknown share token" in r.stderr
    assert "share.claim" in [a["action"] for a in s.audit()]
    assert s.d.stop() == 0


def test_share_usage_errors():
    s = Setup()
    for args, msg in ((("--read-only", "--read-write"), "exclude"),
                      (("--user", "bob", "--claim"), "exclude"),
                      (("--expires", "2x"), "bad expiry"),
                      (("--expires", "2y"), "maximum"),
                      (("--max-viewers", "0"), "max-viewers"),
                      (("--user", "nosuch"), "no user"),
                      (("--user", "alice"), "owns"),
                      (("--label", "x" * 65), "label"),
                      (("--no-auth", "--claim"), "link shares"),
                      (("--user", "bob", "--password"), "link and claim")):
        r = s.share(*args, check=False)
        assert r.returncode in (1, 2) and msg in r.stderr, (args, r.stderr)
    r = s.d.ssh("alice", s.alice, "revoke", "nosuchshare1")
    assert r.returncode == 1 and "no share" in r.stderr
    # A token login cannot run commands.
    sh = s.share()
    r = s.d.ssh(sh["token"], s.bob, "ls")
    assert r.returncode == 2 and "joins the session only" in r.stderr
    assert s.d.stop() == 0


def test_tandem_client_inside_session():
    s = Setup()
    bindir = os.path.dirname(harness.TANDEMD)
    out = s.d.work.join("out.json")
    # A login shell's profile may reset PATH (Debian's does for root):
    # the test names the build's client.
    s.owner_runs(f"PATH={bindir}:$PATH; tandem share --read-only -e 1h "
                 f"--max-viewers 3 --json > {out}; echo done-$?")
    s.owner.wait_for(r"(?m)^done-0$")
    sh = json.load(open(out))
    assert sh["session_id"] == s.sid and sh["permission"] == "read_only"
    v = s.viewer(sh["token"])
    v.wait_for("done-0")
    s.owner_runs(f"tandem viewers --json > {out}; echo v-$?")
    s.owner.wait_for(r"(?m)^v-0$")
    assert [x["user_name"] for x in json.load(open(out))] == ["bob"]
    s.owner_runs(f"tandem shares --json > {out}; echo s-$?")
    s.owner.wait_for(r"(?m)^s-0$")
    assert json.load(open(out))[0]["viewer_count"] == 1
    # The client acts on its own session only.
    s.owner_runs(f"tandem shares {s.sid} > {out} 2>&1; echo x-$?")
    s.owner.wait_for(r"(?m)^x-2$")
    s.owner_runs(f"tandem revoke {sh['share_id']}; echo r-$?")
    s.owner.wait_for(r"(?m)^r-0$")
    v.wait_for(r"\[tandem: this share was revoked")
    s.owner_runs("tandem handoff bob; echo h-$?")
    wait_until(lambda: [x["id"] for x in s.d.sessions("bob", s.bob)] ==
               [s.sid], what="handoff")
    assert s.d.stop() == 0


if __name__ == "__main__":
    harness.main(globals(), "test_share")
