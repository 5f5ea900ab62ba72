"""A model on loopback for the benchmarks: the OpenAI chat-completions protocol, answering after
a fixed delay, on one asyncio loop (thousands of requests waiting at once cost nothing).

Each request is counted with its prompt tokens (about four characters each, what the answer's
`usage` reports too); a request whose client goes away before the answer (a reply cancelled by a
newer message) is counted apart, with the tokens it would have cost.

    python bench/model_server.py --port 8799 --delay 1.5      # alone, for a manual run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import threading
import time
from dataclasses import dataclass


@dataclass
class Counts:
    answered: int = 0
    aborted: int = 0
    prompt_tokens: int = 0
    aborted_prompt_tokens: int = 0
    completion_tokens: int = 0


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


class ModelServer:
    def __init__(self, port: int, delay: float) -> None:
        self.port, self.delay = port, delay
        self.counts = Counts()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                body = json.loads(await reader.readexactly(length)) if length else {}
                if head.startswith(b"GET /counts"):  # what the benchmark reads at the end of a level
                    await self._reply(writer, json.dumps(self.counts.__dict__).encode())
                    continue
                prompt = _tokens(json.dumps(body.get("messages", []), ensure_ascii=False))
                # Wait the model's time, unless the client goes away meanwhile.
                gone = asyncio.ensure_future(reader.read(1))
                done, _ = await asyncio.wait({gone}, timeout=self.delay)
                if done:
                    gone.exception()  # retrieved: a reset connection is no error here
                    self.counts.aborted += 1
                    self.counts.aborted_prompt_tokens += prompt
                    return
                gone.cancel()
                text = "Merci pour votre message ! Nos articles sont disponibles, que cherchez-vous ?"
                completion = _tokens(text)
                self.counts.answered += 1
                self.counts.prompt_tokens += prompt
                self.counts.completion_tokens += completion
                payload = json.dumps({
                    "id": f"chatcmpl-{time.monotonic_ns()}", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model", "bench/model"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                              "total_tokens": prompt + completion, "cost": 0},
                }).encode()  # fmt: skip
                await self._reply(writer, payload)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError):
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    @staticmethod
    async def _reply(writer: asyncio.StreamWriter, payload: bytes) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        await writer.drain()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, backlog=4096)
        self._ready.set()
        async with server:
            await self._stop.wait()

    def start(self) -> ModelServer:
        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._serve())

        self._thread = threading.Thread(target=run, daemon=True, name="model-server")
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("The model server did not start.")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--delay", type=float, default=1.5)
    args = parser.parse_args()
    server = ModelServer(args.port, args.delay).start()
    print(f"Model on {server.base_url}, answering after {args.delay:g} s; GET /counts; Ctrl-C to stop", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
        print(server.counts)


if __name__ == "__main__":
    main()
