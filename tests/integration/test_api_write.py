"""The HTTP API's changes (doc/api.md): creating, reading, extending,
relabelling and revoking shares, joining by token (claims included),
disconnecting and terminating sessions, the sign-in cookie with its CSRF
rule, and malformed, oversized and hostile bodies."""

import http.client
import json
import time

import harness
from harness import wait_until
from test_api import api, raw, token_for
from test_share import Setup
from test_signin import cookies, login, new_password

SHARE_KEYS = {"share_id", "session_id", "kind", "permission", "state",
              "created_at", "created_by", "expires_at", "target_user",
              "max_viewers", "require_auth", "password", "label",
              "viewer_count", "viewers", "revoked_at", "revoked_by",
              "token", "share_url", "websocket_url"}


def post(d, path, token, doc, method="POST", headers=None):
    body = doc if isinstance(doc, (bytes, str)) else json.dumps(doc)
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    return api(d, path, token, method=method, body=body, headers=h)


def test_create_shares():
    s = Setup()
    d = s.d
    ta = token_for(d, "alice", s.alice)["token"]
    base = f"/api/sessions/{s.sid}/shares"

    st, link = post(d, base, ta, {
        "link_share": True, "permission": "read_write", "expires_in": "1h",
        "max_viewers": 10, "require_auth": False, "label": "demo"})
    assert st == 201 and set(link) == SHARE_KEYS, link
    assert link["kind"] == "link" and link["permission"] == "read_write"
    assert link["state"] == "active" and link["created_by"] == "alice"
    assert link["session_id"] == s.sid and link["max_viewers"] == 10
    assert link["label"] == "demo" and link["require_auth"] is False
    assert len(link["token"]) == 40
    http = f"http://127.0.0.1:{d.http_port}"
    assert link["share_url"] == f"{http}/s/{link['token']}"
    assert link["websocket_url"] == \
        f"ws://127.0.0.1:{d.http_port}/ws/s/{link['token']}"
    left = harness.iso_to_epoch(link["expires_at"]) - time.time()
    assert 3500 < left <= 3600, left
    # The token opens the session over ssh, and is shown only once.
    v = s.viewer(link["token"], key=s.carol)
    s.owner_runs("echo via-api-$((6*7))")
    v.wait_for("via-api-42")
    st, again = api(d, f"{base}/{link['share_id']}", ta)
    assert st == 200 and again["token"] is None
    assert again["share_url"] is None and again["viewer_count"] == 1

    st, user = post(d, base, ta, {"username": "bob"})
    assert st == 201 and user["kind"] == "user" and user["token"] is None
    assert user["target_user"] == "bob"
    assert user["permission"] == "read_only"
    assert user["share_url"] == f"{http}/session/{s.sid}"
    tb = token_for(d, "bob", s.bob)["token"]
    shared = api(d, "/api/sessions/shared", tb)[1]
    assert [x["share_id"] for x in shared] == [user["share_id"]]
    assert harness.iso_to_epoch(shared[0]["expires_at"]) > time.time()

    st, claim = post(d, base, ta, {"claim": True, "expires_in": 600})
    assert st == 201 and claim["kind"] == "claim"
    assert claim["share_url"] == f"{http}/claim/{claim['token']}"
    assert claim["websocket_url"] is None

    actions = [(a["action"], a["address"]) for a in s.audit()
               if a["action"] == "share.create"]
    assert len(actions) == 3 and all(a[1] == "127.0.0.1" for a in actions)
    for t in (link["token"], claim["token"]):
        assert t not in d.log()
    assert d.stop() == 0


def test_share_errors():
    s = Setup()
    d = s.d
    ta = token_for(d, "alice", s.alice)["token"]
    tb = token_for(d, "bob", s.bob)["token"]
    tc = token_for(d, "carol", s.carol)["token"]
    base = f"/api/sessions/{s.sid}/shares"
    bad = [
        (b"{", "bad_json"), (b"[1]", "bad_json"), (b"\"x\"", "bad_json"),
        (b"{\"link_share\": true} x", "bad_json"),
        (b"{\"link_share\": true, \"link_share\": true}", "bad_json"),
        (b"[" * 5000 + b"]" * 5000, "bad_json"),
        (b"\xff\xfe{}", "bad_json"),
        ({}, "bad_request"),
        ({"link_share": True, "claim": True}, "bad_request"),
        ({"link_share": True, "username": "bob"}, "bad_request"),
        ({"link_share": "yes"}, "bad_request"),
        ({"link_share": True, "permission": "admin"}, "bad_request"),
        ({"link_share": True, "permission": 1}, "bad_request"),
        ({"link_share": True, "max_viewers": "10"}, "bad_request"),
        ({"link_share": True, "max_viewers": 0}, "bad_request"),
        ({"link_share": True, "max_viewers": 10 ** 6}, "bad_request"),
        ({"link_share": True, "max_viewers": 10 ** 30}, "bad_json"),
        ({"link_share": True, "expires_in": "forever"}, "bad_request"),
        ({"link_share": True, "expires_in": -5}, "bad_request"),
        ({"link_share": True, "expires_in": "10y"}, "bad_request"),
        ({"link_share": True, "label": "a\u0007b"}, "bad_request"),
        ({"link_share": True, "label": "x" * 65}, "bad_request"),
        ({"link_share": True, "label": None}, "bad_request"),
        ({"link_share": True, "nope": 1}, "bad_request"),
        ({"claim": True, "require_auth": False}, "bad_request"),
        ({"username": "../../etc"}, "not_found"),
        ({"username": "nobody"}, "not_found"),
        ({"username": "alice"}, "bad_request"),
    ]
    for doc, error in bad:
        st, got = post(d, base, ta, doc)
        want = 404 if error == "not_found" else 400
        assert st == want and got["error"] == error, (doc, st, got)
    # Bodies past the limit: 413, or the connection closes past 64 KiB.
    st, got = post(d, base, ta, b"{\"label\": \"" + b"x" * 20000 + b"\"}")
    assert st == 413 and got["error"] == "too_large", got
    try:
        st = raw(d, base, ta, method="POST", body=b"x" * 200000)[0]
    except (ConnectionError, http.client.HTTPException):
        st = 413
    assert st == 413 and d.alive()
    # Whose session: unknown 404, a stranger 404, a user it is shared
    # with 403; no share was made by any of these.
    unknown = "00000000-0000-4000-8000-000000000000"
    assert post(d, f"/api/sessions/{unknown}/shares", ta,
                {"link_share": True})[0] == 404
    assert post(d, base, tc, {"link_share": True})[0] == 404
    post(d, base, ta, {"username": "bob"})
    st, got = post(d, base, tb, {"link_share": True})
    assert st == 403 and got["error"] == "forbidden", got
    assert len(api(d, base, ta)[1]) == 1
    # Methods: the allowed ones are listed.
    st, headers, _ = raw(d, base, ta, method="PUT", body=b"{}")
    assert st == 405 and headers["Allow"] == "GET, POST"
    st, headers, _ = raw(d, f"/api/sessions/{s.sid}/terminate", ta)
    assert st == 405 and headers["Allow"] == "POST"
    assert d.stop() == 0


def test_revoke_and_change():
    s = Setup()
    d = s.d
    ta = token_for(d, "alice", s.alice)["token"]
    tc = token_for(d, "carol", s.carol)["token"]
    base = f"/api/sessions/{s.sid}/shares"
    link = post(d, base, ta, {"link_share": True})[1]
    one = f"{base}/{link['share_id']}"

    st, got = post(d, one, ta, {"expires_in": "4h", "label": "renamed"},
                   method="PATCH")
    assert st == 200 and got["label"] == "renamed", got
    left = harness.iso_to_epoch(got["expires_at"]) - time.time()
    assert 4 * 3600 - 100 < left <= 4 * 3600, left
    for doc in ({}, {"expires_in": "soon"}, {"label": 5},
                {"permission": "read_write"}):
        st, err = post(d, one, ta, doc, method="PATCH")
        assert st == 400 and err["error"] in ("bad_request", "bad_json")
    assert post(d, one, tc, {"label": "x"}, method="PATCH")[0] == 404
    other = f"{base}/aaaaaaaaaaaa"
    assert post(d, other, ta, {"label": "x"}, method="PATCH")[0] == 404
    # lws folds "..": what is left names no file.
    assert raw(d, f"{base}/..%2f..%2f..%2f..%2fetc", ta)[0] == 404

    v = s.viewer(link["token"], key=s.carol)
    wait_until(lambda: api(d, one, ta)[1]["viewer_count"] == 1,
               what="viewer")
    assert api(d, one, tc, method="DELETE")[0] == 404
    st, got = api(d, one, ta, method="DELETE")
    assert st == 200 and got["state"] == "revoked", got
    assert got["revoked_by"] == "alice" and got["viewers_disconnected"] == 1
    assert harness.iso_to_epoch(got["revoked_at"]) > time.time() - 60
    v.wait_for("this share was revoked")
    st, err = api(d, one, ta, method="DELETE")
    assert st == 409 and err["error"] == "conflict", err
    # DELETE takes no body (or {}).
    st, err = post(d, one, ta, b"not json", method="DELETE")
    assert st == 400 and err["error"] == "bad_json", err
    st, err = post(d, one, ta, {"label": "x"}, method="PATCH")
    assert st == 409
    actions = [a["action"] for a in s.audit()]
    for a in ("share.extend", "share.relabel", "share.revoke"):
        assert a in actions, actions
    assert d.stop() == 0


def test_join_by_token():
    s = Setup()
    d = s.d
    ta = token_for(d, "alice", s.alice)["token"]
    tb = token_for(d, "bob", s.bob)["token"]
    tc = token_for(d, "carol", s.carol)["token"]
    base = f"/api/sessions/{s.sid}/shares"
    link = post(d, base, ta, {"link_share": True,
                              "permission": "read_write"})[1]
    join = "/api/sessions/shares/join"
    st, got = post(d, join, tb, {"token": link["token"]})
    assert st == 200 and got["share_id"] == link["share_id"], got
    assert got["owner"] == "alice" and got["permission"] == "read_write"
    assert got["share_url"].endswith(f"/s/{link['token']}")
    assert "token" not in got

    claim = post(d, base, ta, {"claim": True})[1]
    st, got = post(d, join, tb, {"token": claim["token"]})
    assert st == 200 and got["kind"] == "user", got
    assert got["share_url"].endswith(f"/session/{s.sid}")
    shared = api(d, "/api/sessions/shared", tb)[1]
    assert claim["share_id"] in [x["share_id"] for x in shared]
    st, err = post(d, join, tc, {"token": claim["token"]})
    assert st == 404, (st, err)        # the token is gone once claimed

    for doc in ({}, {"token": 5}, {"token": "a b"}, b"nope"):
        st, err = post(d, join, tb, doc)
        assert st in (400, 404), (doc, st)
    d.command("alice", s.alice, "revoke", link["share_id"])
    st, err = post(d, join, tb, {"token": link["token"]})
    assert st == 403 and "revoked" in err["detail"], err
    # Unknown tokens count against the address.
    for _ in range(10):
        post(d, join, tb, {"token": "Z" * 40})
    st, err = post(d, join, tb, {"token": link["token"]})
    assert st == 429 and err["error"] == "too_many_requests"
    assert d.stop() == 0


def test_disconnect_and_terminate():
    s = Setup()
    d = s.d
    ta = token_for(d, "alice", s.alice)["token"]
    tb = token_for(d, "bob", s.bob)["token"]
    one = f"/api/sessions/{s.sid}"
    assert post(d, f"{one}/disconnect", tb, {})[0] == 404
    st, got = post(d, f"{one}/disconnect", ta, b"")
    assert st == 200 and got["clients_disconnected"] == 1, got
    assert got["status"] == "disconnected"
    s.owner.wait_for(r"disconnected by alice")
    st, got = post(d, f"{one}/disconnect", ta, {})
    assert st == 200 and got["clients_disconnected"] == 0
    assert post(d, f"{one}/disconnect", ta, {"x": 1})[0] == 400

    st, got = post(d, f"{one}/terminate", ta, {})
    assert st == 202 and got["id"] == s.sid, got
    wait_until(lambda: api(d, one, ta)[1]["status"] == "terminated",
               what="terminated")
    assert api(d, one, ta)[1]["ended_at"] is not None
    st, err = post(d, f"{one}/terminate", ta, {})
    assert st == 409 and err["error"] == "conflict"
    st, err = post(d, f"{one}/shares", ta, {"link_share": True})
    assert st == 409, err
    assert d.stop() == 0


def test_cookie_and_csrf():
    s = Setup()
    d = s.d
    pw = new_password(s, "alice", s.alice)
    st, headers, _ = login(d, "alice", pw)
    c = cookies(headers)
    sess, csrf = c["tandem_session"][0], c["tandem_csrf"][0]
    jar = {"Cookie": f"tandem_session={sess}; tandem_csrf={csrf}"}
    st, me = api(d, "/api/me", headers=jar)
    assert st == 200 and me["name"] == "alice" and me["admin"] is False
    base = f"/api/sessions/{s.sid}/shares"
    # A change by cookie needs the CSRF header, and no foreign Origin.
    st, err = post(d, base, None, {"link_share": True}, headers=jar)
    assert st == 403 and err["error"] == "csrf", err
    wrong = dict(jar, **{"X-Tandem-CSRF": "0" * 40})
    assert post(d, base, None, {"link_share": True}, headers=wrong)[0] == 403
    good = dict(jar, **{"X-Tandem-CSRF": csrf})
    evil = dict(good, Origin="http://evil.example")
    assert post(d, base, None, {"link_share": True}, headers=evil)[0] == 403
    assert api(d, base, headers=jar)[1] == []
    st, got = post(d, base, None, {"link_share": True}, headers=good)
    assert st == 201, got
    same = dict(good, Origin=f"http://127.0.0.1:{d.http_port}")
    assert api(d, f"{base}/{got['share_id']}", method="DELETE",
               headers=same)[0] == 200
    # A stale cookie is a 401, and is not counted as a guess.
    for _ in range(12):
        st, err = api(d, "/api/me", headers={
            "Cookie": "tandem_session=" + "A" * 40})
        assert st == 401
    assert api(d, "/api/me", headers=jar)[0] == 200
    assert d.stop() == 0


if __name__ == "__main__":
    harness.main(globals(), "test_api_write")
