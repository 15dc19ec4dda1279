"""Chat latency: sources, first token, tokens/s and total through ChatService, against raw llama.cpp.

Run from the repository root: ``.venv/bin/python bench/chat.py`` (10 questions, 5 English and 5
Indonesian, two of them unanswerable, about samples/articles/eu-japan-ai-semiconductors.txt; ``--limit N``).
The ChatService is the project's own, built as ``Assistant.chat_service`` builds it, except that the
chat model is wrapped by a pass-through recorder that notes the exact messages and when each streamed
piece arrived (``Assistant.stream``'s answer-slot queue is not in the path: one user, never waits). After all questions, each final prompt is sent again, unchanged, straight to the same
llama.cpp server (plain HTTP streaming, no LangChain) with ``cache_prompt: false``, so llama.cpp's
prompt cache cannot serve it from the service's run: its first token is pure prompt processing.
Tokens are the streamed pieces with text (llama.cpp sends one token per piece); decode tokens/s is
(tokens - 1) / (last piece - first piece).
"""
from __future__ import annotations

import json
import time

from common import (SAMPLE_ARTICLE, Timer, base_parser, bench_settings, machine, models_dir, percentiles_ms,
                    print_table, rate, ratio, settings_summary, work_dir, write_json)

QUESTIONS = [  # (language, answerable, question)
    ("en", True, "Why is the EU seeking closer ties with Japan on technology?"),
    ("id", True, "Siapa Komisaris UE yang akan membahas AI dengan pemerintah Jepang?"),
    ("en", True, "What will the EU-Japan Digital Partnership Council work on?"),
    ("id", True, "Mengapa semikonduktor penting bagi model AI?"),
    ("en", False, "Who won the 2022 FIFA World Cup?"),
    ("id", False, "Berapa harga beras medium di Pasar Cipinang pekan ini?"),
    ("en", True, "How much is the proposed acquisition of the Japanese chipmaker JSR worth?"),
    ("id", True, "Dengan negara mana UE membentuk dewan serupa minggu lalu?"),
    ("en", True, "Which Dutch company was named in connection with new export restrictions?"),
    ("id", True, "Apa perbedaan pendekatan Uni Eropa dan AS terhadap Tiongkok?"),
]
TARGETS = {"sources_ms": 200, "first_token_s": 3.0, "generation_vs_raw": 0.95, "gate_s": 0.5, "check_s": 0.5,
           "total_s": 8.0}
PIPELINES = {"checker": {}, "chat-claim-judge": {"rerank": "off", "answer_judge": "off", "claim_judge": "chat",
                                                  "claim_judge_across_languages": "chat"}}
ROLES = {"system": "system", "human": "user", "ai": "assistant"}


def parse_args(argv=None):
    parser = base_parser("chat", __doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="first N of the 10 questions")
    parser.add_argument("--max-tokens", type=int, help="KABAR_LLM_MAX_TOKENS for this run (default: settings)")
    parser.add_argument("--model", help="KABAR_LLM_MODEL for this run (default: settings, the 1.5B model)")
    parser.add_argument("--pipeline", choices=sorted(PIPELINES), default="checker",
                        help="the trained checker's stages (default) or no trained stage, the chat model as claim judge")
    return parser.parse_args(argv)


class Recorder:
    """Pass-through chat model: the ChatService calls ``stream``; the messages and piece times are kept."""

    def __init__(self, model):
        self.model = model
        self.calls: list[dict] = []

    def stream(self, messages, **kwargs):
        call = {"messages": messages, "start": time.perf_counter(), "pieces": [], "text": ""}
        self.calls.append(call)
        for chunk in self.model.stream(messages, **kwargs):
            if isinstance(chunk.content, str) and chunk.content:
                call["pieces"].append(time.perf_counter())
                call["text"] += chunk.content
            yield chunk
        call["end"] = time.perf_counter()


def decode_rate(pieces: list[float]):
    return rate(len(pieces) - 1, pieces[-1] - pieces[0]) if len(pieces) > 1 else None


def ask(service, recorder: Recorder, question: str) -> dict:
    """One question through ChatService.stream, timing the events the user sees."""
    from app.chat import Answer, Retrieved, Token

    calls_before = len(recorder.calls)
    start = time.perf_counter()
    sources = first = None
    answer = None
    for event in service.stream(question):
        now = time.perf_counter() - start
        if isinstance(event, Retrieved) and sources is None:
            sources = now
        elif isinstance(event, Token) and first is None:
            first = now
        elif isinstance(event, Answer):
            answer = event
    total = time.perf_counter() - start
    call = recorder.calls[calls_before] if len(recorder.calls) > calls_before else None
    row = {"sources_s": round(sources, 4), "first_token_s": None if first is None else round(first, 3),
           "total_s": round(total, 3), "refused": answer.refused, "refused_before_llm": call is None,
           "cited": [s.number for s in answer.sources], "answer": answer.text, "language": answer.language}
    if call is not None:
        pieces = call["pieces"]
        row.update(gate_s=round(call["start"] - start - sources, 3),
                   llm_first_piece_s=round(pieces[0] - start, 3) if pieces else None, tokens=len(pieces),
                   decode_tok_s=decode_rate(pieces), llm_s=round(call["end"] - call["start"], 3),
                   verify_s=round(total - (call["end"] - start), 3), llm_text=call["text"])
    return row


def raw_payload(settings, messages) -> dict:
    """The request ChatOpenAI sends for these messages (same fields and values), plus usage in the stream
    and no prompt cache (the identical prompt was just processed by the service's run)."""
    return {"model": settings.llm_model_name, "stream": True, "temperature": settings.llm_temperature,
            "max_completion_tokens": settings.llm_max_tokens, "frequency_penalty": settings.llm_frequency_penalty,
            "messages": [{"role": ROLES.get(m.type, m.type), "content": m.content} for m in messages],
            "stream_options": {"include_usage": True}, "cache_prompt": False}


def raw_stream(base_url: str, payload: dict, timeout: float) -> dict:
    """Stream one chat completion over plain HTTP; piece times, text, usage and llama.cpp's own timings."""
    import httpx

    pieces, text, tail = [], "", {}
    start = time.perf_counter()
    with httpx.stream("POST", base_url.rstrip("/") + "/chat/completions", json=payload, timeout=timeout) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            data = json.loads(line[6:])
            content = (data.get("choices") or [{}])[0].get("delta", {}).get("content")
            if content:
                pieces.append(time.perf_counter())
                text += content
            tail.update({k: data[k] for k in ("usage", "timings") if k in data})
    timings = tail.get("timings", {})
    total = time.perf_counter() - start
    return {"first_token_s": round(pieces[0] - start, 3) if pieces else None, "total_s": round(total, 3),
            "tokens": len(pieces), "decode_tok_s": decode_rate(pieces),
            "completion_tokens": tail.get("usage", {}).get("completion_tokens"),
            "prompt_tokens": tail.get("usage", {}).get("prompt_tokens"), "prompt_ms": timings.get("prompt_ms"),
            "server_predicted_per_s": timings.get("predicted_per_second"),
            "text": text}


def build(settings):
    """The Assistant (store, embedder, retriever) with the sample article, and a recorded ChatService."""
    from app.api import Assistant, judges_for
    from app.chat import ChatService
    from core.llm import make_chat_backend

    assistant = Assistant(settings)
    report = assistant.ingest([SAMPLE_ARTICLE])
    with Timer() as warm:
        assistant.retriever.retrieve("warm up")
        backend = make_chat_backend(settings)
    recorder = Recorder(backend.model)  # the judges' one-token calls go to the model itself, unrecorded
    service = ChatService(settings, assistant.retriever, assistant.embeddings, recorder,
                          llm_description=f"The chat model at {backend.base_url}",
                          **judges_for(settings, backend.model, assistant.checker))
    return assistant, backend, recorder, service, {"chunks": report.chunks_written, "warm_up_s": round(warm.seconds, 2)}


def summarise(rows: list[dict]) -> dict:
    generated = [r for r in rows if r.get("tokens", 0) > 1 and r.get("raw")]

    def pooled(get) -> float | None:  # all tokens over all decode time
        tokens = sum(get(r)["tokens"] - 1 for r in generated)
        seconds = sum((get(r)["tokens"] - 1) / get(r)["decode_tok_s"] for r in generated if get(r)["decode_tok_s"])
        return rate(tokens, seconds)

    service_rate, raw_rate = pooled(lambda r: r), pooled(lambda r: r["raw"])
    return {"sources": percentiles_ms([r["sources_s"] for r in rows]),
            "first_token": percentiles_ms([r["first_token_s"] for r in rows if r["first_token_s"] is not None]),
            "total": percentiles_ms([r["total_s"] for r in rows]),
            "check": percentiles_ms([r["verify_s"] for r in rows if r.get("verify_s") is not None]),
            "gate": percentiles_ms([r["gate_s"] for r in rows if r.get("gate_s") is not None]),
            "raw_first_token": percentiles_ms([r["raw"]["first_token_s"] for r in generated
                                               if r["raw"]["first_token_s"] is not None]),
            "decode_tok_s": service_rate, "raw_decode_tok_s": raw_rate,
            "generation_vs_raw": ratio(service_rate, raw_rate),
            "same_text_as_raw": sum(r["llm_text"] == r["raw"]["text"] for r in generated), "compared": len(generated)}


def run(args) -> dict:
    started = machine()  # date and load average before the work starts
    overrides = {k: v for k, v in (("llm_max_tokens", args.max_tokens), ("llm_model", args.model)) if v}
    overrides.update(PIPELINES[args.pipeline])
    questions = QUESTIONS[: args.limit] if args.limit else QUESTIONS
    with work_dir(args, "chat") as folder:
        settings = bench_settings(folder / "data", models_dir(args), **overrides)
        assistant, backend, recorder, service, setup = build(settings)
        try:
            rows = [{"question": q, "expected_language": lang, "answerable": ok, **ask(service, recorder, q)}
                    for lang, ok, q in questions]
            for row, call in zip((r for r in rows if not r["refused_before_llm"]), recorder.calls):
                payload = raw_payload(settings, call["messages"])
                row["raw"] = raw_stream(backend.base_url, payload, settings.llm_timeout_s)
        finally:
            backend.close()
            assistant.close()
    return {"benchmark": "chat", "machine": started, "settings": settings_summary(settings), "setup": setup,
            "method": " ".join(__doc__.split("\n\n", 1)[1].split()), "summary": summarise(rows),
            "questions": rows, "targets": TARGETS}


def show(result: dict) -> None:
    rows = []
    for r in result["questions"]:
        raw = r.get("raw", {})
        rows.append([r["question"][:48], r["language"], "refused" if r["refused"] else f"cites {r['cited']}",
                     round(r["sources_s"] * 1000, 1), r["first_token_s"], r.get("tokens"), r.get("decode_tok_s"),
                     raw.get("decode_tok_s"), r.get("verify_s"), r["total_s"]])
    machine_ = result["machine"]
    print_table(f"Chat ({result['settings'].get('llm_model')}), {machine_['cpu_count']} CPUs, {machine_['date']}",
                ["question", "lang", "answer", "sources ms", "1st token s", "tokens", "tok/s", "raw tok/s", "check s",
                 "total s"],
                rows, caption=caption(result["summary"]))


def caption(s: dict) -> str:
    def p50_p95(key: str, scale: float = 1000) -> str:
        return "/".join(str(None if s[key][p] is None else round(s[key][p] / scale, 2)) for p in ("p50_ms", "p95_ms"))

    return (f"p50/p95: sources {p50_p95('sources', 1)} ms, answerability and prompt {p50_p95('gate')} s, "
            f"first token {p50_p95('first_token')} s (raw llama.cpp, "
            f"no prompt cache: {p50_p95('raw_first_token')} s), checking after the draft "
            f"{p50_p95('check')} s, total {p50_p95('total')} s; decode "
            f"{s['decode_tok_s']} tok/s vs raw llama.cpp {s['raw_decode_tok_s']} (ratio {s['generation_vs_raw']}). "
            "Targets: sources <= 200 ms, answerability <= 0.5 s, first token <= 3 s, checking <= 0.5 s, "
            "whole answer <= 8 s, generation >= 0.95x raw.")


def main(argv=None) -> int:
    args = parse_args(argv)
    result = run(args)
    show(result)
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
