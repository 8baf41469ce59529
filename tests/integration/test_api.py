"""The read-only HTTP API: bearer tokens made with "api-token", 401s,
each endpoint's shape, who may see what, strict query strings and
hostile requests (doc/api.md)."""

import http.client
import json

import harness
from harness import Key, wait_until
from test_share import Setup

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
SESSION_KEYS = {"id", "user_id", "user_name", "name", "status", "started_at",
                "ended_at", "client_address", "auth_method", "cols", "rows",
                "viewer_count"}


def raw(d, path, token=None, method="GET", headers=None, body=None):
    """(status, headers, body bytes) of one request; the path is sent
    as given."""
    c = http.client.HTTPConnection("127.0.0.1", d.http_port, timeout=10)
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return r.status, r.headers, r.read()
    finally:
        c.close()


def api(d, path, token=None, **kw):
    """(status, parsed JSON) of one request, after checking the headers
    every answer carries."""
    status, headers, body = raw(d, path, token, **kw)
    assert headers["Content-Type"] == "application/json", headers
    for k, v in SECURITY_HEADERS.items():
        assert headers[k] == v, (k, headers[k])
    doc = json.loads(body)
    if status >= 400:
        assert set(doc) == {"error", "detail"}, doc
    return status, doc


def token_for(d, user, key, label="t"):
    r = d.command(user, key, "api-token", "create", "--label", label,
                  "--json")
    t = json.loads(r.stdout)
    assert len(t["token"]) == 40 and t["label"] == label, t
    return t


def test_tokens_and_unauthorized():
    s = Setup()
    d = s.d
    t = token_for(d, "alice", s.alice, "ci")
    # Plain output shows the token once too.
    r = d.command("alice", s.alice, "api-token", "create")
    assert "api token" in r.stdout and "not shown again" in r.stdout
    listed = json.loads(d.command("alice", s.alice, "api-token", "list",
                                  "--json").stdout)
    assert [x["id"] for x in listed][0] == t["id"] and len(listed) == 2
    assert all("token" not in x for x in listed)
    assert listed[0]["last_used_at"] is None
    assert t["token"] not in d.command("alice", s.alice, "api-token",
                                       "list").stdout
    # No header, a malformed one, a wrong token.
    st, doc = api(d, "/api/sessions")
    assert st == 401 and doc["error"] == "unauthorized", doc
    assert api(d, "/api/sessions", headers={
        "Authorization": "Basic YWxpY2U6eA=="})[0] == 401
    bad = t["token"][:-1] + ("A" if t["token"][-1] != "A" else "B")
    assert api(d, "/api/sessions", bad)[0] == 401
    assert api(d, "/api/nowhere", bad)[0] == 401
    # A good token works and is marked used.
    st, doc = api(d, "/api/sessions", t["token"])
    assert st == 200 and doc[0]["id"] == s.sid
    listed = json.loads(d.command("alice", s.alice, "api-token", "list",
                                  "--json").stdout)
    assert listed[0]["last_used_at"] is not None
    # Bob cannot revoke alice's token; alice can, and then it is refused.
    assert d.command("bob", s.bob, "api-token", "revoke", str(t["id"]),
                     check=False).returncode == 1
    assert d.command("alice", s.alice, "api-token", "revoke",
                     "x1", check=False).returncode == 2
    assert d.command("alice", s.alice, "api-token", "bogus",
                     check=False).returncode == 2
    d.command("alice", s.alice, "api-token", "revoke", str(t["id"]))
    st, doc = api(d, "/api/sessions", t["token"])
    assert st == 401 and doc["error"] == "unauthorized"
    audit = [a["action"] for a in s.audit()]
    assert "api_token.create" in audit and "api_token.revoke" in audit
    assert t["token"] not in d.log() and bad not in d.log()
    assert d.stop() == 0


def test_endpoints_and_visibility():
    s = Setup()
    d = s.d
    ta = token_for(d, "alice", s.alice)["token"]
    tb = token_for(d, "bob", s.bob)["token"]
    tc = token_for(d, "carol", s.carol)["token"]
    sh = s.share("--user", "bob", "--read-only", "--label", "for-bob")

    st, doc = api(d, "/api/sessions", ta)
    assert st == 200 and len(doc) == 1 and set(doc[0]) == SESSION_KEYS
    one = doc[0]
    assert one["status"] == "active" and one["ended_at"] is None
    assert one["user_name"] == "alice" and one["auth_method"] == "publickey"
    assert harness.iso_to_epoch(one["started_at"]) > 0
    assert api(d, "/api/sessions/active", ta)[1] == doc
    assert api(d, "/api/sessions/active", tb)[1] == []
    st, got = api(d, f"/api/sessions/{s.sid}", ta)
    assert st == 200 and got == one

    st, shared = api(d, "/api/sessions/shared", tb)
    assert st == 200 and len(shared) == 1
    assert shared[0]["id"] == s.sid and shared[0]["owner"] == "alice"
    assert shared[0]["permission"] == "read_only"
    assert api(d, "/api/sessions/shared", ta)[1] == []

    st, shares = api(d, f"/api/sessions/{s.sid}/shares", ta)
    assert st == 200 and len(shares) == 1
    x = shares[0]
    assert x["share_id"] == sh["share_id"] and x["kind"] == "user"
    assert x["permission"] == "read_only" and x["state"] == "active"
    assert x["label"] == "for-bob" and x["created_by"] == "alice"
    assert x["viewer_count"] == 0 and x["viewers"] == []
    for k in ("expires_at", "created_at"):
        assert harness.iso_to_epoch(x[k]) > 0
    # A link share with a viewer on it shows the viewer.
    link = s.share("--read-only")
    v = s.viewer(link["token"], key=s.carol, name="v")

    def link_share():
        shares = api(d, f"/api/sessions/{s.sid}/shares", ta)[1]
        return [x for x in shares if x["share_id"] == link["share_id"]][0]
    wait_until(lambda: link_share()["viewer_count"] == 1, what="viewer")
    lk = link_share()
    assert set(lk["viewers"][0]) >= {"user_id", "user_name", "address",
                                     "connected_at"}
    assert api(d, f"/api/sessions/{s.sid}", ta)[1]["viewer_count"] == 1
    v.kill()
    # Revoked shares appear with ?all=true only.
    d.command("alice", s.alice, "revoke", sh["share_id"])
    ids = [x["share_id"] for x in api(
        d, f"/api/sessions/{s.sid}/shares", ta)[1]]
    assert sh["share_id"] not in ids
    every = api(d, f"/api/sessions/{s.sid}/shares?all=true", ta)[1]
    assert [x["state"] for x in every
            if x["share_id"] == sh["share_id"]] == ["revoked"]

    # Other users: the session is not theirs.
    assert api(d, f"/api/sessions/{s.sid}", tb)[0] == 404
    assert api(d, f"/api/sessions/{s.sid}", tc)[0] == 404
    assert api(d, f"/api/sessions/{s.sid}/shares", tc)[0] == 404
    s.share("--user", "bob")
    st, doc = api(d, f"/api/sessions/{s.sid}/shares", tb)
    assert st == 403 and doc["error"] == "forbidden"
    unknown = "00000000-0000-4000-8000-000000000000"
    assert api(d, f"/api/sessions/{unknown}", ta)[0] == 404
    assert api(d, f"/api/sessions/{unknown}/shares", ta)[0] == 404

    # Audit: the owner's view, filtered; bob sees none of alice's.
    st, audit = api(d, f"/api/audit?session={s.sid}&since=1h", ta)
    assert st == 200 and audit and all(
        a["session_id"] == s.sid for a in audit)
    assert "share.create" in [a["action"] for a in audit]
    assert api(d, "/api/audit?since=2000-01-01T00:00:00Z", ta)[0] == 200
    # Carol sees only what she did herself (her join as a viewer).
    theirs = api(d, f"/api/audit?session={s.sid}", tc)[1]
    assert theirs and all(a["actor"] == "carol" for a in theirs), theirs
    assert api(d, f"/api/audit?session={s.sid}", tb)[1] == []

    # An admin sees everyone's.
    root = Key(d.work, "root")
    assert d.offline("user", "add", "root", "--key", root.pub,
                     "--admin").returncode == 0
    tr = token_for(d, "root", root)["token"]
    assert api(d, f"/api/sessions/{s.sid}", tr)[1]["id"] == s.sid
    assert api(d, f"/api/sessions/{s.sid}/shares", tr)[0] == 200
    assert api(d, f"/api/audit?session={s.sid}", tr)[1]
    assert api(d, "/api/sessions", tr)[1] == []     # its own only
    assert d.stop() == 0


def test_bad_requests():
    s = Setup()
    d = s.d
    ta = token_for(d, "alice", s.alice)["token"]
    for path in ("/api/sessions?x=1", "/api/sessions?all",
                 "/api/audit?session=nope", "/api/audit?since=yesterday",
                 "/api/audit?bogus=1", f"/api/audit?session={s.sid}"
                 f"&session={s.sid}",
                 f"/api/sessions/{s.sid}/shares?all=maybe"):
        st, doc = api(d, path, ta)
        assert st == 400 and doc["error"] == "bad_request", (path, doc)
    for path in ("/api", "/api/", "/api/nothing", "/api/sessions/abc",
                 f"/api/sessions/{s.sid}/nope", f"/api/sessions/{s.sid}/",
                 "/api/sessions/shared/x"):
        st, doc = api(d, path, ta)
        assert st == 404 and doc["error"] == "not_found", (path, doc)
    for method in ("POST", "DELETE", "PUT"):
        st, headers, body = raw(d, "/api/sessions", ta, method=method,
                                body=b"{}")
        assert st == 405 and headers["Allow"] == "GET", (method, st)
        assert json.loads(body)["error"] == "method_not_allowed"
    # Hostile paths and a long URL: refused, and the daemon lives on.
    for path in ("/api/../etc/passwd", "/api/sessions/..%2f..%2fx",
                 "/api/sessions%00", "/api/sessions/%00",
                 "/api/sessions?session=%00",
                 "/api/sessions/" + "a" * 10240,
                 "/api/audit?since=" + "9" * 10240):
        try:
            st = raw(d, path, ta)[0]
        except (ConnectionError, http.client.HTTPException):
            st = None       # lws may drop a request it cannot parse
        assert st is None or 400 <= st < 500, (path[:40], st)
        assert d.alive()
    assert api(d, "/api/sessions", ta)[0] == 200
    assert raw(d, "/healthz")[0] == 200
    # Bad tokens count against the address, like share tokens.
    for _ in range(10):
        assert api(d, "/api/sessions", "x" * 40)[0] == 401
    st, doc = api(d, "/api/sessions", ta)
    assert st == 429 and doc["error"] == "too_many_requests"
    assert d.stop() == 0


if __name__ == "__main__":
    harness.main(globals(), "test_api")
