#!/usr/bin/python3
"""End-to-end tests of the Python client and middleware against the real modelmon binary.

The daemon runs on an ephemeral loopback port (tests/e2e/harness.py). The client sends predictions
and labels, and /metrics must count and join them. Then a FastAPI app under uvicorn (on a socket
bound to port 0), wrapped in ModelmonMiddleware and driven by httpx, must show up in modelmon.
Without fastapi, starlette, uvicorn or httpx that second part prints a skip message and passes,
unless CI is set (then it fails: scripts/install-deps.sh installs them).

Run by ctest (clients/python/CMakeLists.txt); standalone:
  /usr/bin/python3 clients/python/tests/e2e_test.py --binary build/release/modelmon \
      --source-dir .
"""

import argparse
import importlib.util
import os
import socket
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from modelmon_client import Client, ModelmonMiddleware  # noqa: E402

ARGS = None
harness = None
TOKEN = 'ingest-token-0123456789'
MODEL = 'credit_risk'
OPTIONAL = ('fastapi', 'starlette', 'uvicorn', 'httpx')

CONFIG = """
server:
  listen: "127.0.0.1:0"
  auth: {ingest_token: "%s"}
evaluation_interval: 100ms
models:
  - name: credit_risk
    task: binary_classification
    classes: ["0", "1"]
    features:
      - {name: amount, type: numerical}
      - {name: country, type: categorical}
    reference: {capture: 20}
""" % TOKEN


def total(samples, name, **labels):
    """The sum of every sample of `name` whose labels include `labels` (0 when none)."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


class DaemonCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        config = os.path.join(self.tmp.name, 'modelmon.yaml')
        with open(config, 'w') as f:
            f.write(CONFIG)
        self.daemon = harness.Modelmon(ARGS.binary, config, self.tmp.name, wait_ready=True)
        self.client = Client(self.daemon.base_url, token=TOKEN, batch_size=50,
                             flush_interval=0.05)

    def tearDown(self):
        self.client.close(timeout=5)
        self.daemon.stop()
        self.tmp.cleanup()

    def samples(self):
        status, body = harness.http_get(self.daemon.base_url + '/metrics')
        self.assertEqual(status, 200)
        return harness.parse_metrics(body.decode())

    def wait_metrics(self, predicate, what):
        """The first /metrics samples for which predicate holds (polled for 20 s)."""
        def poll():
            s = self.samples()
            return s if predicate(s) else None
        return harness.wait_for(poll, 20, 0.05, what)


class ClientTest(DaemonCase):
    def test_predictions_and_labels_are_counted_and_joined(self):
        n = 300
        for i in range(n):
            self.assertTrue(self.client.log_prediction(
                MODEL, 'req-%d' % i, {'amount': float(i % 97), 'country': 'DE' if i % 3 else 'FR'},
                prediction=i % 2, score=(i % 10) / 10.0, model_version='v1', latency_ms=2.5))
        for i in range(n):
            self.assertTrue(self.client.log_ground_truth(MODEL, 'req-%d' % i, (i // 2) % 2))
        self.assertTrue(self.client.flush(20))
        self.assertEqual((self.client.sent, self.client.failed, self.client.rejected,
                          self.client.dropped), (2 * n, 0, 0, 0))
        s = self.wait_metrics(
            lambda s: total(s, 'modelmon_ground_truth_joined_total', model=MODEL) == n,
            'every prediction joined')
        self.assertEqual(total(s, 'modelmon_events_total', model=MODEL, kind='prediction'), n)
        self.assertEqual(total(s, 'modelmon_events_total', model=MODEL, kind='ground_truth'), n)
        self.assertEqual(total(s, 'modelmon_predictions_total', model=MODEL, model_version='v1'),
                         n)
        self.assertEqual(total(s, 'modelmon_model_latency_seconds_count', model=MODEL), n)
        # Half the labels disagree with the predictions: accuracy 0.5 over the 300 pairs.
        self.wait_metrics(lambda s: total(s, 'modelmon_classification_accuracy', model=MODEL,
                                          model_version='__all__') == 0.5, 'accuracy 0.5')

    def test_per_event_rejections_and_a_wrong_token_never_raise(self):
        self.client.log_prediction(MODEL, 'ok', {'amount': 1.0}, prediction=1)
        self.client.log_prediction(MODEL, 'bad', {'amount': 1.0}, prediction=7)
        with self.assertLogs('modelmon_client', 'WARNING') as logs:
            self.assertTrue(self.client.flush(20))
        self.assertEqual((self.client.sent, self.client.rejected), (1, 1))
        self.assertIn("(id 'bad'): prediction: unknown class", '\n'.join(logs.output))
        s = self.samples()
        self.assertEqual(total(s, 'modelmon_events_rejected_total', kind='prediction',
                               reason='unknown_class'), 1)

        wrong = Client(self.daemon.base_url, token='not-the-token-000000')
        try:
            wrong.log_prediction(MODEL, 'x', {'amount': 1.0}, prediction=1)
            with self.assertLogs('modelmon_client', 'ERROR') as logs:
                self.assertTrue(wrong.flush(20))
            self.assertEqual((wrong.sent, wrong.failed, wrong.retries), (0, 1, 0))
            self.assertIn('HTTP 401', logs.output[0])
        finally:
            wrong.close(5)
        self.assertEqual(total(self.samples(), 'modelmon_auth_failures_total', scope='ingest'), 1)


def optional_missing():
    return [m for m in OPTIONAL if importlib.util.find_spec(m) is None]


class Uvicorn:
    """A uvicorn server for `app` in a thread, on a socket bound to 127.0.0.1:0 (self.port)."""

    def __init__(self, app):
        import uvicorn

        class Server(uvicorn.Server):
            def install_signal_handlers(self):  # not the main thread
                pass

        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.port = self.sock.getsockname()[1]
        self.server = Server(uvicorn.Config(app, log_level='critical', lifespan='off'))
        self.thread = threading.Thread(target=self.server.run, kwargs={'sockets': [self.sock]},
                                       daemon=True)
        self.thread.start()
        harness.wait_for(lambda: self.server.started, 20, 0.02, 'uvicorn to start')

    def stop(self):
        self.server.should_exit = True
        self.thread.join(20)
        self.sock.close()


@unittest.skipIf(optional_missing(), 'needs %s' % ', '.join(optional_missing()))
class FastApiTest(DaemonCase):
    def test_middleware_records_requests_errors_and_streams(self):
        import httpx
        from fastapi import FastAPI
        from fastapi.responses import StreamingResponse
        from pydantic import BaseModel

        class Applicant(BaseModel):
            amount: float
            country: str

        app = FastAPI()

        @app.post('/predict')
        async def predict(a: Applicant):
            return {'prediction': int(a.amount > 50), 'score': min(a.amount / 100.0, 1.0)}

        @app.post('/fail')
        async def fail(a: Applicant):
            raise RuntimeError('the model crashed')

        @app.post('/stream')
        async def stream(a: Applicant):
            async def chunks():
                for i in range(3):
                    yield b'chunk%d\n' % i
            return StreamingResponse(chunks(), media_type='text/plain')

        app.add_middleware(ModelmonMiddleware, client=self.client, model=MODEL,
                           features_from=lambda scope, body: body,
                           prediction_from=lambda r: r or {'prediction': 0},
                           error_prediction=0, model_version='fastapi')
        server = Uvicorn(app)
        try:
            with httpx.Client(base_url='http://127.0.0.1:%d' % server.port, timeout=10) as http:
                for i in range(40):
                    r = http.post('/predict', json={'amount': float(i * 2.5), 'country': 'DE'},
                                  headers={'X-Request-ID': 'api-%d' % i})
                    self.assertEqual(r.status_code, 200)
                    self.assertEqual(r.json()['prediction'], int(i * 2.5 > 50))
                for i in range(4):
                    # uvicorn closes the connection after an exception in the app.
                    r = http.post('/fail', json={'amount': 1.0, 'country': 'FR'},
                                  headers={'Connection': 'close'})
                    self.assertEqual(r.status_code, 500)
                for _ in range(2):
                    with http.stream('POST', '/stream',
                                     json={'amount': 3.0, 'country': 'FR'}) as r:
                        self.assertEqual(r.status_code, 200)
                        self.assertEqual(b''.join(r.iter_raw()), b'chunk0\nchunk1\nchunk2\n')
                self.assertEqual(http.post('/predict', json={'amount': 'x'}).status_code, 422)
        finally:
            server.stop()
        for i in range(40):
            self.client.log_ground_truth(MODEL, 'api-%d' % i, int(i * 2.5 > 50))
        self.assertTrue(self.client.flush(20))
        # 40 predictions, 4 errors and 2 streams, then 40 labels; the 422's answer holds no
        # prediction, so it is not recorded.
        self.assertEqual((self.client.sent, self.client.rejected, self.client.failed),
                         (86, 0, 0))
        s = self.wait_metrics(
            lambda s: total(s, 'modelmon_ground_truth_joined_total', model=MODEL) == 40,
            'the API predictions joined')
        self.assertEqual(total(s, 'modelmon_events_total', model=MODEL, kind='prediction'), 46)
        self.assertEqual(total(s, 'modelmon_predictions_total', model=MODEL,
                               model_version='fastapi'), 46)
        self.assertEqual(total(s, 'modelmon_model_errors_total', model=MODEL), 4)
        self.assertEqual(total(s, 'modelmon_model_latency_seconds_count', model=MODEL), 46)
        self.wait_metrics(lambda s: total(s, 'modelmon_classification_accuracy', model=MODEL,
                                          model_version='__all__') == 1.0, 'accuracy 1.0')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--binary', required=True)
    parser.add_argument('--source-dir', default=os.path.join(HERE, '..', '..', '..'))
    global ARGS, harness
    ARGS, rest = parser.parse_known_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    sys.path.insert(0, os.path.join(os.path.abspath(ARGS.source_dir), 'tests', 'e2e'))
    import harness as h
    harness = h
    missing = optional_missing()
    if missing:
        if 'CI' in os.environ:
            print('FAILED: %s not installed, and CI installs them (scripts/install-deps.sh)'
                  % ', '.join(missing))
            return 1
        print('SKIPPED (FastAPI part): %s not installed (Debian packages python3-fastapi '
              'python3-starlette python3-uvicorn python3-httpx; scripts/install-deps.sh)'
              % ', '.join(missing))
    result = unittest.main(argv=[sys.argv[0]] + rest, verbosity=2, exit=False).result
    return 0 if result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
