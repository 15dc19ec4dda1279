"""``python -m ingest PATH...``: add or update articles; ``--remove``, ``--list``, ``--check`` and
``--repair`` manage them. A command line is a top-layer adapter (docs/architecture.md, Layers), so it
may build the ``Assistant``; the rest of ``ingest/`` does not import ``app``."""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from core.env import configure_offline_environment


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ingest", description="Add news articles to Kabar's archive.",
                                     epilog="exit status: 0 all done; 1 some file failed, a document to remove was not "
                                            "found or not named by its id (the rest was still done), or "
                                            "--check/--repair left disagreements; 2 the store or a model is unavailable")
    parser.add_argument("paths", nargs="*", help="files or folders (.txt .md .html .pdf .docx .jsonl)")
    parser.add_argument("--remove", metavar="ID", action="append", default=[],
                        help="remove a document by its id, as --list shows it (repeatable); a title or a "
                             "file's path is refused with the ids of the documents it names")
    parser.add_argument("--list", action="store_true", help="list ingested documents")
    parser.add_argument("--check", action="store_true",
                        help="report whether registry, chunks and keyword index agree (exit 1 if not)")
    parser.add_argument("--repair", action="store_true",
                        help="mend what --check reports: delete leftovers, re-ingest incomplete documents")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if not (args.paths or args.remove or args.list or args.check or args.repair):
        parser.error("give PATH..., --remove ID, --list, --check or --repair")
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
        ok = maintenance.repair(assistant.store, assistant.ingest_service) and ok
    elif args.check:
        ok = maintenance.check(assistant.store) and ok
    if args.list:
        for doc in assistant.documents():
            print(f"{doc.doc_id}  {doc.chunks:4d} chunks  {doc.date or '-':10}  {doc.outlet or '-':12}  {doc.title}")
    return ok


def _remove(assistant, doc_id: str) -> bool:
    """By id only, as the HTTP DELETE: a title or a path can name several documents, so it removes none."""
    from app.documents import remove_document
    from core.errors import AmbiguousDocument, DocumentNotFound

    try:
        record = remove_document(assistant, doc_id)
    except AmbiguousDocument as err:
        return _refuse(doc_id, err.choices)
    except DocumentNotFound:
        named = documents_from_file(assistant, doc_id)
        if named:
            return _refuse(doc_id, [{"id": d.doc_id, "title": d.title, "source": d.source} for d in named])
        print(f"not found: {doc_id}", file=sys.stderr)
        return False
    print(f"removed: {record.doc_id} ({record.title or record.source})")
    return True


def documents_from_file(assistant, path: str) -> list:
    """The documents ingested from this file (a .jsonl gives several), to name them when a path is given."""
    from ingest.loaders import doc_id_for

    try:
        resolved = str(Path(path).resolve())
    except (ValueError, OSError):  # a NUL byte, a symlink loop: not a path
        return []
    prefixes = (path + "#", resolved + "#")
    return [d for d in assistant.documents() if d.doc_id == doc_id_for(resolved) or d.source.startswith(prefixes)]


def _refuse(given: str, choices: list[dict]) -> bool:
    """Say which documents a name matches, with the ids to remove them by; nothing is removed."""
    print(f"not removed: {given!r} is not a document id but names {len(choices)} document(s); "
          f"remove by id:", file=sys.stderr)
    for choice in choices:
        print(f"  {choice['id']}  {choice['title'] or '-'}  ({choice['source']})", file=sys.stderr)
    return False


if __name__ == "__main__":
    raise SystemExit(main())
