"""The session manager at / (web/manager.*): only for a signed-in
browser, strict CSP, and in headless Chromium (tests/browser/
manager.test.js): sign-in by link and by the form, the Mine tab with state badges, the share dialog
(link shown once with a copy button, an invitation), the viewer list
refreshed without reloading, Revoke cutting an ssh viewer off, the
"Shared with me" tab of the invited user, a hostile session name and
share label shown as text, and the signed-out message after a sign-out
in another tab."""

import os
import shlex
import re
import subprocess
import time

import harness
from test_browser import ARTIFACTS, NODE_MODULES, SRCDIR, browser_ready, \
    setup
from test_signin import cookies, new_password, req

NAME = "<img src=x onerror=window.pwned=1>"


def login_url(s, user, key):
    r = s.d.command(user, key, "weblogin")
    m = re.search(r"(http://\S+/login/\S+)", r.stdout)
    assert m, r.stdout
    return m.group(1)


def test_manager_needs_sign_in():
    s = setup()
    d = s.d
    st, h, _ = req(d, "GET", "/")
    assert st == 303 and h["Location"] == "/login?next=/", (st, h)
    url = login_url(s, "alice", s.alice)
    st, h, _ = req(d, "GET", url[url.index("/login/"):])
    sess = cookies(h)["tandem_session"][0]
    st, h, body = req(d, "GET", "/", headers={
        "Cookie": f"tandem_session={sess}"})
    assert st == 200 and b"/assets/manager.js" in body
    assert h["Content-Security-Policy"] == "default-src 'self'"
    assert b"<script>" not in body and b"style=" not in body
    for asset in ("manager.js", "manager.css"):
        assert req(d, "GET", f"/assets/{asset}")[0] == 200
    # A stale cookie is sent to sign in again.
    st, h, _ = req(d, "GET", "/", headers={
        "Cookie": "tandem_session=" + "A" * 40})
    assert st == 303
    assert d.stop() == 0


def test_manager_in_chromium():
    browser_ready()
    s = setup()
    d = s.d
    d.command("alice", s.alice, "rename", s.sid, shlex.quote(NAME))
    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = os.path.join(ARTIFACTS, "manager.png")
    env = dict(os.environ, NODE_PATH=NODE_MODULES)
    node = subprocess.Popen(
        ["node", os.path.join(SRCDIR, "tests", "browser",
                              "manager.test.js"),
         login_url(s, "alice", s.alice), new_password(s, "bob", s.bob),
         s.sid, NAME, shot],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    harness._cleanups.append(lambda: node.poll() is None and node.kill())

    def expect(prefix):
        while True:
            line = node.stdout.readline()
            assert line, f"manager.test.js ended before @{prefix} " \
                f"(exit {node.wait()})"
            print("node: " + line.rstrip(), flush=True)
            if line.startswith("@" + prefix):
                return line.strip()[len(prefix) + 2:]

    def answer(text):
        node.stdin.write(text + "\n")
        node.stdin.flush()

    url = expect("link")
    token = url.rsplit("/", 1)[1]
    viewer = s.viewer(token, key=s.bob, name="bobview")
    s.owner_runs("echo seen-by-bob")
    viewer.wait_for("seen-by-bob")
    answer("joined")
    expect("revoked")
    viewer.wait_for("this share was revoked")
    assert viewer.wait_dead() is not None
    answer("ok")
    expect("done")
    assert node.wait(timeout=30) == 0
    assert os.path.getsize(shot) > 1000
    actions = [a["action"] for a in s.audit()]
    assert actions.count("share.create") == 2, actions
    assert "share.revoke" in actions
    assert d.stop() == 0


if __name__ == "__main__":
    harness.main(globals(), "test_manager")
