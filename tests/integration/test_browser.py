"""The browser viewer page: static serving (/s/TOKEN, /assets/*), the
share command's browser URL, and the page itself in headless Chromium
(tests/browser/viewer.test.js, playwright-core driving Debian's
/usr/bin/chromium): output shown, read-only input ignored, read-write
input reaching the shell, and the revocation overlay."""

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import harness
from harness import wait_until
from test_share import Setup

CHROMIUM = "/usr/bin/chromium"
SRCDIR = os.environ.get("TANDEM_SRCDIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# make stages the page in $(builddir)/web-dist, next to src/tandemd.
WEB_DIST = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(harness.TANDEMD))), "web-dist")
# make runs npm ci in $(builddir)/web-npm, next to web-dist.
NODE_MODULES = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(harness.TANDEMD))), "web-npm", "node_modules")
# Screenshots are build outputs: next to web-dist, never in the source
# tree (read-only under make distcheck).
ARTIFACTS = os.path.join(os.path.dirname(WEB_DIST), "tests", "browser",
                         "artifacts")


def http(d, path):
    try:
        with urllib.request.urlopen(
                f"http://127.0.0.1:{d.http_port}{path}", timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def setup():
    return Setup(config={"web_root": WEB_DIST})


def browser_ready():
    """Chromium, node and playwright-core must be there: contrib/deps.sh
    --test installs them and make runs npm ci.  Missing, the test fails
    (a browser test that skips itself proves nothing)."""
    missing = [what for what, ok in (
        (CHROMIUM, os.path.exists(CHROMIUM)),
        ("node", shutil.which("node") is not None),
        ("playwright-core", os.path.isdir(os.path.join(
            NODE_MODULES, "playwright-core"))))
        if not ok]
    assert not missing, f"missing for the browser tests: {missing} " \
        "(sh contrib/deps.sh --test, then make)"


def test_build_tree_page_found_without_web_root():
    """A tandemd run from its build tree serves the build's page when
    web_root (default: the install folder) has none."""
    s = Setup(config={"web_root": "/nonexistent"})
    status, _, body = http(s.d, "/s/" + "A" * 40)
    assert status == 200 and b"viewer.js" in body
    s.d.wait_log(r"web_root /nonexistent has no viewer page")
    assert s.d.stop() == 0


def test_static_files_and_share_urls():
    s = setup()
    sh = s.share("--no-auth", "--read-only")
    base = f"http://127.0.0.1:{s.d.http_port}"
    assert sh["share_url"] == f"{base}/s/{sh['token']}", sh
    assert sh["websocket_url"] == \
        f"ws://127.0.0.1:{s.d.http_port}/ws/s/{sh['token']}", sh
    r = s.d.ssh("alice", s.alice, "share", s.sid, "--no-auth")
    assert r.returncode == 0, r.stderr
    assert f"browser: {base}/s/" in r.stdout, r.stdout

    status, h, body = http(s.d, f"/s/{sh['token']}")
    assert status == 200, status
    assert h["Content-Type"] == "text/html; charset=utf-8"
    assert h["Cache-Control"] == "no-store"
    assert h["Content-Security-Policy"].startswith("default-src 'self'")
    assert h["X-Frame-Options"] == "DENY"
    assert b"/assets/viewer.js" in body and b"<script>" not in body
    with open(os.path.join(WEB_DIST, "viewer.html"), "rb") as f:
        assert body == f.read()
    for name, ctype in (("viewer.js", "text/javascript"),
                        ("viewer.css", "text/css"),
                        ("xterm.js", "text/javascript"),
                        ("xterm.css", "text/css")):
        status, h, body = http(s.d, f"/assets/{name}")
        assert status == 200, (name, status)
        assert h["Content-Type"].startswith(ctype), (name, h)
        assert h["Cache-Control"] == "public, max-age=3600", (name, h)
        assert h["Content-Security-Policy"] == "default-src 'self'"
        assert h["X-Content-Type-Options"] == "nosniff"
        with open(os.path.join(WEB_DIST, name), "rb") as f:
            assert body == f.read(), name
    # Only the fixed table is served: no other file, no traversal.
    for path in ("/assets/viewer.html", "/assets/../viewer.html",
                 "/assets/%2e%2e/viewer.html", "/assets/xterm.js.map",
                 "/assets/", "/s/", "/s/not-a-token", "/s/../healthz/x",
                 "/assets//etc/passwd", "/viewer.html",
                 "/assets/..%2f..%2fetc%2fpasswd"):
        status, h, _ = http(s.d, path)
        assert status == 404, (path, status)
    # Unlike /healthz, the HTML needs no token check: the WebSocket does.
    status, _, _ = http(s.d, "/s/" + "A" * 40)
    assert status == 200

    # public_url replaces the bound address.
    s2 = Setup(config={"web_root": WEB_DIST,
                       "public_url": "https://tandem.example/"})
    sh2 = s2.share("--no-auth")
    assert sh2["share_url"] == \
        f"https://tandem.example/s/{sh2['token']}", sh2
    assert sh2["websocket_url"] == \
        f"wss://tandem.example/ws/s/{sh2['token']}", sh2


def test_viewer_page_in_chromium():
    browser_ready()
    s = setup()
    s.owner_runs("echo owner-marker-$((6*7))")
    s.owner.wait_for(r"owner-marker-42")
    ro = s.share("--no-auth", "--read-only")
    rw = s.share("--no-auth", "--read-write")
    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = os.path.join(ARTIFACTS, "viewer.png")
    env = dict(os.environ, NODE_PATH=NODE_MODULES)
    node = subprocess.Popen(
        ["node", os.path.join(SRCDIR, "tests", "browser", "viewer.test.js"),
         ro["share_url"], rw["share_url"], shot, "owner-marker-42"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    harness._cleanups.append(lambda: node.poll() is None and node.kill())

    def expect(step):
        while True:
            line = node.stdout.readline()
            assert line, f"viewer.test.js ended before @{step} " \
                f"(exit {node.wait()})"
            print("node: " + line.rstrip(), flush=True)
            if line.strip() == "@" + step:
                return

    def answer(text):
        node.stdin.write(text + "\n")
        node.stdin.flush()

    expect("resize-me")
    s.owner.resize(100, 30)
    answer("resized")

    expect("ro-typed")
    time.sleep(1.0)
    assert "ro-typed" not in s.owner.screen(), s.owner.screen()
    answer("go")

    expect("rw-typed")
    s.owner.wait_for(r"(?m)^browser-typed\s*$")
    assert "ro-typed" not in s.owner.screen(), s.owner.screen()
    s.d.command("alice", s.alice, "revoke", ro["share_id"])
    answer("revoked")

    expect("done")
    assert node.wait(timeout=30) == 0
    assert os.path.getsize(shot) > 1000


if __name__ == "__main__":
    harness.main(globals(), "test_browser")
