"""The chat service says when a slow step starts, so the page can show it, and other consumers ignore it."""
from __future__ import annotations


def test_a_follow_up_announces_its_rewrite_and_the_search_before_the_passages(rice_service):
    from app.events import Retrieved, Stage

    service = rice_service()
    events = list(service.stream("Dan harganya pekan lalu?", [("Berapa harga beras?", "Rp 11.200 [1].")]))
    stages = [e.name for e in events if isinstance(e, Stage)]
    retrieved_at = next(i for i, e in enumerate(events) if isinstance(e, Retrieved))
    assert stages == ["rewriting", "searching"]
    assert all(isinstance(e, Stage) for e in events[:retrieved_at])


def test_a_first_question_starts_with_the_passages(rice_service):
    from app.events import Retrieved

    events = list(rice_service().stream("Berapa harga beras medium di Pasar Cipinang?"))
    assert isinstance(events[0], Retrieved)


def test_the_one_piece_answer_skips_the_stages(rice_service):
    answer = rice_service().ask("Dan harganya pekan lalu?", [("Berapa harga beras?", "Rp 11.200 [1].")])
    assert answer.text
