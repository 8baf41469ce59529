"""TLS on the HTTP listener (--tls-cert/--tls-key): https and wss work
with a throwaway certificate, cookies are Secure, share prints https://
and wss:// links, and bad settings stop start-up with a clear message."""

import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys

try:
    import websocket
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")
    import websocket

import harness
from harness import Daemon, Key, Tmux, PROMPT, wait_until


def make_cert(work):
    cert, key = work.join("cert.pem"), work.join("key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                    "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def context(cert):
    ctx = ssl.create_default_context(cafile=cert)
    return ctx


def get(d, ctx, path, method="GET", body=None, headers=None):
    c = http.client.HTTPSConnection("127.0.0.1", d.http_port, context=ctx,
                                    timeout=10)
    try:
        c.request(method, path, body=body, headers=dict(headers or {}))
        r = c.getresponse()
        return r.status, r.headers, r.read()
    finally:
        c.close()


def tls_daemon(work=None):
    d = Daemon(work=work)
    cert, key = make_cert(d.work)
    d.start(extra_args=["--tls-cert", cert, "--tls-key", key])
    return d, cert, key


def test_https_wss_and_cookies():
    d, cert, _ = tls_daemon()
    ctx = context(cert)
    assert re.search(r"listening for https on", d.log())
    st, _, body = get(d, ctx, "/healthz")
    assert (st, body) == (200, b"ok\n")
    # The owner's session, a link share with https and wss links.
    alice = Key(d.work, "alice")
    owner = Tmux(d.work, " ".join(d.ssh_argv("alice", alice, tty=True)),
                 name="owner")
    owner.wait_for(PROMPT)
    sid = d.sessions("alice", alice)[0]["id"]
    r = d.command("alice", alice, "share", sid, "--no-auth", "--json")
    sh = json.loads(r.stdout)
    base = f"https://127.0.0.1:{d.http_port}"
    assert sh["share_url"] == f"{base}/s/{sh['token']}", sh
    assert sh["websocket_url"].startswith("wss://127.0.0.1:")
    text = d.command("alice", alice, "share", sid, "--no-auth").stdout
    assert f"browser: {base}/s/" in text, text
    # A viewer over wss sees the owner's output.
    ws = websocket.create_connection(
        sh["websocket_url"], subprotocols=["tandem.v1"], timeout=10,
        sslopt={"ca_certs": cert})
    status = json.loads(ws.recv())
    assert status["type"] == "status" and status["owner"] == "alice"
    owner.type("echo over-tls-$((6*7))\n")
    screen = ""
    while "over-tls-42" not in screen:
        data = ws.recv()
        if isinstance(data, bytes):         # text frames are JSON
            screen += data.decode("utf-8", "replace")
    ws.close()
    # Sign-in cookies carry Secure under TLS.
    r = d.command("alice", alice, "weblogin")
    code = re.search(r"/login/(\S+)", r.stdout).group(1)
    assert f"{base}/login/" in r.stdout
    st, headers, _ = get(d, ctx, f"/login/{code}")
    assert st == 303
    cookies = headers.get_all("Set-Cookie")
    assert len(cookies) == 2, cookies
    for c in cookies:
        assert "; Secure" in c and "SameSite=Strict" in c, c
    assert d.stop() == 0


def test_plain_http_to_tls_port():
    d, cert, _ = tls_daemon()
    ctx = context(cert)
    # A client speaking plain HTTP gets no page, and the daemon lives.
    s = socket.create_connection(("127.0.0.1", d.http_port), timeout=5)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        data = s.recv(4096)
    except (ConnectionError, socket.timeout):
        data = b""
    s.close()
    assert b"200 OK" not in data and b"ok\n" not in data, data
    # Garbage in the handshake too.
    s = socket.create_connection(("127.0.0.1", d.http_port), timeout=5)
    s.sendall(os.urandom(4096))
    s.close()
    assert d.alive()
    assert get(d, ctx, "/healthz")[0] == 200
    assert d.stop() == 0


def test_bad_settings_stop_startup():
    work = harness.Workdir()
    cert, key = make_cert(work)
    junk = work.join("junk.pem")
    with open(junk, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
                "-----END CERTIFICATE-----\n")
    cases = [
        (["--tls-cert", cert], "tls_cert is set without tls_key"),
        (["--tls-key", key], "tls_key is set without tls_cert"),
        (["--tls-cert", work.join("missing.pem"), "--tls-key", key],
         "tls_cert " + work.join("missing.pem") + ": No such file"),
        (["--tls-cert", junk, "--tls-key", key], "PEM certificate"),
        (["--tls-cert", cert, "--tls-key", cert], "PEM private key"),
    ]
    for args, message in cases:
        d = Daemon(work=harness.Workdir())
        d.start(extra_args=args, expect_ready=False)
        code = d.proc.wait(timeout=20)
        assert code != 0, args
        assert message in d.log(), (args, d.log())


if __name__ == "__main__":
    harness.main(globals(), "test_tls")
