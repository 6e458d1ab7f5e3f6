"""A real HTTP server on 127.0.0.1 for the tests: records every request and answers from a script."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Recorder:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    #: (status, headers, body) answered in turn; the last one repeats.
    answers: list[tuple[int, dict[str, str], bytes]] = field(default_factory=lambda: [(204, {}, b"")])
    changed: threading.Condition = field(default_factory=threading.Condition)
    #: When set, answers each request instead of ``answers``.
    respond: Callable[[Recorded], tuple[int, dict[str, str], bytes]] | None = None

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Recorded]:
        """Waits until ``count`` requests arrived (the state asserted, not a sleep)."""
        return self.wait_until(lambda requests: len(requests) >= count, f"{count} requests", timeout)

    def wait_until(
        self, condition: Callable[[list[Recorded]], bool], what: str, timeout: float = 30.0
    ) -> list[Recorded]:
        """Waits until the requests received satisfy ``condition``."""
        with self.changed:
            if not self.changed.wait_for(lambda: condition(self.requests), timeout):
                raise AssertionError(f"not seen within {timeout} s: {what} ({len(self.requests)} requests)")
            return list(self.requests)


@contextmanager
def recording_server() -> Iterator[Recorder]:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            request = Recorded(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            with recorder.changed:
                if recorder.respond is not None:
                    status, headers, answer = recorder.respond(request)
                else:
                    status, headers, answer = recorder.answers[min(len(recorder.requests), len(recorder.answers) - 1)]
                recorder.requests.append(request)
                recorder.changed.notify_all()
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
