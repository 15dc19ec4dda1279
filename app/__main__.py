"""``python -m app``: load the models, then serve the web chat and the HTTP API on KABAR_WEB_HOST:KABAR_WEB_PORT."""
from __future__ import annotations

import argparse
import logging
import sys

from core.env import configure_offline_environment


def main(argv: list[str] | None = None) -> int:
    configure_offline_environment()
    parser = argparse.ArgumentParser(prog="python -m app", description="Kabar web chat.")
    parser.add_argument("--ingest", nargs="*", default=[], metavar="PATH", help="ingest these paths before serving")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpx2", "chromadb", "openai", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from app.api import Assistant
    from app.server import check_exposure, serve
    from core.errors import KabarError

    assistant = Assistant()
    try:
        check_exposure(assistant.settings)
        if args.ingest:
            print(f"Ingest: {assistant.ingest(args.ingest, progress=True).summary()}")
        print("Loading models…")
        assistant.warm_up()
    except KabarError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print("Starting the web server…")
    serve(assistant, on_ready=lambda url: print(f"Kabar is ready: web chat {url} , API {url}v1 (docs {url}v1/docs)",
                                                flush=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
