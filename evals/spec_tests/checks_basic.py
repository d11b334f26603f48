"""The endpoints themselves and the request fields every client sets: models, completions and
chat (streamed and not), max_tokens, stop and n."""

from __future__ import annotations

from evals.spec_tests.stream import StreamReply
from evals.spec_tests.suite import (
    CHAT,
    COMPLETIONS,
    MESSAGES,
    PROMPT,
    Suite,
    first_choice,
    text_of,
    usage_of,
)
from evals.spec_tests.verdict import expect

Evidence = dict[str, object]
FINISHED = ("stop", "length")
COUNT_PROMPT = "Count from 1 to 20: 1, 2, 3,"
COUNT_MESSAGES = [{"role": "user", "content": "Count from 1 to 10, separated by commas."}]
STOP = " 6"


def models_list(suite: Suite) -> Evidence:
    """The server lists the model the run expects (the spec's, or `served_model=`'s), not just
    some model: the requests' own name is never taken from this list."""
    reply = suite.client.get("/v1/models")
    expect(reply.ok, f"GET /v1/models answered HTTP {reply.status_code}")
    ids = [entry.get("id") for entry in reply.json().get("data", [])]
    model = suite.client.model
    expect(model in ids, f"the server does not list {model!r}: GET /v1/models lists {ids}")
    return {"expected": model, "ids": ids}


def completions(suite: Suite) -> Evidence:
    answer = suite.complete(temperature=0)
    choice, usage = first_choice(answer), usage_of(answer)
    expect(bool(text_of(answer)), "the completion's text is empty", {"answer": answer})
    expect(
        choice.get("finish_reason") in FINISHED, f"finish_reason {choice.get('finish_reason')!r}"
    )
    expect(
        usage.get("prompt_tokens", 0) > 0, f"usage.prompt_tokens is {usage.get('prompt_tokens')}"
    )
    return {"sent": PROMPT, "text": text_of(answer), "usage": usage}


def chat(suite: Suite) -> Evidence:
    answer = suite.chat(temperature=0)
    message = first_choice(answer).get("message") or {}
    expect(message.get("role") == "assistant", f"message role {message.get('role')!r}")
    expect(bool(text_of(answer)), "the chat answer's content is empty", {"answer": answer})
    return {"sent": MESSAGES[0]["content"], "text": text_of(answer), "usage": usage_of(answer)}


def streamed(reply: StreamReply) -> Evidence:
    expect(bool(reply.text), f"the stream carried no text in {reply.events} events")
    expect(reply.finish_reason in FINISHED, f"the stream's finish_reason {reply.finish_reason!r}")
    return {"events": reply.events, "text": reply.text, "finish_reason": reply.finish_reason}


def completions_stream(suite: Suite) -> Evidence:
    return streamed(suite.client.stream(COMPLETIONS, {"prompt": PROMPT, "max_tokens": 16}))


def chat_stream(suite: Suite) -> Evidence:
    return streamed(suite.client.stream(CHAT, {"messages": MESSAGES, "max_tokens": 16}))


def response_model(suite: Suite) -> Evidence:
    """Every completions and chat answer, streamed (each chunk) or not, names in `model` the
    model the run expects, exactly as /v1/models must list it: a server, or a proxy before it,
    that lists the expected model and answers as another fails."""
    expected, asked = suite.client.model, {"max_tokens": 4, "temperature": 0}
    named: dict[str, list[object]] = {
        "completions": [suite.complete(**asked).get("model")],
        "chat": [suite.chat(**asked).get("model")],
        "completions_stream": suite.client.stream(COMPLETIONS, {"prompt": PROMPT, **asked}).models,
        "chat_stream": suite.client.stream(CHAT, {"messages": MESSAGES, **asked}).models,
    }
    wrong = {name: models for name, models in named.items() if models != [expected]}
    others = {_said(m) for models in wrong.values() for m in models or [None]} - {repr(expected)}
    expect(
        not wrong,
        f"the server lists {expected!r} but answered as {', '.join(sorted(others))} "
        f"({', '.join(wrong)})",
        {"expected": expected, "named": named},
    )
    return {"expected": expected, "named": named}


def _said(model: object) -> str:
    return "no model" if model is None else repr(model)


def max_tokens_exact(suite: Suite) -> Evidence:
    """With EOS ignored, exactly max_tokens come back, on both endpoints."""
    sent = suite.eos_ignored(24)
    counts = {
        "completions": usage_of(suite.complete(temperature=0, **sent))["completion_tokens"],
        "chat": usage_of(suite.chat(temperature=0, **sent))["completion_tokens"],
    }
    wrong = {name: n for name, n in counts.items() if n != 24}
    expect(not wrong, f"max_tokens 24 with EOS ignored gave completion_tokens {wrong}", counts)
    return {"sent": sent, "completion_tokens": counts}


def stop_sequences(suite: Suite) -> Evidence:
    """A counting prompt runs into " 6": the text must end before it, finish_reason "stop"."""
    asked = {"max_tokens": 24, "temperature": 0, "stop": [STOP]}
    answers = {
        "completions": suite.client.post(COMPLETIONS, {"prompt": COUNT_PROMPT, **asked}),
        "chat": suite.client.post(CHAT, {"messages": COUNT_MESSAGES, **asked}),
    }
    seen = {name: (text_of(a), first_choice(a).get("finish_reason")) for name, a in answers.items()}
    for name, (text, finish) in seen.items():
        expect(STOP not in text, f"{name}: the text contains the stop string {STOP!r}: {text!r}")
        expect(finish == "stop", f"{name}: finish_reason {finish!r}, not 'stop' ({text!r})")
    return {"stop": STOP, "answers": {name: list(pair) for name, pair in seen.items()}}


def n_choices(suite: Suite) -> Evidence:
    counts = {
        "completions": len(suite.complete(n=2, temperature=0.8)["choices"]),
        "chat": len(suite.chat(n=2, temperature=0.8)["choices"]),
    }
    wrong = {name: n for name, n in counts.items() if n != 2}
    expect(not wrong, f"n=2 gave these numbers of choices: {wrong}", counts)
    return {"choices": counts}
