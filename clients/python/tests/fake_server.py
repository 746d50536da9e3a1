"""A scripted stand-in for the daemon's ingest endpoints: stdlib http.server on 127.0.0.1:0.

Each request is recorded; its answer is the next scripted one, or by default 200 with every NDJSON
line accepted, as the daemon answers. Thread-safe: handler threads and the test share it under a
lock.
"""

import http.server
import json
import threading
import time


class Request:
    def __init__(self, method, path, headers, body, peer=None):
        self.peer = peer  # the client's (host, port): one per connection
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body

    @property
    def lines(self):
        return [json.loads(line) for line in self.body.decode().splitlines() if line]


def accepted_answer(request):
    n = len(request.lines)
    return 200, {}, {'accepted': n, 'rejected': 0, 'errors': []}


class FakeServer:
    """`script` items: (status, headers, body dict or bytes), a callable(Request) -> such a tuple,
    or 'stall' (no answer until `release()`; the request still counts)."""

    def __init__(self):
        self.requests = []
        self.script = []
        self.default = accepted_answer
        self.close_after_response = False  # close keep-alive connections without saying so
        self._lock = threading.Lock()
        self._released = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get('Content-Length', 0))
                body = self.rfile.read(length)
                request = Request('POST', self.path, {k.lower(): v for k, v in self.headers.items()},
                                  body, self.client_address)
                with server._lock:
                    server.requests.append(request)
                    step = server.script.pop(0) if server.script else server.default
                if step == 'stall':
                    server._released.wait(30)
                    step = server.default
                if callable(step):
                    step = step(request)
                status, headers, payload = step
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                try:
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on a stalled request
                if server.close_after_response:
                    self.close_connection = True

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = 'http://127.0.0.1:%d' % self.port
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    def release(self):
        self._released.set()

    def received(self):
        with self._lock:
            return list(self.requests)

    def lines(self, path=None):
        return [line for r in self.received() if path is None or r.path == path
                for line in r.lines]

    def close(self):
        self.release()
        self.httpd.shutdown()
        self.httpd.server_close()


def wait_for(predicate, timeout=10.0, what='the condition'):
    """Polls predicate until truthy (returning it) or raises AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError('timed out after %ss waiting for %s' % (timeout, what))
        time.sleep(0.01)
