"""KABAR_CHROMA_HOST/PORT switch the same code from Chroma on disk to a real `chroma run` server."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app.api import Assistant
from core.errors import StoreUnavailable
from tests.conftest import SAMPLES, real_settings
from tests.conftest import free_port

pytestmark = pytest.mark.integration


def chroma_cli() -> str:
    found = Path(sys.executable).with_name("chroma")
    return str(found) if found.exists() else (shutil.which("chroma") or pytest.skip("chroma CLI not installed"))


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    server = subprocess.Popen([chroma_cli(), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            break
        except OSError:
            time.sleep(0.3)
    else:
        server.kill()
        pytest.fail("chroma server did not start")
    yield port
    server.terminate()
    server.wait(timeout=30)


def test_ingest_and_retrieve_through_a_chroma_server(chroma_server, tmp_path):
    kb = Assistant(real_settings(tmp_path / "data", chroma_host="127.0.0.1", chroma_port=chroma_server))
    assert len(kb.ingest([SAMPLES]).added) == 1
    assert len(kb.ingest([SAMPLES]).unchanged) == 1
    found = kb.store.search(kb.embeddings.embed_query("Dewan Kemitraan Digital"), 3)
    assert found and "Uni Eropa dan Jepang" in found[0].title
    assert not (tmp_path / "data" / "chroma").exists(), "nothing may be written to the local store"


def test_unreachable_chroma_server_names_what_is_down(tmp_path):
    kb = Assistant(real_settings(tmp_path / "data", chroma_host="127.0.0.1", chroma_port=free_port()))
    with pytest.raises(StoreUnavailable, match=r"Chroma server at 127\.0\.0\.1"):
        kb.documents()
