"""Feedback on answers: the JSONL store, the web page's adapter, conversation names, and the eval review."""
from __future__ import annotations

import json
import threading

import pytest

from app.feedback import BadFeedback, FeedbackStore, make_feedback, read_feedback

SOURCES = ("\n\n<details class='kabar-answer-sources'><summary>Sources (2)</summary><div class='kabar-sources'>"
           "<div class='kabar-article'><div class='kabar-article-title'><strong>Harga Beras &amp; Gula</strong>"
           "<span class='kabar-facts'> Kompas</span></div><div class='kabar-card kabar-cited' id='source-a2-1'>"
           "<span class='kabar-number'>[1]</span> <span class='kabar-passage'>x</span></div>"
           "<div class='kabar-card kabar-cited' id='source-a2-3'><span class='kabar-number'>[3]</span> "
           "<span class='kabar-passage'>y</span></div></div></div></details>")
HISTORY = [{"role": "user", "content": [{"type": "text", "text": "Berapa harga beras?"}]},
           {"role": "assistant", "content": "Rp 11.200 [[1]](#source-a1-1)."},
           {"role": "user", "content": "Dan gula?"},
           {"role": "assistant", "content": "Naik [[1]](#source-a2-1) [[3]](#source-a2-3)." + SOURCES}]


def test_concurrent_appends_from_threads_lose_nothing(tmp_path):
    store, path = FeedbackStore(tmp_path / "feedback.jsonl"), tmp_path / "feedback.jsonl"

    def write(worker: int) -> None:
        for n in range(50):  # a long answer makes a line bigger than one small write
            store.add(make_feedback("down" if n % 2 else "up", f"q{worker}-{n}", "jawaban " * 500))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 400 and all(json.loads(line)["answer"].startswith("jawaban") for line in lines)
    assert {item.question for item in store.read()} == {f"q{w}-{n}" for w in range(8) for n in range(50)}


@pytest.mark.parametrize("kwargs, message", [
    ({"vote": "meh"}, "vote must be one of up, down"),
    ({"question": "  "}, "question is empty"),
    ({"question": 3}, "question must be text"),
    ({"comment": "x" * 2001}, "comment is 2001 characters; at most 2000"),
    ({"sources": "[1]"}, "sources must be a list of objects"),
    ({"conversation": [("only one",)]}, "conversation must be a list of question/answer pairs"),
])
def test_bad_feedback_is_refused_with_a_clear_message(kwargs, message):
    given = {"vote": "up", "question": "Why?", "answer": "Because.", **kwargs}
    with pytest.raises(BadFeedback, match=message):
        make_feedback(**given)


def test_a_later_comment_supersedes_its_vote_and_bad_lines_are_skipped(tmp_path, caplog):
    store = FeedbackStore.in_data_dir(tmp_path / "data")
    first = store.add(make_feedback("down", "Why?", "No idea."))
    store.add(make_feedback("up", "How?", "Thus.", conversation=[("Why?", "No idea.")]))
    with open(store.path, "a", encoding="utf-8") as out:
        out.write("{not json\n")
    store.comment(first, "  wrong outlet  ")
    items = read_feedback(store.path)
    assert [(i.question, i.comment) for i in items] == [("Why?", "wrong outlet"), ("How?", "")]
    assert items[1].conversation == [{"question": "Why?", "answer": "No idea."}]
    assert "line 3 skipped" in caplog.text


def test_a_thumbs_down_in_the_page_records_question_answer_cited_cards_and_earlier_turns():
    from app.web_feedback import feedback_from_like

    item = feedback_from_like(HISTORY, 3, False, "")
    assert (item.vote, item.question, item.answer) == ("down", "Dan gula?", "Naik [1] [3].")
    assert item.sources == [{"number": 1, "title": "Harga Beras & Gula"}, {"number": 3, "title": "Harga Beras & Gula"}]
    assert item.conversation == [{"question": "Berapa harga beras?", "answer": "Rp 11.200 [1]."}]
    assert feedback_from_like(HISTORY, 1, "Like").vote == "up"
    assert feedback_from_like(HISTORY, 1, "") is None, "a vote taken back writes nothing"
    assert feedback_from_like(HISTORY, 9, True) is None


def test_conversation_names_follow_the_conversation_not_its_place_in_the_list():
    from app.web_history import conversation_key, renamed_titles

    other = [{"role": "user", "content": "Lain?"}, {"role": "assistant", "content": "Ya."}]
    titles = renamed_titles("  Beras   dan gula ", 0, [HISTORY], {"gone": "deleted one"})
    assert titles == {conversation_key(HISTORY): "Beras dan gula"}, "names of deleted conversations dropped"
    assert conversation_key(HISTORY) == conversation_key(HISTORY[:2]), "stable as the conversation grows"
    moved = renamed_titles("Lain", 0, [other, HISTORY], titles)
    assert moved[conversation_key(HISTORY)] == "Beras dan gula" and moved[conversation_key(other)] == "Lain"
    assert renamed_titles("", 1, [other, HISTORY], moved) == {conversation_key(other): "Lain"}
    assert renamed_titles("x", None, [HISTORY], {}) is None


def test_the_eval_review_counts_votes_lists_thumbs_down_and_reasks_them(tmp_path, capsys):
    from types import SimpleNamespace

    from eval.__main__ import main
    from eval.review import reask, render_review, tally

    store = FeedbackStore(tmp_path / "feedback.jsonl")
    down = store.add(make_feedback("down", "Dan gula?", "Naik [1].", [{"number": 1, "title": "Harga Gula"}],
                                   "wrong price", [("Berapa harga beras?", "Rp 11.200 [1].")]))
    store.add(make_feedback("up", "Berapa harga beras?", "Rp 11.200 [1]."))
    items = read_feedback(store.path)
    assert tally(items) == {"count": 2, "up": 1, "down": 1, "share_down": 0.5}
    asked = []

    class Today:
        def ask(self, question, history):
            asked.append((question, history))
            return SimpleNamespace(text="Naik menjadi Rp 18.000 [1].", refused=False)

    today = reask(items, Today())
    assert asked == [("Dan gula?", [("Berapa harga beras?", "Rp 11.200 [1].")])] and today[down.id]["changed"]
    table = render_review(items, today)
    assert "2 votes, 1 up, 1 down (50% down)" in table and "| Dan gula? | wrong price | [1] Harga Gula |" in table
    assert "changed: Naik menjadi Rp 18.000 [1]." in table
    assert main(["--feedback", str(store.path)]) == 0
    assert "2 votes" in capsys.readouterr().out
    assert main(["--feedback", str(tmp_path / "none.jsonl")]) == 1


def test_the_browser_keeps_conversations_under_a_fixed_key_a_restarted_server_can_read():
    from pathlib import Path
    from unittest.mock import MagicMock

    from app.web import build_ui
    from app.web_history import BROWSER_KEY, HISTORY_KEY, TITLES_KEY

    assistant = MagicMock()
    assistant.settings.data_dir = Path("/nonexistent/kabar")
    for _ in range(2):  # two starts of the server
        kept = {(b.storage_key, b.secret) for b in build_ui(assistant).blocks.values() if hasattr(b, "storage_key")}
        assert kept == {(HISTORY_KEY, BROWSER_KEY), (TITLES_KEY, BROWSER_KEY)}


def test_an_api_client_posts_feedback_beside_the_pages_and_bad_bodies_get_openai_errors(unit_settings):
    from fastapi.testclient import TestClient

    from tests.unit.test_unit_http_guard import LOCAL, api_for

    client = TestClient(api_for(unit_settings), base_url=LOCAL)
    body = {"vote": "down", "question": "Dan gula?", "answer": "Naik [1].", "comment": "old price",
            "sources": [{"number": 1, "id": "c3"}], "conversation": [{"question": "Beras?", "answer": "Turun."}]}
    reply = client.post("/v1/feedback", json=body)
    assert reply.status_code == 201 and reply.json()["vote"] == "down"
    [item] = read_feedback(unit_settings.data_dir / "feedback.jsonl")
    assert (item.id, item.comment, item.conversation) == (reply.json()["id"], "old price",
                                                          [{"question": "Beras?", "answer": "Turun."}])
    for bad, words in (({**body, "vote": "meh"}, "vote"), ({**body, "question": " "}, "question is empty")):
        refused = client.post("/v1/feedback", json=bad)
        assert refused.status_code == 400 and words in refused.json()["error"]["message"]


def test_a_conversation_saved_again_after_new_chat_replaces_its_earlier_copy():
    from app.web_history import extended_index

    other = [{"role": "user", "content": "Lain?"}, {"role": "assistant", "content": "Ya."}]
    assert extended_index(HISTORY, [other, HISTORY[:2]]) == 1, "continues the second"
    assert extended_index(HISTORY, [other, HISTORY]) == 1, "the same one again"
    assert extended_index(HISTORY[:2], [HISTORY]) is None, "a new chat with the same first question is new"
    assert extended_index(HISTORY, []) is None


def test_an_empty_chat_is_not_saved(tmp_path):
    import gradio as gr

    from app.web_history import KabarChat
    from app.web_labels import LABELS

    with gr.Blocks():
        chat = KabarChat(fn=lambda message, history: "ok", labels=gr.I18n(**LABELS))
    assert chat._save_conversation(None, [], [HISTORY], None) == (None, [HISTORY])


def test_with_a_login_the_server_keeps_each_users_conversations_and_names(tmp_path):
    from types import SimpleNamespace

    import gradio as gr

    from app.conversations import ConversationStore
    from app.web_history import KabarChat
    from app.web_labels import LABELS

    store = ConversationStore(tmp_path)
    with gr.Blocks():
        chat = KabarChat(fn=lambda message, history: "ok", labels=gr.I18n(**LABELS), store=store)
    ana, budi, nobody = (SimpleNamespace(username=name) for name in ("ana", "budi", None))
    assert chat._save_conversation(None, HISTORY, [], ana) == (0, [HISTORY])
    assert chat.restored(ana) == ([HISTORY], {}) and chat.restored(budi) == ([], {}), "each user their own"
    store.save("ana", titles={"k": "Harga pangan"})
    assert chat.restored(ana) == ([HISTORY], {"k": "Harga pangan"})
    chat._save_conversation(None, HISTORY[:2], [HISTORY], nobody)  # no login: the browser alone keeps it
    assert [p.name for p in (tmp_path / "conversations").iterdir()] == [store._path("ana").name]
    assert "ana" not in store._path("ana").name
    assert chat._delete_conversation(0, [HISTORY], ana) == (None, [])
    assert store.load("ana") == {"conversations": [], "titles": {"k": "Harga pangan"}}
    assert chat.restored(nobody) == (gr.skip(), gr.skip())
