"""``python -m ingest PATH...``: add or update articles; ``--remove``, ``--list``, ``--check`` and
``--repair`` manage them."""
from __future__ import annotations

import argparse
import logging
import sys

from core.env import configure_offline_environment


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ingest", description="Add news articles to Kabar's archive.",
                                     epilog="exit status: 0 all done; 1 some file failed or a document was not "
                                            "found (the rest was still done), or --check/--repair left disagreements; "
                                            "2 the store or a model is unavailable")
    parser.add_argument("paths", nargs="*", help="files or folders (.txt .md .html .pdf .docx .jsonl)")
    parser.add_argument("--remove", metavar="DOC", action="append", default=[],
                        help="remove a document by path, title or id (repeatable)")
    parser.add_argument("--list", action="store_true", help="list ingested documents")
    parser.add_argument("--check", action="store_true",
                        help="report whether registry, chunks and keyword index agree (exit 1 if not)")
    parser.add_argument("--repair", action="store_true",
                        help="mend what --check reports: delete leftovers, re-ingest incomplete documents")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if not (args.paths or args.remove or args.list or args.check or args.repair):
        parser.error("give PATH..., --remove DOC, --list, --check or --repair")
    return args


def main(argv: list[str] | None = None) -> int:
    """Exit status 0 when everything asked for was done; 1 when a file failed, a document to remove was
    not found or the store disagrees with itself (the rest was still done); 2 when the store or a model
    is unavailable."""
    configure_offline_environment()
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    from app.api import Assistant
    from core.errors import KabarError

    try:
        return 0 if run(Assistant(), args) else 1
    except KabarError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def run(assistant, args: argparse.Namespace) -> bool:
    """Removals, then the ingest, then the check or repair, then the list; True when all went well."""
    from ingest import maintenance

    ok = all([_remove(assistant, doc) for doc in args.remove])
    if args.paths:
        report = assistant.ingest(args.paths, progress=not args.quiet)
        for name, reason in report.failed:
            print(f"failed: {name}: {reason}", file=sys.stderr)
        print(f"Ingest finished: {report.summary()} ({report.chunks_written} chunks written)")
        ok = ok and not report.failed
    if args.repair:
        ok = maintenance.repair(assistant) and ok
    elif args.check:
        ok = maintenance.check(assistant) and ok
    if args.list:
        for doc in assistant.documents():
            print(f"{doc.doc_id}  {doc.chunks:4d} chunks  {doc.date or '-':10}  {doc.outlet or '-':12}  {doc.title}")
    return ok


def _remove(assistant, doc: str) -> bool:
    removed = assistant.remove(doc)
    print(f"removed: {doc}" if removed else f"not found: {doc}", file=sys.stdout if removed else sys.stderr)
    return removed


if __name__ == "__main__":
    raise SystemExit(main())
