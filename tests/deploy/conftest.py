"""Real Prometheus and Pushgateway (Debian's packages) on free loopback ports, and a small
CSV pipeline that loads into SQLite.

Install them with `apt-get install -y prometheus prometheus-pushgateway`; without the
binaries the tests that need them are skipped, saying so.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
APT_HINT = "apt-get install -y prometheus prometheus-pushgateway"

PIPELINE = """\
pipeline: shop
target: null
streams:
  - name: orders
    source: {kind: csv, path: orders.csv}
    transform:
      types: {order_id: bigint, amount: "decimal(12,2)"}
      required: [order_id]
    load: {table: orders, mode: upsert, keys: [order_id]}
  - name: refunds
    source: {kind: csv, path: refunds.csv}
    load: {table: refunds, mode: append}
"""
ORDERS = "order_id,amount\n1,10.50\n2,3.00\n,7.00\n3,oops\n4,1.25\n"


def binary(name: str) -> str:
    """The path of a Debian monitoring binary, or skip the test with how to install it."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (CI: {APT_HINT})")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll `url` until it answers 200; fail with the server's log if it never does."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} exited with {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} not ready after 30 s:\n{log.read_text()}")


Promtool = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def promtool() -> Promtool:
    """`promtool(*args)`: Prometheus's checker, run in deploy/prometheus/."""
    path = binary("promtool")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [path, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60
        )

    return run


@dataclass(frozen=True)
class Server:
    url: str


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    """A Pushgateway and a Prometheus that scrapes it every second with deploy's alert rules."""
    gateway_bin, prometheus_bin = binary("prometheus-pushgateway"), binary("prometheus")
    gateway_port, prometheus_port = free_port(), free_port()
    shutil.copy(PROMETHEUS / "alerts.yml", tmp_path / "alerts.yml")
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "rule_files: [alerts.yml]\n"
        "scrape_configs:\n"
        "  - job_name: pushgateway\n"
        "    honor_labels: true\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{gateway_port}']}}]\n"
    )
    commands = {
        "pushgateway": [gateway_bin, f"--web.listen-address=127.0.0.1:{gateway_port}"],
        "prometheus": [
            prometheus_bin,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}",
        ],
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name, command in commands.items():
            log = tmp_path / f"{name}.log"
            with log.open("wb") as out:
                processes.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT))
        gateway = Server(f"http://127.0.0.1:{gateway_port}")
        prometheus = Server(f"http://127.0.0.1:{prometheus_port}")
        wait_ready(f"{gateway.url}/-/ready", processes[0], tmp_path / "pushgateway.log")
        wait_ready(f"{prometheus.url}/-/ready", processes[1], tmp_path / "prometheus.log")
        yield gateway, prometheus
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """The `shop` pipeline's spec: `orders` (5 rows, 2 rejected) and `refunds` (no file yet)."""
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "orders.csv").write_text(ORDERS)
    spec = folder / "shop.yaml"
    spec.write_text(PIPELINE)
    return spec
