"""HTTP and the WebSocket viewer: /healthz, /metrics, security headers,
browser viewers of --no-auth shares (frames, input, resize, revoke) and
every refusal (bad token, signed-in shares, origin, bad messages)."""

import json
import os
import re
import sqlite3
import struct
import time
import urllib.error
import sys
import urllib.request

try:
    import websocket
except ImportError:
    # Debian's python3-websocket (contrib/deps.sh --test) is installed
    # for the system python; another python3 first on PATH lacks it.
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import websocket
    except ImportError:
        print("test_web: python3-websocket is not installed; skipped")
        sys.exit(77)

import harness
from harness import Daemon, wait_until
from test_share import Setup

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def http(d, path, method="GET", data=None):
    """(status, headers, body text) of one request."""
    req = urllib.request.Request(f"http://127.0.0.1:{d.http_port}{path}",
                                 method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def metrics(d):
    status, headers, body = http(d, "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return body


def metric(body, name):
    m = re.search(r"(?m)^" + re.escape(name) + r" (\d+)$", body)
    assert m, f"{name} not in metrics:\n{body}"
    return int(m.group(1))


def ws_open(d, token, **kw):
    return websocket.create_connection(
        f"ws://127.0.0.1:{d.http_port}/ws/s/{token}",
        subprotocols=["tandem.v1"], timeout=10, **kw)


class Viewer:
    """A WebSocket viewer: keeps the text messages and the decoded
    binary stream it has received."""

    def __init__(self, d, token):
        self.ws = ws_open(d, token)
        self.texts = []
        self.screen = ""
        self.close = None       # (code, reason) once closed

    def pump(self):
        op, data = self.ws.recv_data(control_frame=True)
        if op == websocket.ABNF.OPCODE_TEXT:
            self.texts.append(json.loads(data))
        elif op == websocket.ABNF.OPCODE_BINARY:
            self.screen += data.decode("utf-8", "replace")
        elif op == websocket.ABNF.OPCODE_CLOSE:
            code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 \
                else None
            self.close = (code, data[2:].decode())
        return op

    def wait_text(self, pattern, timeout=10):
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.screen):
            assert self.close is None, f"closed: {self.close}"
            assert time.monotonic() < deadline, \
                f"no /{pattern}/ in:\n{self.screen!r}"
            self.pump()

    def wait_message(self, type_, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            for t in self.texts:
                if t["type"] == type_:
                    self.texts.remove(t)
                    return t
            assert time.monotonic() < deadline, f"no {type_} message"
            assert self.close is None, f"closed: {self.close}"
            self.pump()

    def wait_closed(self, timeout=10):
        deadline = time.monotonic() + timeout
        while self.close is None:
            assert time.monotonic() < deadline, "not closed"
            self.pump()
        return self.close


def test_http_endpoints():
    d = Daemon().start()
    assert d.http_port
    status, headers, body = http(d, "/healthz")
    assert (status, body) == (200, "ok\n")
    assert headers["Content-Type"].startswith("text/plain")
    for path in ("/healthz", "/metrics", "/nope", "/ws/s/x"):
        status, headers, body = http(d, path)
        for k, v in SECURITY_HEADERS.items():
            assert headers[k] == v, (path, k, headers[k])
    status, _, body = http(d, "/nope")
    assert status == 404 and body
    status, headers, _ = http(d, "/healthz", method="POST", data=b"x=1")
    assert status == 405 and headers["Allow"] == "GET"
    assert headers["X-Frame-Options"] == "DENY"
    body = metrics(d)
    for name in ('tandem_sessions{state="active"}',
                 'tandem_sessions{state="disconnected"}',
                 'tandem_viewers{transport="ssh",permission="read_only"}',
                 'tandem_viewers{transport="websocket",'
                 'permission="read_write"}',
                 "tandem_connections_total", "tandem_logins_total",
                 "tandem_auth_failures_total",
                 "tandem_share_tokens_refused_total"):
        assert metric(body, name) == 0
    assert d.stop() == 0


def test_read_only_viewer_and_revoke():
    s = Setup()
    marker = s.d.work.join("pwned")
    s.owner_runs("echo before-$((40+2))")
    s.owner.wait_for("before-42")
    sh = s.share("--read-only", "--no-auth")
    v = Viewer(s.d, sh["token"])
    # The status message comes before any frame.
    assert v.pump() == websocket.ABNF.OPCODE_TEXT
    assert v.texts.pop(0) == {
        "type": "status", "owner": "alice", "permission": "read_only",
        "share_id": sh["share_id"], "cols": 80, "rows": 24,
        "role": "viewer"}
    v.wait_text("before-42")
    s.owner_runs("echo live-$((2+3))")
    v.wait_text("live-5")
    body = metrics(s.d)
    assert metric(body, 'tandem_sessions{state="active"}') == 1
    assert metric(body, 'tandem_viewers{transport="websocket",'
                        'permission="read_only"}') == 1
    viewers = json.loads(s.d.command("alice", s.alice, "viewers", s.sid,
                                     "--json").stdout)
    assert len(viewers) == 1
    # A read-only viewer's keys never reach the shell.
    v.ws.send_binary(f"touch {marker}\n".encode())
    v.ws.send(json.dumps({"type": "resize", "cols": 100, "rows": 30}))
    v.ws.send(json.dumps({"type": "ping"}))
    assert v.wait_message("pong") == {"type": "pong"}
    s.owner_runs("echo after-$((3+4))")
    v.wait_text("after-7")
    assert not os.path.exists(marker)
    assert "touch" not in s.owner.screen()
    # Revocation closes the socket with the reason.
    s.d.command("alice", s.alice, "revoke", sh["share_id"])
    closed = v.wait_message("closed")
    assert closed == {"type": "closed", "reason": "this share was revoked"}
    code, reason = v.wait_closed()
    assert code == 1000 and reason == "this share was revoked"
    actions = [(a["action"], a.get("detail", "")) for a in s.audit()]
    assert any(a == "viewer.join" and "transport=websocket" in det
               for a, det in actions), actions
    assert any(a == "viewer.leave" and "transport=websocket" in det
               for a, det in actions), actions
    wait_until(lambda: metric(metrics(s.d), 'tandem_viewers{transport='
                              '"websocket",permission="read_only"}') == 0,
               what="viewer gone from metrics")
    assert sh["token"] not in s.d.log()
    assert s.d.stop() == 0


def test_read_write_viewer_types():
    s = Setup()
    marker = s.d.work.join("typed")
    sh = s.share("--read-write", "--no-auth")
    v = Viewer(s.d, sh["token"])
    assert v.wait_message("status")["permission"] == "read_write"
    v.ws.send_binary(f"touch {marker}; echo typed-$((5+6))\n".encode())
    wait_until(lambda: os.path.exists(marker), what="viewer's command")
    v.wait_text("typed-11")
    s.owner.wait_for("typed-11")
    # A viewer still connected at shutdown does not stop a clean exit.
    assert s.d.stop() == 0
    try:
        v.wait_closed()
    except websocket.WebSocketConnectionClosedException:
        pass    # the socket went with the daemon


def test_refusals_and_bad_messages():
    s = Setup()
    sh = s.share("--read-only", "--no-auth")
    token = sh["token"]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (tampered, "x" * 40, "short"):
        v = Viewer(s.d, bad)
        assert v.wait_message("closed") == {
            "type": "closed", "reason": "unknown share token"}
        v.wait_closed()
    assert metric(metrics(s.d), "tandem_share_tokens_refused_total") == 3
    log = s.d.log()
    assert tampered not in log and "refused websocket join" in log
    # Unknown tokens name no session: only the database has them.
    db = sqlite3.connect(os.path.join(s.d.data_dir, "tandem.db"))
    rows = db.execute("SELECT detail, address FROM audit WHERE action = "
                      "'viewer.refused'").fetchall()
    db.close()
    assert len(rows) == 3 and all(
        "unknown share token" in d and "transport=websocket" in d and
        a == "127.0.0.1" and tampered[6:] not in d for d, a in rows), rows
    # A share for signed-in users is not for an anonymous browser.
    authed = s.share("--read-only")
    v = Viewer(s.d, authed["token"])
    assert v.wait_message("closed")["reason"] == \
        "this share needs a signed-in user"
    v.wait_closed()
    # Another site's page may not open a viewer.
    try:
        ws_open(s.d, token, origin="http://evil.example")
        raise AssertionError("foreign origin accepted")
    except websocket.WebSocketBadStatusException as e:
        assert e.status_code == 403
    v = Viewer(s.d, token)
    v.wait_message("status")
    v.ws.close()
    v = Viewer(s.d, token)
    v.ws.send('{"type": "resize", "cols": ')
    assert v.wait_closed()[0] == 1003
    for msg in ('{"type": 7}', '{"type": "fly"}', '[1]',
                '{"type": "resize", "cols": "80", "rows": 24}',
                '{"type": "resize", "cols": 5000, "rows": 24}'):
        v = Viewer(s.d, token)
        v.ws.send(msg)
        assert v.wait_closed()[0] == 1003, msg
    v = Viewer(s.d, token)
    v.ws.send("x" * 100000)
    assert v.wait_closed() == (1009, "message too big")
    v = Viewer(s.d, token)
    v.ws.send_binary(b"y" * 100000)
    assert v.wait_closed()[0] == 1009
    # Still serving.
    assert s.d.alive()
    assert s.d.command("alice", s.alice, "version").returncode == 0
    assert http(s.d, "/healthz")[0] == 200
    assert s.d.stop() == 0


def test_metrics_counters():
    s = Setup()
    d = s.d

    def m(name):
        return metric(metrics(d), name)
    ev = 'tandem_share_events_total{event="%s"}'
    assert m(ev % "create") == 0
    link = s.share("--read-only", "--no-auth")
    d.command("alice", s.alice, "extend", link["share_id"], "2h")
    d.command("alice", s.alice, "relabel", link["share_id"], "x")
    v = Viewer(d, link["token"])
    sv = s.viewer(link["token"], key=s.bob)
    s.owner_runs("echo counted-$((6*7))")
    v.wait_text("counted-42")
    sv.wait_for("counted-42")
    assert m('tandem_viewer_bytes_total{transport="websocket"}') > 100
    assert m('tandem_viewer_bytes_total{transport="ssh"}') > 100
    d.command("alice", s.alice, "revoke", link["share_id"])
    claim = s.share("--claim")
    from test_api import token_for
    from test_api_write import post
    tc = token_for(d, "carol", s.carol)["token"]
    r = post(d, "/api/sessions/shares/join", tc, {"token": claim["token"]})
    assert r[0] == 200, r
    s.share("--no-auth", "--expires", "1s")
    wait_until(lambda: m(ev % "expire") == 1, what="an expiry counted")
    for event, n in (("create", 3), ("extend", 1), ("relabel", 1),
                     ("revoke", 1), ("claim", 1)):
        assert m(ev % event) == n, (event, m(ev % event), r)
    assert d.stop() == 0


if __name__ == "__main__":
    harness.main(globals(), "test_web")
