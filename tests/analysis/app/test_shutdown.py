"""No process of `campaign-lab app` outlives it: stopped by a service manager (SIGTERM), by
Ctrl-C (SIGINT) or killed outright (SIGKILL, as a crash or the OOM killer does), the app's
worker processes and the resource tracker are gone within 5 s."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from ...conftest import MINI, free_port


def _start_app(log: Path) -> tuple[subprocess.Popen, list[psutil.Process]]:
    """The app serving (its signal handlers installed) and its processes, once its two
    workers exist."""
    port = free_port()
    exe = Path(sys.executable).parent / "campaign-lab"
    with log.open("w") as out:
        proc = subprocess.Popen([str(exe), "app", str(MINI), "--port", str(port),
                                 "--workers", "2"], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    app = psutil.Process(proc.pid)
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
        workers = [p for p in app.children(recursive=True)
                   if "spawn_main" in " ".join(p.cmdline())]
        if len(workers) == 2:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
                return proc, [app, *app.children(recursive=True)]
            except OSError:
                pass
        time.sleep(0.2)


def _left(processes: list[psutil.Process], session: int) -> list[psutil.Process]:
    """Those still running (zombies are dead), and anything else in the app's session."""
    def alive(p):
        try:
            return p.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False
    in_session = [p for p in psutil.process_iter() if _session(p.pid) == session]
    return [p for p in {p.pid: p for p in processes + in_session}.values() if alive(p)]


def _session(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


@pytest.mark.slow  # about 12 s per signal: the app starts and warms its workers
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL],
                         ids=["SIGTERM", "SIGINT", "SIGKILL"])
def test_no_process_of_the_app_outlives_it(sig, tmp_path):
    proc, processes = _start_app(tmp_path / "app.log")
    try:
        assert len(processes) >= 3  # the app, its two workers (and the resource tracker)
        proc.send_signal(sig)
        deadline = time.monotonic() + 5
        while _left(processes, proc.pid) and time.monotonic() < deadline:
            proc.poll()  # reap the app itself
            time.sleep(0.1)
        left = _left(processes, proc.pid)
        assert not left, [(p.pid, p.cmdline()) for p in left]
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
