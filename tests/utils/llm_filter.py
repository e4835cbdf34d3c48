"""Real parts for the LLM filter's tests, nothing downloaded: a tiny causal LM built offline
(a byte-level BPE tokenizer trained on a few sentences with ``tokenizers``, a one-layer GPT-2
with seeded random weights, saved with ``save_pretrained``) and a real HTTP server answering
the chat-completions API from a script."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CORPUS = [
    "allow",
    "refuse: sexual, minors, violence_gore, self_harm, hate_symbols",
    "refuse: illegal_activity, election_deception, public_figures, ip",
    "You are the content-policy reviewer of a text-to-video service.",
    "The prompt asks for graphic violence or gore. Referral: borderline. Language: tr",
    "a horror film monster attacking a village; Bir köpek yavrusu karlı bir parkta oynuyor",
]


def build_tiny_lm(directory: Path, *, seed: int = 0) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=["<|endoftext|>"],
        show_progress=False,
    )
    tokenizer.train_from_iterator(CORPUS, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token="<|endoftext|>", pad_token="<|endoftext|>"
    )
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(fast),
        n_positions=4096,
        n_embd=32,
        n_layer=1,
        n_head=2,
        eos_token_id=fast.eos_token_id,
        bos_token_id=fast.eos_token_id,
    )
    model = GPT2LMHeadModel(config)
    directory.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(directory)
    model.save_pretrained(directory)
    return directory


class ChatServer:
    """Answers ``POST /chat/completions`` with the next scripted (status, content, delay_s)."""

    def __init__(self) -> None:
        self.script: list[tuple[int, str, float]] = []
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                status, content, delay = (
                    server.script.pop(0)
                    if server.script
                    else (200, '{"verdict": "allow", "category": null, "rationale": "fine"}', 0.0)
                )
                time.sleep(delay)
                if status == 200 and not content.startswith("RAW:"):
                    payload = json.dumps(
                        {"choices": [{"message": {"role": "assistant", "content": content}}]}
                    ).encode()
                else:
                    payload = content.removeprefix("RAW:").encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (the timeout case)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def answer(self, content: str, status: int = 200, delay_s: float = 0.0) -> None:
        self.script.append((status, content, delay_s))


@contextmanager
def running_chat_server() -> Iterator[ChatServer]:
    server = ChatServer()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
