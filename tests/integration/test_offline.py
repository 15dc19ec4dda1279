"""Nothing is downloaded at run time: ingest and a question work with the network cut off."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import MODELS_DIR, REPO, SAMPLES

pytestmark = pytest.mark.integration

ASK = (
    "from app import Assistant; a = Assistant(); ans = a.ask('Why is the EU partnering with Japan?'); "
    "print('REFUSED' if ans.refused else 'ANSWERED', ans.text); a.close()"
)
# Belt and braces: besides the network namespace, any non-loopback connect from Python fails loudly.
GUARD = r"""
import socket, ipaddress
_connect = socket.socket.connect
def guarded(self, address):
    host = address[0] if isinstance(address, tuple) else None
    if host is not None:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise OSError(f"blocked outbound connection to {address}")
    return _connect(self, address)
socket.socket.connect = guarded
"""


def isolated(command: str) -> list[str]:
    """Run in a fresh network namespace with only loopback up, when the machine allows it."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-rn", "sh", "-c", f"ip link set lo up && {command}"]
    return ["sh", "-c", command]


def test_ingest_and_answer_without_network(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(GUARD)
    env = {
        **os.environ, "PYTHONPATH": f"{tmp_path}:{REPO}", "KABAR_DATA_DIR": str(tmp_path / "data"),
        "KABAR_MODELS_DIR": str(MODELS_DIR), "HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0",
    }
    py = sys.executable
    ingest = subprocess.run(isolated(f"{py} -m ingest --quiet {SAMPLES}"), env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=600)
    assert ingest.returncode == 0, ingest.stderr[-3000:]
    assert "added 1" in ingest.stdout
    ask = subprocess.run(isolated(f'{py} -c "{ASK}"'), env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=600)
    assert ask.returncode == 0, ask.stderr[-3000:]
    assert "ANSWERED" in ask.stdout, ask.stdout
    assert "blocked outbound connection" not in ask.stderr + ingest.stderr
