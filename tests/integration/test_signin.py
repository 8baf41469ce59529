"""Browser sign-in (doc/web.md): passwd --generate, POST /login, the
rate limit, one-time weblogin links, session cookies on the WebSocket of
a share that needs a signed-in user, logout with CSRF, and hostile
bodies and redirects."""

import http.client
import json
import os
import re
import sqlite3
import sys

try:
    import websocket
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import websocket
    except ImportError:
        print("test_signin: python3-websocket is not installed; skipped")
        sys.exit(77)

import harness
from harness import wait_until
from test_share import Setup
from test_web import Viewer


def req(d, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", d.http_port, timeout=20)
    try:
        c.request(method, path, body=body, headers=dict(headers or {}))
        r = c.getresponse()
        return r.status, r.headers, r.read()
    finally:
        c.close()


def login(d, user, pw, next=None, form=False):
    if form:
        from urllib.parse import urlencode
        f = {"user": user, "password": pw}
        if next is not None:
            f["next"] = next
        return req(d, "POST", "/login", urlencode(f),
                   {"Content-Type": "application/x-www-form-urlencoded"})
    doc = {"user": user, "password": pw}
    if next is not None:
        doc["next"] = next
    return req(d, "POST", "/login", json.dumps(doc),
               {"Content-Type": "application/json"})


def cookies(headers):
    out = {}
    for v in headers.get_all("Set-Cookie") or []:
        name, _, rest = v.partition("=")
        out[name] = (rest.split(";")[0], v)
    return out


def new_password(s, user="bob", key=None):
    r = s.d.command(user, key or s.bob, "passwd", "--generate")
    m = re.search(r"your web password: (\S+)", r.stdout)
    assert m and len(m.group(1)) == 16, r.stdout
    return m.group(1)


def ws_with(d, token, cookie=None, kind="s"):
    kw = {}
    if cookie is not None:
        kw["cookie"] = f"tandem_session={cookie}"
    v = Viewer.__new__(Viewer)
    v.ws = websocket.create_connection(
        f"ws://127.0.0.1:{d.http_port}/ws/{kind}/{token}",
        subprotocols=["tandem.v1"], timeout=10, **kw)
    v.texts, v.screen, v.close = [], "", None
    return v


def refused(v):
    while v.close is None:
        v.pump()
    return v.close


def test_password_login_and_share():
    s = Setup()
    d = s.d
    pw = new_password(s)
    # Wrong, then right (JSON), then right (form) with a next page.
    st, _, body = login(d, "bob", pw + "x")
    assert st == 401 and json.loads(body)["error"] == "unauthorized"
    assert login(d, "nobody", pw)[0] == 401
    st, h, body = login(d, "bob", pw)
    assert st == 303 and h["Location"] == "/", (st, body)
    c = cookies(h)
    sess, raw = c["tandem_session"]
    assert "HttpOnly" in raw and "SameSite=Strict" in raw
    assert "Path=/" in raw and "Secure" not in raw
    csrf, raw2 = c["tandem_csrf"]
    assert "HttpOnly" not in raw2 and len(csrf) == 40
    sh = s.share("--read-only", "--label", "signed")
    st, h, _ = login(d, "bob", pw, next=f"/s/{sh['token']}", form=True)
    assert st == 303 and h["Location"] == f"/s/{sh['token']}"
    assert pw not in d.log() and sess not in d.log()

    # A require_auth share: no cookie, refused; with it, bob joins.
    v = ws_with(d, sh["token"])
    assert refused(v)[1] == "this share needs a signed-in user"
    v = ws_with(d, sh["token"], sess)
    st = v.wait_message("status")
    assert st["user"] == "bob" and st["permission"] == "read_only"
    out = d.command("alice", s.alice, "viewers", s.sid).stdout
    assert re.search(r"(?m)^bob\s+read_only\s+\S+\s+websocket", out), out
    js = json.loads(d.command("alice", s.alice, "viewers", s.sid,
                              "--json").stdout)
    assert any(x["user_name"] == "bob" for x in js), js
    v.ws.close()

    # Logout: CSRF header and same origin required.
    cookie = f"tandem_session={sess}; tandem_csrf={csrf}"
    origin = f"http://127.0.0.1:{d.http_port}"
    assert req(d, "POST", "/logout", b"", {"Cookie": cookie,
               "Origin": origin})[0] == 403
    assert req(d, "POST", "/logout", b"", {"Cookie": cookie,
               "Origin": origin, "X-Tandem-CSRF": "0" * 40})[0] == 403
    assert req(d, "POST", "/logout", b"", {"Cookie": cookie,
               "Origin": "http://evil", "X-Tandem-CSRF": csrf})[0] == 403
    assert req(d, "POST", "/logout", b"", {"Cookie": cookie,
               "X-Tandem-CSRF": csrf})[0] == 403
    st, h, _ = req(d, "POST", "/logout", b"", {"Cookie": cookie,
                   "Origin": origin, "X-Tandem-CSRF": csrf})
    assert st == 200 and cookies(h)["tandem_session"][0] == ""
    v = ws_with(d, sh["token"], sess)
    assert refused(v)[1] == "this share needs a signed-in user"

    # An expired session cookie is refused.
    st, h, _ = login(d, "bob", pw)
    sess2 = cookies(h)["tandem_session"][0]
    v = ws_with(d, sh["token"], sess2)
    assert v.wait_message("status")["user"] == "bob"
    v.ws.close()
    db = sqlite3.connect(os.path.join(d.data_dir, "tandem.db"))
    with db:
        db.execute("UPDATE web_sessions SET expires_at = 1")
    audit = [r[0] for r in db.execute("SELECT action FROM audit")]
    db.close()
    assert "web.signin" in audit and "web.signin_refused" in audit
    v = ws_with(d, sh["token"], sess2)
    assert refused(v)[1] == "this share needs a signed-in user"
    assert d.stop() == 0


def test_weblogin_link():
    s = Setup()
    d = s.d
    r = d.command("bob", s.bob, "weblogin")
    m = re.search(r"(http://\S+)/login/(\S+)", r.stdout)
    assert m, r.stdout
    code = m.group(2)
    st, h, _ = req(d, "GET", f"/login/{code}")
    assert st == 303 and h["Location"] == "/"
    sess = cookies(h)["tandem_session"][0]
    assert len(sess) == 40
    st, _, body = req(d, "GET", f"/login/{code}")
    assert 400 <= st < 500 and b"already used or expired" in body
    sh = s.share("--read-only")
    v = ws_with(d, sh["token"], sess)
    assert v.wait_message("status")["user"] == "bob"
    v.ws.close()
    # GET /login and / serve the sign-in page, with no inline script.
    st, h, body = req(d, "GET", "/login")
    assert st == 200 and b"/assets/signin.js" in body
    assert b"<script>" not in body
    assert req(d, "GET", "/assets/signin.js")[0] == 200
    assert d.stop() == 0


def test_hostile_and_rate_limit():
    s = Setup()
    d = s.d
    pw = new_password(s)
    # Bodies: too big, malformed, wrong type, open redirects.
    st, _, _ = req(d, "POST", "/login", b"user=" + b"a" * 10240,
                   {"Content-Type": "application/x-www-form-urlencoded"})
    assert st == 413
    for body, ctype in ((b"{", "application/json"),
                        (b"[1]", "application/json"),
                        (b'{"user":1,"password":"x"}', "application/json"),
                        (b'{"user":"bob","user":"bob"}', "application/json"),
                        (b"user=%zz&password=x",
                         "application/x-www-form-urlencoded"),
                        (b"user=bob&user=bob&password=x",
                         "application/x-www-form-urlencoded"),
                        (b"garbage", "application/x-www-form-urlencoded"),
                        (b"user=bob", "application/x-www-form-urlencoded")):
        st, _, out = req(d, "POST", "/login", body, {"Content-Type": ctype})
        assert st == 400, (body, st, out)
    assert req(d, "POST", "/login", b"x", {"Content-Type":
               "text/plain"})[0] == 415
    for nxt in ("http://evil/", "//evil/", "/\\evil", "https:x",
                "/a b"):
        st, _, out = login(d, "bob", pw, next=nxt)
        assert st == 400 and b"next must be a path" in out, (nxt, st)
    assert req(d, "POST", "/healthz", b"x=1")[0] == 405
    # Ten failures, then 429 even for the right password.
    for i in range(10):
        assert login(d, "bob", "wrong")[0] == 401
    st, _, body = login(d, "bob", pw)
    assert st == 429 and json.loads(body)["error"] == "rate_limited"
    assert d.alive()
    assert d.stop() == 0


def test_passwd_prompt():
    s = Setup()
    d = s.d
    pw = "correct horse \u00e9t\u00e9"
    # Piped: two lines; the prompts go to stderr.
    r = d.ssh("bob", s.bob, "passwd", input=f"{pw}\n{pw}\n")
    assert r.returncode == 0 and "password set" in r.stdout, r
    assert "New password: " in r.stderr and "Retype" in r.stderr
    assert login(d, "bob", pw)[0] == 303
    for text, why in ((f"{pw}\n{pw}x\n", "differ"),
                      ("short\nshort\n", "8 to 256"),
                      ("x" * 300 + "\n", "at most 256"),
                      ("", "no password given"),
                      ("only-one-line\n", "no password given"),
                      ("abc\x03", "cancelled")):
        r = d.ssh("bob", s.bob, "passwd", input=text)
        assert r.returncode == 1 and why in r.stderr, (text[:20], r)
    assert login(d, "bob", pw)[0] == 303      # unchanged
    # On a terminal: no echo, erase works, the line ends with Enter.
    from harness import Tmux
    t = Tmux(d.work, " ".join(d.ssh_argv("bob", s.bob, "passwd",
                                         tty=True)), name="passwd")
    t.wait_for("New password:")
    t.type("second-passwordX")
    t.send("BSpace")
    t.send("Enter")
    t.wait_for("Retype new password:")
    t.type("second-password")
    t.send("Enter")
    t.wait_for("password set")
    assert "second-password" not in t.screen()
    assert login(d, "bob", "second-password")[0] == 303
    assert login(d, "bob", pw)[0] == 401
    assert "second-password" not in d.log()
    # The tandem client inside a session cannot prompt.
    from test_client import ask, request
    env_file = d.work.join("tandem-env")
    s.owner_runs(f'printf %s "$TANDEM" > {env_file}.tmp && '
                 f'mv {env_file}.tmp {env_file}')
    wait_until(lambda: os.path.exists(env_file), what="$TANDEM")
    with open(env_file) as f:
        path, sid, secret = f.read().rsplit(",", 2)
    answer = ask(path, request(sid, secret, ["passwd"]))
    assert answer["status"] == 2 and "ssh -t" in answer["stderr"], answer
    assert d.stop() == 0


def signed_in(s, user, key):
    """A session cookie for user, by a one-time weblogin link."""
    r = s.d.command(user, key, "weblogin")
    code = re.search(r"/login/(\S+)", r.stdout).group(1)
    st, h, _ = req(s.d, "GET", f"/login/{code}")
    assert st == 303
    return cookies(h)["tandem_session"][0]


def test_session_page():
    s = Setup()
    d = s.d
    alice = signed_in(s, "alice", s.alice)
    bob = signed_in(s, "bob", s.bob)
    carol = signed_in(s, "carol", s.carol)
    page = f"/session/{s.sid}"
    # The page wants a signed-in browser; the id must be a UUID.
    st, h, _ = req(d, "GET", page)
    assert st == 303 and h["Location"] == f"/login?next={page}", h
    st, _, body = req(d, "GET", page,
                      headers={"Cookie": f"tandem_session={bob}"})
    assert st == 200 and b"/assets/viewer.js" in body
    assert req(d, "GET", "/session/nope")[0] == 404
    # The owner opens their own session, read-write.
    s.owner_runs("echo page-$((6*7))")
    v = ws_with(d, s.sid, alice, kind="session")
    st = v.wait_message("status")
    assert st["role"] == "owner" and st["permission"] == "read_write"
    assert st["share_id"] is None
    v.wait_text("page-42")
    v.ws.send_binary(b"echo typed-in-browser\r")
    s.owner.wait_for(r"(?m)^typed-in-browser")
    v.ws.close()
    # Carol: not shared with her; no cookie: sign in; bob with a share.
    assert refused(ws_with(d, s.sid, carol, kind="session"))[1] == \
        "this session is not shared with you"
    assert refused(ws_with(d, s.sid, None, kind="session"))[1] == \
        "sign in to open a session"
    assert refused(ws_with(d, "x" * 36, bob, kind="session"))[1] == \
        "the session has ended"
    sh = s.share("--user", "bob", "--read-only")
    v = ws_with(d, s.sid, bob, kind="session")
    st = v.wait_message("status")
    assert st["role"] == "viewer" and st["share_id"] == sh["share_id"]
    assert st["permission"] == "read_only" and st["owner"] == "alice"
    v.wait_text("page-42")
    # Revoking the user share closes the browser viewer at once.
    d.command("alice", s.alice, "revoke", sh["share_id"])
    assert v.wait_closed()[1] == "this share was revoked"
    assert refused(ws_with(d, s.sid, bob, kind="session"))[1] == \
        "this session is not shared with you"
    # An admin watches, read-only, audited.
    root = harness.Key(d.work, "root")
    assert d.offline("user", "add", "root", "--key", root.pub,
                     "--admin").returncode == 0
    admin = signed_in(s, "root", root)
    v = ws_with(d, s.sid, admin, kind="session")
    st = v.wait_message("status")
    assert st["role"] == "admin" and st["permission"] == "read_only"
    v.ws.close()
    actions = [a["action"] for a in s.audit()]
    assert "admin.attach" in actions
    assert d.stop() == 0


def test_claim_link():
    s = Setup()
    d = s.d
    r = s.share("--claim")
    url = r["share_url"]
    assert url == f"http://127.0.0.1:{d.http_port}/claim/{r['token']}", r
    out = d.command("alice", s.alice, "share", s.sid, "--claim").stdout
    assert re.search(r"(?m)^browser: http://\S+/claim/\S+$", out), out
    path = url[url.index("/claim/"):]
    # Signed out: sign in first, then back here.
    st, h, _ = req(d, "GET", path)
    assert st == 303 and h["Location"] == f"/login?next={path}"
    bob = signed_in(s, "bob", s.bob)
    st, h, _ = req(d, "GET", path,
                   headers={"Cookie": f"tandem_session={bob}"})
    assert st == 303 and h["Location"] == f"/session/{s.sid}", (st, h)
    shared = json.loads(d.command("alice", s.alice, "shares", s.sid,
                                  "--json").stdout)
    mine = [x for x in shared if x["share_id"] == r["share_id"]][0]
    assert mine["kind"] == "user" and mine["target_user"] == "bob"
    v = ws_with(d, s.sid, bob, kind="session")
    assert v.wait_message("status")["share_id"] == r["share_id"]
    v.ws.close()
    # Used once: carol is told to ask for a fresh one.
    carol = signed_in(s, "carol", s.carol)
    st, _, body = req(d, "GET", path,
                      headers={"Cookie": f"tandem_session={carol}"})
    assert st == 410 and b"ask the owner for a fresh one" in body
    assert "share.claim" in [a["action"] for a in s.audit()]
    assert r["token"] not in d.log()
    # Unknown codes count against the address (carol's used link, once
    # claimed, is unknown too).
    for i in range(9):
        st = req(d, "GET", "/claim/" + "Q" * 40, headers={
            "Cookie": f"tandem_session={carol}"})[0]
        assert st == 410, (i, st)
    assert req(d, "GET", "/claim/" + "Q" * 40, headers={
        "Cookie": f"tandem_session={carol}"})[0] == 429
    assert d.stop() == 0


if __name__ == "__main__":
    harness.main(globals(), "test_signin")
