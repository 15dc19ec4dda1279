"""An answer run that is stopped part-way still leaves every answer it had made, one JSON line each."""
from __future__ import annotations

import json
from pathlib import Path

from eval.__main__ import progress_path
from eval.runner import QuestionRecord, keep_record


def test_progress_file_sits_beside_the_json_output():
    assert progress_path(Path("out/idk.json")) == Path("out/idk.json.progress.jsonl")
    assert progress_path(None) is None


def test_each_answered_record_is_appended_as_one_line_naming_its_run(tmp_path):
    path = tmp_path / "idk.json.progress.jsonl"
    first = QuestionRecord("q1", "Siapa?", True, "d1", answer="Breton [1]", refused=False,
                           claims=[("Breton [1]", 0.47)])
    second = QuestionRecord("q2", "Kapan?", False, None, answer="Tidak disebutkan.", refused=True)
    keep_record(path, "idk_mrc/kabar-hybrid", first)
    keep_record(path, "idk_mrc/kabar-hybrid", second)
    keep_record(None, "idk_mrc/kabar-hybrid", second)  # no --json: nothing is written anywhere
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["qid"] for line in lines] == ["q1", "q2"]
    assert lines[0]["run"] == "idk_mrc/kabar-hybrid"
    assert lines[0]["claims"] == [["Breton [1]", 0.47]] and lines[1]["refused"] is True
