"""``python -m eval --feedback [FILE]``: the votes people gave in the web page, read back as a review set;
``--reask`` asks the down-voted questions again through the public Assistant to see whether today's answer differs."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from app.feedback import FILE_NAME, Feedback, read_feedback


def default_path() -> Path:
    """Where the web page writes: KABAR_DATA_DIR/feedback.jsonl."""
    from core.settings import load_settings

    return load_settings().data_dir / FILE_NAME


def tally(items: list[Feedback]) -> dict:
    """Count, votes each way and the share of thumbs down (None with no votes)."""
    down = sum(item.vote == "down" for item in items)
    return {"count": len(items), "up": len(items) - down, "down": down,
            "share_down": round(down / len(items), 4) if items else None}


def _clip(text: str, width: int) -> str:
    """One table cell: a single line, cut with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render_review(items: list[Feedback], reasked: Optional[dict[str, dict]] = None) -> str:
    """The summary line, then one row per down-voted answer: time, question, comment (and today's answer)."""
    counts = tally(items)
    share = "-" if counts["share_down"] is None else f"{counts['share_down']:.0%}"
    lines = [f"Feedback review: {counts['count']} votes, {counts['up']} up, {counts['down']} down "
             f"({share} down)"]
    down = [item for item in items if item.vote == "down"]
    if down:
        header = "| time | question | comment | cited |" + (" today |" if reasked is not None else "")
        lines += ["", header, "|" + "---|" * header.count(" |")]
    for item in down:
        cited = ", ".join(f"[{s.get('number', '?')}] {s.get('title', '')}".strip() for s in item.sources)
        row = f"| {item.time[:16]} | {_clip(item.question, 60)} | {_clip(item.comment, 50) or '-'} | " \
              f"{_clip(cited, 40) or '-'} |"
        if reasked is not None:
            today = reasked.get(item.id, {})
            row += f" {'changed' if today.get('changed') else 'same'}: {_clip(today.get('answer', ''), 50)} |"
        lines.append(row)
    return "\n".join(lines)


def reask(items: list[Feedback], assistant) -> dict[str, dict]:
    """Today's answer to each down-voted question, with the same earlier turns; whether its text differs."""
    today = {}
    for item in items:
        if item.vote != "down":
            continue
        history = [(turn["question"], turn["answer"]) for turn in item.conversation]
        answer = assistant.ask(item.question, history)
        today[item.id] = {"answer": answer.text, "refused": answer.refused,
                          "changed": " ".join(answer.text.split()) != " ".join(item.answer.split())}
    return today


def main(path: Optional[Path], ask_again: bool = False) -> int:
    """Print the review table; exit 1 when there is no feedback file to read."""
    path = path or default_path()
    if not path.exists():
        print(f"no feedback file at {path}")
        return 1
    items = read_feedback(path)
    reasked = None
    if ask_again:
        from app.api import Assistant

        assistant = Assistant()
        try:
            reasked = reask(items, assistant)
        finally:
            assistant.close()
    print(render_review(items, reasked))
    return 0
