"""Integration test harness: a real tandemd, real OpenSSH clients, tmux.

Each test script builds a Daemon (a throwaway data folder, free loopback
ports picked by the kernel, a config file of the test's choosing), makes
key pairs with ssh-keygen, and drives the daemon with `ssh`.  Terminal
tests run ssh inside a private tmux server (its own socket), which is a
real terminal emulator: the test types with send-keys and reads the
screen with capture-pane.

Everything a test starts is registered and torn down at exit, also when
the test fails, so no process outlives a run.
"""

import atexit
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

# A shell prompt as /bin/sh shows it, for root or not (capture-pane
# trims the trailing space).
PROMPT = r"(?m)^[$#] ?$"

TANDEMD = os.environ.get("TANDEMD", os.path.abspath("src/tandemd"))
SAN = os.environ.get("ASAN_OPTIONS") is not None

_cleanups = []
_failures = []


def _run_cleanups():
    while _cleanups:
        fn = _cleanups.pop()
        try:
            fn()
        except Exception as exc:  # teardown must go on
            print(f"cleanup: {exc!r}", file=sys.stderr)


atexit.register(_run_cleanups)


def wait_until(pred, timeout=10.0, interval=0.05, what="condition"):
    """Poll pred() until it returns a true value; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


class Workdir:
    """A temporary folder removed at exit."""

    def __init__(self, prefix="tandem-test-"):
        self.path = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.path, 0o700)
        _cleanups.append(lambda: shutil.rmtree(self.path, ignore_errors=True))

    def join(self, *parts):
        return os.path.join(self.path, *parts)


class Key:
    """An ed25519 key pair made by ssh-keygen."""

    def __init__(self, work, name):
        self.path = work.join(f"key_{name}")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                        "-C", f"{name}@test", "-f", self.path], check=True)
        self.pub = self.path + ".pub"


class Daemon:
    """One tandemd process on 127.0.0.1 with a private data folder."""

    def __init__(self, work=None, config=None, data_dir=None):
        self.work = work or Workdir()
        self.data_dir = data_dir or self.work.join("data")
        self.log_path = self.work.join("tandemd.log")
        self.config_path = self.work.join("tandemd.conf")
        settings = {"shell": "/bin/sh", "log_level": "debug"}
        settings.update(config or {})
        with open(self.config_path, "w") as f:
            for k, v in settings.items():
                f.write(f'{k} = "{v}"\n')
        self.known_hosts = self.work.join("known_hosts")
        self.proc = None
        self.port = None
        self.http_port = None

    def start(self, extra_args=(), expect_ready=True, http=True):
        """http: listen for HTTP on a free port too (d.http_port); on by
        default so that daemons never contend for the default port."""
        self._log = open(self.log_path, "ab")
        self._log_from = self._log.tell()
        env = dict(os.environ)
        env.setdefault("SHELL", "/bin/sh")
        http_args = ["--http-listen", "127.0.0.1:0"] if http else []
        self.proc = subprocess.Popen(
            [TANDEMD, "--config", self.config_path, "--data-dir",
             self.data_dir, "--ssh-listen", "127.0.0.1:0", *http_args,
             *extra_args],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
            env=env)
        _cleanups.append(self._kill)
        if expect_ready:
            m = wait_until(lambda: self._ready(), timeout=20,
                           what="tandemd to listen")
            self.port = int(m.group(1))
            h = re.search(r"listening for https? on 127\.0\.0\.1:(\d+)",
                          self.log()[self._log_from:])
            self.http_port = int(h.group(1)) if h else None
        return self

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError(
                f"tandemd exited with {self.proc.returncode}:\n{self.log()}")
        return re.search(r"listening for ssh on 127\.0\.0\.1:(\d+)",
                         self.log()[self._log_from:])

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=10):
        return wait_until(lambda: re.search(pattern, self.log()),
                          timeout=timeout, what=f"log line /{pattern}/")

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Stop the daemon and return its exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("tandemd did not stop on SIGTERM")

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if hasattr(self, "_log"):
            self._log.close()

    def alive(self):
        return self.proc.poll() is None

    # -- ssh helpers -----------------------------------------------------
    def ssh_argv(self, user, key, *args, tty=None, opts=()):
        # ssh keeps the first value of an option: the test's own win.
        batch = [] if any("BatchMode" in o for o in opts) else \
            ["-o", "BatchMode=yes"]
        argv = ["ssh", "-F", "/dev/null", "-p", str(self.port)] + \
            list(opts) + batch + ["-o", "IdentitiesOnly=yes",
                "-o", f"UserKnownHostsFile={self.known_hosts}",
                "-o", "StrictHostKeyChecking=accept-new",
                "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10"]
        if key is not None:
            argv += ["-i", key.path]
        if tty is True:
            argv.append("-tt")
        elif tty is False:
            argv.append("-T")
        argv.append(f"{user}@127.0.0.1")
        argv += list(args)
        return argv

    def ssh(self, user, key, *args, input=None, tty=None, opts=(),
            timeout=30):
        """Run ssh to completion; returns CompletedProcess (text)."""
        return subprocess.run(self.ssh_argv(user, key, *args, tty=tty,
                                            opts=opts),
                              input=input, capture_output=True, text=True,
                              timeout=timeout, stdin=None if input is not None
                              else subprocess.DEVNULL)

    def command(self, user, key, *args, check=True):
        r = self.ssh(user, key, *args)
        if check and r.returncode != 0:
            raise AssertionError(
                f"ssh {' '.join(args)} exited {r.returncode}: {r.stderr}")
        return r

    def sessions(self, user, key, all=True):
        args = ["ls", "--json"] + (["--all"] if all else [])
        return json.loads(self.command(user, key, *args).stdout)

    def offline(self, *args):
        """Run `tandemd --data-dir DIR ARGS...` (offline commands)."""
        return subprocess.run([TANDEMD, "--data-dir", self.data_dir, *args],
                              capture_output=True, text=True, timeout=30)


class Tmux:
    """A private tmux server whose one window runs a command."""

    def __init__(self, work, cmd, cols=80, rows=24, name="t"):
        self.sock = work.join(f"tmux-{name}")
        self.status_file = work.join(f"tmux-{name}.status")
        self.target = "main"
        # The command's exit status comes through a file: tmux 3.3 marks a
        # pane dead at EOF and may report its status much later.
        cmd = (f"{cmd}; echo $? > {shlex.quote(self.status_file)}.tmp; "
               f"mv {shlex.quote(self.status_file)}.tmp "
               f"{shlex.quote(self.status_file)}")
        env = dict(os.environ)
        env["TERM"] = "xterm-256color"
        env.pop("TMUX", None)
        self.env = env
        self._tmux("-f", "/dev/null", "new-session", "-d", "-s",
                   self.target, "-x", str(cols), "-y", str(rows), cmd)
        _cleanups.append(self.kill)
        self._tmux("set-option", "-t", self.target, "remain-on-exit", "on")
        self._tmux("set-option", "-g", "window-size", "manual")

    def _tmux(self, *args, check=True):
        r = subprocess.run(["tmux", "-S", self.sock, *args],
                           capture_output=True, text=True, env=self.env,
                           timeout=20)
        if check and r.returncode != 0:
            raise AssertionError(f"tmux {args}: {r.stderr}")
        return r.stdout

    def send(self, *keys):
        self._tmux("send-keys", "-t", self.target, *keys)

    def type(self, text):
        self._tmux("send-keys", "-t", self.target, "-l", text)

    def screen(self):
        return self._tmux("capture-pane", "-p", "-t", self.target)

    def lines(self):
        return self.screen().split("\n")

    def cursor(self):
        out = self._tmux("display-message", "-p", "-t", self.target,
                         "#{cursor_x} #{cursor_y}")
        x, y = out.split()
        return int(x), int(y)

    def wait_for(self, pattern, timeout=15):
        return wait_until(lambda: re.search(pattern, self.screen()),
                          timeout=timeout, what=f"screen /{pattern}/"
                          f" (screen now:\n{self.screen()})")

    def resize(self, cols, rows):
        self._tmux("resize-window", "-t", self.target, "-x", str(cols),
                   "-y", str(rows))

    def dead_status(self):
        """None while the command runs, then its exit status (ssh
        reports a remote signal as 255)."""
        try:
            with open(self.status_file) as f:
                return int(f.read())
        except FileNotFoundError:
            return None

    def wait_dead(self, timeout=15):
        wait_until(lambda: self.dead_status() is not None, timeout=timeout,
                   what="the command in tmux to exit")
        return self.dead_status()

    def kill(self):
        subprocess.run(["tmux", "-S", self.sock, "kill-server"],
                       capture_output=True, timeout=20)


def iso_to_epoch(text):
    """'2026-11-22T07:32:40Z' -> Unix seconds."""
    import calendar
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Suite:
    """Runs the test_* functions of a module, reports like TAP."""

    def __init__(self, name):
        self.name = name

    def run(self, tests):
        passed = failed = 0
        for fn in tests:
            t0 = time.monotonic()
            try:
                fn()
            except Exception as exc:
                failed += 1
                import traceback
                traceback.print_exc()
                print(f"FAIL {fn.__name__}: {exc}", flush=True)
            else:
                passed += 1
                print(f"ok {fn.__name__} ({time.monotonic() - t0:.1f}s)",
                      flush=True)
            _run_cleanups()
        print(f"{self.name}: {passed} passed, {failed} failed")
        sys.exit(1 if failed or passed == 0 else 0)


def main(module_globals, name):
    tests = [v for k, v in sorted(module_globals.items())
             if k.startswith("test_") and callable(v)]
    only = os.environ.get("TEST_ONLY")
    if only:
        tests = [t for t in tests if re.search(only, t.__name__)]
    Suite(name).run(tests)
