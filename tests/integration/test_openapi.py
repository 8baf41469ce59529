"""doc/openapi.json against the running server: every documented
operation is routed and undocumented methods are refused with the
documented Allow list; real answers of every operation, and of the
common errors, match the documented schemas exactly (unknown fields
fail, as additionalProperties is false)."""

import json
import os
import re

import harness
from harness import wait_until
from test_api import api, raw, token_for
from test_api_write import post
from test_share import Setup

SRCDIR = os.environ.get("TANDEM_SRCDIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(SRCDIR, "doc", "openapi.json")
METHODS = ("get", "post", "patch", "delete", "put")


def load():
    with open(DOC) as f:
        return json.load(f)


def resolve(doc, schema):
    while "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/components/schemas/"), ref
        schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def check(doc, schema, value, where="$"):
    """Raise AssertionError where value does not fit schema."""
    schema = resolve(doc, schema)
    if value is None:
        assert schema.get("nullable"), f"{where}: null not allowed"
        return
    if "oneOf" in schema:
        fits = 0
        for s in schema["oneOf"]:
            try:
                check(doc, s, value, where)
                fits += 1
            except AssertionError:
                pass
        assert fits == 1, f"{where}: {value!r} fits {fits} of oneOf"
        return
    t = schema.get("type")
    kinds = {"string": str, "boolean": bool, "array": list, "object": dict}
    if t == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), \
            f"{where}: {value!r} is not an integer"
        if "minimum" in schema:
            assert value >= schema["minimum"], f"{where}: {value} < min"
        if "maximum" in schema:
            assert value <= schema["maximum"], f"{where}: {value} > max"
    elif t in kinds:
        assert isinstance(value, kinds[t]), \
            f"{where}: {value!r} is not {t}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in enum"
    if t == "string" and "pattern" in schema:
        assert re.search(schema["pattern"], value), f"{where}: {value!r}"
    if t == "string" and schema.get("format") == "date-time":
        harness.iso_to_epoch(value)
    if t == "array":
        for i, v in enumerate(value):
            check(doc, schema["items"], v, f"{where}[{i}]")
    if t == "object":
        props = schema.get("properties", {})
        for k in schema.get("required", []):
            assert k in value, f"{where}: {k} missing"
        if schema.get("additionalProperties") is False:
            extra = set(value) - set(props)
            assert not extra, f"{where}: undocumented {sorted(extra)}"
        for k, v in value.items():
            if k in props:
                check(doc, props[k], v, f"{where}.{k}")


def operation(doc, path, method):
    """The documented operation for a concrete path."""
    for tmpl, item in doc["paths"].items():
        rx = "^" + re.sub(r"\{[^}]+\}", "[^/]+", tmpl) + "$"
        if re.match(rx, path) and method.lower() in item:
            return item[method.lower()]
    raise AssertionError(f"{method} {path} is not documented")


def answer(doc, path, method, status, body):
    """Check one real answer against the document."""
    op = operation(doc, path.split("?")[0], method)
    assert str(status) in op["responses"], \
        f"{method} {path}: {status} not documented"
    schema = op["responses"][str(status)]["content"][
        "application/json"]["schema"]
    check(doc, schema, body, f"{method} {path} {status}")
    return body


def call(doc, d, token, method, path, doc_body=None):
    if method in ("POST", "PATCH") or doc_body is not None:
        st, body = post(d, path, token, doc_body if doc_body is not None
                        else {}, method=method)
    else:
        st, body = api(d, path, token, method=method)
    return st, answer(doc, path, method, st, body)


def test_document_is_sound():
    doc = load()
    assert doc["openapi"].startswith("3.0.")
    text = json.dumps(doc)
    for ref in re.findall(r'"\$ref": "([^"]+)"', text):
        resolve(doc, {"$ref": ref})
    for path, item in doc["paths"].items():
        assert path.startswith("/api/"), path
        for m in METHODS:
            if m in item:
                op = item[m]
                assert op["operationId"] and op["responses"], (path, m)
                for code, r in op["responses"].items():
                    assert "application/json" in r["content"], code


def concrete(path, sid, share):
    return path.replace("{id}", sid).replace("{share_id}", share)


def test_routes_and_methods():
    doc = load()
    s = Setup()
    d = s.d
    ta = token_for(d, "alice", s.alice)["token"]
    sh = s.share("--no-auth")
    for path, item in doc["paths"].items():
        p = concrete(path, s.sid, sh["share_id"])
        documented = [m.upper() for m in METHODS if m in item]
        for m in METHODS:
            st, headers, body = raw(d, p, ta, method=m.upper(),
                                    body=b"{}" if m != "get" else None)
            if m.upper() in documented:
                assert st != 405 and not (
                    st == 404 and b"no such resource" in body), (m, p, st)
            else:
                assert st == 405, (m, p, st)
                assert headers["Allow"] == ", ".join(documented), \
                    (p, headers["Allow"])
    assert d.stop() == 0


def test_answers_match_schemas():
    doc = load()
    s = Setup()
    d = s.d
    ta = token_for(d, "alice", s.alice)["token"]
    tb = token_for(d, "bob", s.bob)["token"]
    tc = token_for(d, "carol", s.carol)["token"]
    base = f"/api/sessions/{s.sid}"
    call(doc, d, ta, "GET", "/api/me")
    call(doc, d, ta, "GET", "/api/sessions")
    call(doc, d, ta, "GET", "/api/sessions/active")
    call(doc, d, ta, "GET", base)
    st, link = call(doc, d, ta, "POST", f"{base}/shares",
                    {"link_share": True, "require_auth": False,
                     "max_viewers": 5, "label": "l"})
    assert st == 201
    st, user = call(doc, d, ta, "POST", f"{base}/shares",
                    {"username": "bob", "permission": "read_write"})
    st, claim = call(doc, d, ta, "POST", f"{base}/shares", {"claim": True})
    v = s.viewer(link["token"], key=s.carol)
    s.owner_runs("echo schema-check")
    v.wait_for("schema-check")
    wait_until(lambda: api(d, f"{base}/shares", ta)[1][0]["viewer_count"]
               == 1, what="a viewer listed")
    st, shares = call(doc, d, ta, "GET", f"{base}/shares")
    assert any(x["viewers"] for x in shares)
    call(doc, d, ta, "GET", f"{base}/shares?all=true")
    call(doc, d, ta, "GET", f"{base}/shares/{link['share_id']}")
    call(doc, d, ta, "PATCH", f"{base}/shares/{link['share_id']}",
         {"expires_in": "2h", "label": "m"})
    call(doc, d, tb, "GET", "/api/sessions/shared")
    call(doc, d, tc, "POST", "/api/sessions/shares/join",
         {"token": claim["token"]})
    st, rv = call(doc, d, ta, "DELETE", f"{base}/shares/{link['share_id']}")
    assert rv["viewers_disconnected"] == 1
    call(doc, d, ta, "GET", f"/api/audit?session={s.sid}&since=1h")
    # Errors, each a documented answer of its operation.
    assert call(doc, d, ta, "POST", f"{base}/shares", b"{")[0] == 400
    assert call(doc, d, ta, "POST", f"{base}/shares",
                {"username": "nobody"})[0] == 404
    assert call(doc, d, ta, "DELETE",
                f"{base}/shares/{link['share_id']}")[0] == 409
    assert call(doc, d, tb, "POST", f"{base}/disconnect", {})[0] == 403
    assert call(doc, d, ta, "POST", f"{base}/shares",
                "x" * 20000)[0] == 413
    assert call(doc, d, None, "GET", "/api/me")[0] == 401
    st, dis = call(doc, d, ta, "POST", f"{base}/disconnect", {})
    assert st == 200 and dis["clients_disconnected"] == 1
    assert call(doc, d, ta, "POST", f"{base}/terminate", {})[0] == 202
    wait_until(lambda: api(d, base, ta)[1]["status"] == "terminated",
               what="terminated")
    call(doc, d, ta, "GET", base)
    assert call(doc, d, ta, "POST", f"{base}/terminate", {})[0] == 409
    for _ in range(10):
        api(d, "/api/me", "Q" * 40)
    assert call(doc, d, ta, "GET", "/api/me")[0] == 429
    assert d.stop() == 0


def test_schema_check_catches_drift():
    """The checker itself: an undocumented field, a wrong type and a
    missing field are caught."""
    doc = load()
    me = {"id": 1, "name": "a", "admin": False}
    check(doc, {"$ref": "#/components/schemas/Me"}, me)
    for bad in (dict(me, extra=1), dict(me, id="1"),
                {"id": 1, "name": "a"}):
        try:
            check(doc, {"$ref": "#/components/schemas/Me"}, bad)
        except AssertionError:
            continue
        raise AssertionError(f"not caught: {bad}")


if __name__ == "__main__":
    harness.main(globals(), "test_openapi")
