"""`proactief web` as an operator starts and stops it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import psutil

from .serving import free_port


def test_a_terminated_web_app_stops_its_simulator_too(web_city, database_url):
    port = free_port()
    env = dict(os.environ, PROACTIEF_DATABASE_URL=database_url)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "proactief",
            "web",
            "--city",
            str(web_city),
            "--with-simulator",
            "--latency-ms",
            "1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/aanmelden").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        children = psutil.Process(process.pid).children(recursive=True)
        assert children, "the simulator should run beside the web app"
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        _gone, alive = psutil.wait_procs(children, timeout=15)
        assert not alive, "the simulator outlived the web app"
    finally:
        if process.poll() is None:
            process.kill()
