"""A minimal Trino coordinator speaking the client protocol (POST /v1/statement, then GET the
nextUri pages), for testing how DAG tasks react to Trino's answers without a Trino server.

Each statement is answered by `responder(sql) -> Answer`. An answer can fail right away (as a bad
DDL statement does), or after its first page of rows (as a query that fails while its results are
still being produced): the trino client only sees the latter if the results are read to the end.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer

from tests.http_fakes import JsonHandler


@dataclass
class Answer:
    columns: list[tuple[str, str]] = field(default_factory=list)  # (name, trino type)
    rows: list[list] = field(default_factory=list)
    error: str | None = None
    fail_after_first_page: bool = False  # else a failure comes before any row
    update_type: str | None = None


def ok_ddl(update_type: str = "CREATE VIEW") -> Answer:
    return Answer(update_type=update_type)


class FakeTrino:
    def __init__(self, responder: Callable[[str], Answer]):
        self.responder = responder
        self.statements: list[str] = []
        self._queries: dict[str, tuple[Answer, list[dict]]] = {}
        self._ids = itertools.count(1)
        fake = self

        class Handler(JsonHandler):

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                sql = self.rfile.read(length).decode()
                self.send_json(fake._start(sql))

            def do_GET(self):  # noqa: N802
                parts = self.path.strip("/").split("/")  # v1/statement/executing/<id>/<page>
                self.send_json(fake._page(parts[-2], int(parts[-1])))

            def do_DELETE(self):  # noqa: N802
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeTrino:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- protocol -------------------------------------------------------------------------------

    def _base(self, query_id: str, state: str) -> dict:
        return {"id": query_id, "infoUri": f"{self.url}/ui/query.html?{query_id}",
                "stats": {"state": state, "queued": state == "QUEUED", "scheduled": True,
                          "nodes": 1, "totalSplits": 1, "queuedSplits": 0, "runningSplits": 0,
                          "completedSplits": 1, "cpuTimeMillis": 1, "wallTimeMillis": 1,
                          "queuedTimeMillis": 1, "elapsedTimeMillis": 1, "processedRows": 0,
                          "processedBytes": 0, "peakMemoryBytes": 0, "spilledBytes": 0},
                "warnings": []}

    def _next(self, query_id: str, page: int) -> str:
        return f"{self.url}/v1/statement/executing/{query_id}/{page}"

    def _start(self, sql: str) -> dict:
        self.statements.append(sql)
        query_id = f"fake_{next(self._ids)}"
        answer = self.responder(sql)
        pages: list[dict] = []
        columns = [{"name": n, "type": t, "typeSignature": {"rawType": t, "arguments": []}}
                   for n, t in answer.columns]
        error = {"message": answer.error, "errorCode": 1, "errorName": "GENERIC_USER_ERROR",
                 "errorType": "USER_ERROR", "failureInfo": {"type": "io.trino.spi.TrinoException",
                                                             "message": answer.error, "stack": [],
                                                             "suppressed": []}}
        if answer.error and not answer.fail_after_first_page:
            pages.append({**self._base(query_id, "FAILED"), "error": error})
        else:
            first = {**self._base(query_id, "RUNNING"), "nextUri": self._next(query_id, 2)}
            if columns:
                first["columns"] = columns
                first["data"] = answer.rows[:1] if answer.fail_after_first_page else answer.rows
            pages.append(first)
            last = self._base(query_id, "FAILED" if answer.error else "FINISHED")
            if answer.error:
                last["error"] = error
            if columns:
                last["columns"] = columns
            if answer.update_type:
                last["updateType"] = answer.update_type
            pages.append(last)
        self._queries[query_id] = (answer, pages)
        return {**self._base(query_id, "QUEUED"), "nextUri": self._next(query_id, 1)}

    def _page(self, query_id: str, page: int) -> dict:
        return self._queries[query_id][1][page - 1]
