"""Procedo inside a pytest run: `procedo dev` on free ports, nothing kept.

The `procedo` fixture starts `procedo dev --in-memory` with every port 0,
waits for the endpoints file it writes once ready, hands the test the
endpoints and an admin token, and stops it at the end of the session. The
`pb` fixture generates the Python client from proto/ with
examples/generate-clients (grpcio-tools), once per session.

    PROCEDO_BIN=/path/to/procedo pytest examples/python
"""

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

# The one way to generate a client (Python, TypeScript, Go).
GENERATE = pathlib.Path(__file__).resolve().parents[1] / "generate-clients"


@pytest.fixture(scope="session")
def pb(tmp_path_factory):
    """The generated modules, importable as procedo.intake.v1.intake_pb2 ..."""
    out = tmp_path_factory.mktemp("procedo_client")
    subprocess.run([str(GENERATE), "python", str(out)], check=True, capture_output=True)
    sys.path.insert(0, str(out))
    return out


def _binary():
    binary = os.environ.get("PROCEDO_BIN") or shutil.which("procedo")
    if not binary:
        pytest.fail("set PROCEDO_BIN to the procedo binary (or put it on PATH)")
    return binary


@pytest.fixture(scope="session")
def procedo():
    """A running `procedo dev`: {"endpoints": {...}, "token": ..., "bin": ...}."""
    binary = _binary()
    folder = tempfile.mkdtemp(prefix="procedo-pytest-")
    endpoints_file = pathlib.Path(folder) / "endpoints.json"
    args = [binary, "dev", "--in-memory", "--endpoints-file", str(endpoints_file)]
    for service in ("intake", "workflow", "document", "compliance"):
        args += [f"--{service}-port", "0"]
    env = dict(os.environ, PROCEDO_LOG="warn")
    env.pop("PROCEDO_JWT_SECRET", None)
    server = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not endpoints_file.exists():
        if server.poll() is not None:
            pytest.fail(f"procedo dev exited with {server.returncode}")
        if time.monotonic() > deadline:
            server.kill()
            pytest.fail("procedo dev was not ready within 60 s")
        time.sleep(0.05)
    ready = json.loads(endpoints_file.read_text())
    ready["bin"] = binary
    yield ready
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def token(procedo):
    """A development token for a role: token("intake_clerk", department="front-desk")."""

    def mint(role, department="ops"):
        return subprocess.run(
            [procedo["bin"], "token", "--role", role, "--department", department],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    return mint
