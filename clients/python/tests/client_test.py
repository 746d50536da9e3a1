#!/usr/bin/python3
"""Unit tests of modelmon_client.Client against a scripted fake daemon (tests/fake_server.py).

Backoff sleeps are injected, so no test waits for a retry; waits poll with deadlines. Run by ctest
(clients/python/CMakeLists.txt); standalone: /usr/bin/python3 clients/python/tests/client_test.py
"""

import datetime
import email.utils
import os
import random
import socket
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
from fake_server import FakeServer, wait_for  # noqa: E402
from modelmon_client import Client  # noqa: E402
from modelmon_client._transport import retry_after_seconds  # noqa: E402

MODEL = 'credit_risk'


def features(i):
    return {'amount': float(i), 'country': 'DE'}


class RecordingSleep:
    """An injected sleep that records each delay and returns at once."""

    def __init__(self):
        self.delays = []

    def __call__(self, seconds):
        self.delays.append(seconds)


class ClientTestCase(unittest.TestCase):
    def setUp(self):
        self.server = FakeServer()
        self.sleep = RecordingSleep()
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close(timeout=2)
        self.server.close()

    def client(self, **kw):
        kw.setdefault('sleep', self.sleep)
        kw.setdefault('flush_interval', 60.0)
        c = Client(self.server.url, **kw)
        self.clients.append(c)
        return c


class BatchingTest(ClientTestCase):
    def test_full_batches_then_flush_sends_the_rest_as_ndjson(self):
        c = self.client(batch_size=10)
        for i in range(25):
            self.assertTrue(c.log_prediction(MODEL, 'p%d' % i, features(i), 1, score=0.5))
        self.assertTrue(c.flush(10))
        reqs = self.server.received()
        self.assertEqual([len(r.lines) for r in reqs], [10, 10, 5])
        for r in reqs:
            self.assertEqual(r.path, '/v1/predictions')
            self.assertEqual(r.headers['content-type'], 'application/x-ndjson')
            self.assertNotIn('authorization', r.headers)
            self.assertTrue(r.body.endswith(b'\n'))
        self.assertEqual([e['id'] for e in self.server.lines()], ['p%d' % i for i in range(25)])
        self.assertEqual(self.server.lines()[3],
                         {'model': MODEL, 'id': 'p3', 'features': features(3), 'prediction': 1,
                          'score': 0.5})
        self.assertEqual((c.sent, c.failed, c.dropped, c.retries), (25, 0, 0, 0))

    def test_flush_interval_sends_a_partial_batch_without_flush(self):
        c = self.client(batch_size=100, flush_interval=0.05)
        for i in range(3):
            c.log_prediction(MODEL, i, features(i), 0)
        wait_for(lambda: len(self.server.lines()) == 3, what='the partial batch')
        self.assertEqual(len(self.server.received()), 1)

    def test_ground_truth_goes_to_its_endpoint_with_the_token(self):
        c = self.client(token='secret-token-0123456789')
        c.log_prediction(MODEL, 'a', features(1), '1', model_version='v2', timestamp=1700000000)
        c.log_ground_truth(MODEL, 'a', 1)
        c.log_ground_truth('price', 7, 312.5, timestamp='2026-11-29T10:00:00Z')
        self.assertTrue(c.flush(10))
        by_path = {r.path: r for r in self.server.received()}
        self.assertEqual(set(by_path), {'/v1/predictions', '/v1/ground-truth'})
        for r in by_path.values():
            self.assertEqual(r.headers['authorization'], 'Bearer secret-token-0123456789')
        self.assertEqual(by_path['/v1/ground-truth'].lines,
                         [{'model': MODEL, 'id': 'a', 'label': 1},
                          {'model': 'price', 'id': 7, 'label': 312.5,
                           'timestamp': '2026-11-29T10:00:00Z'}])
        self.assertEqual(by_path['/v1/predictions'].lines[0]['model_version'], 'v2')
        self.assertEqual(by_path['/v1/predictions'].lines[0]['timestamp'], 1700000000)
        self.assertEqual(c.sent, 3)

    def test_max_batch_bytes_splits_batches(self):
        c = self.client(batch_size=100, max_batch_bytes=300)
        for i in range(10):
            c.log_prediction(MODEL, i, {'text': 'x' * 100}, 0)
        self.assertTrue(c.flush(10))
        reqs = self.server.received()
        self.assertGreater(len(reqs), 1)
        self.assertTrue(all(len(r.body) <= 300 for r in reqs))
        self.assertEqual(len(self.server.lines()), 10)


class QueueTest(ClientTestCase):
    def test_full_queue_drops_and_counts_without_blocking(self):
        self.server.script = ['stall']
        c = self.client(queue_size=5, batch_size=1, flush_interval=0)
        c.log_prediction(MODEL, 'first', features(0), 0)
        wait_for(lambda: self.server.received(), what='the first request')
        start = time.monotonic()
        results = [c.log_prediction(MODEL, i, features(i), 0) for i in range(20)]
        self.assertLess(time.monotonic() - start, 1.0)
        self.assertEqual(results, [True] * 5 + [False] * 15)
        self.assertEqual((c.dropped, c.queue_length), (15, 5))
        self.server.release()
        self.assertTrue(c.flush(10))
        self.assertEqual((c.sent, c.dropped, c.failed), (6, 15, 0))

    def test_down_daemon_keeps_memory_within_the_queue(self):
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            port = s.getsockname()[1]
        gate = threading.Event()
        c = Client('http://127.0.0.1:%d' % port, queue_size=50, batch_size=10, flush_interval=0,
                   timeout=0.2, max_retries=1000, sleep=lambda s: gate.wait(30))
        self.clients.append(c)
        for i in range(1000):
            c.log_prediction(MODEL, i, features(i), 0)
        wait_for(lambda: c.retries >= 1, what='a retry')
        self.assertLessEqual(c.queue_length, 50)
        self.assertGreaterEqual(c.dropped, 1000 - 50 - 10)
        self.assertFalse(c.close(timeout=0.2))
        gate.set()  # the batch in flight is given up once its backoff ends
        wait_for(lambda: c.dropped + c.failed == 1000, what='every event to be accounted')
        self.assertEqual(c.sent, 0)
        self.assertFalse(c.log_prediction(MODEL, 'late', features(0), 0))


class RetryTest(ClientTestCase):
    def test_retry_after_on_503_and_429_is_honoured(self):
        date = email.utils.formatdate(time.time() + 120, usegmt=True)
        self.server.script = [(503, {'Retry-After': '7'}, {'error': 'draining'}),
                              (429, {'Retry-After': '3'}, {'error': 'slow down'}),
                              (503, {'Retry-After': date}, {'error': 'busy'})]
        c = self.client()
        c.log_prediction(MODEL, 'a', features(1), 1)
        self.assertTrue(c.flush(10))
        self.assertEqual(self.sleep.delays[:2], [7.0, 3.0])
        self.assertAlmostEqual(self.sleep.delays[2], 120, delta=3)
        self.assertEqual((c.sent, c.retries, c.failed), (1, 3, 0))
        self.assertEqual(len(self.server.received()), 4)

    def test_retry_after_is_capped(self):
        self.server.script = [(503, {'Retry-After': '86400'}, {'error': 'x'})]
        c = self.client(max_retry_after=10)
        c.log_prediction(MODEL, 'a', features(1), 1)
        self.assertTrue(c.flush(10))
        self.assertEqual(self.sleep.delays, [10])

    def test_backoff_is_exponential_with_jitter_and_gives_up(self):
        self.server.default = lambda r: (500, {}, {'error': 'boom'})
        c = self.client(max_retries=4, backoff_base=0.5, backoff_max=3.0, rng=random.Random(7))
        for i in range(3):
            c.log_prediction(MODEL, i, features(i), 1)
        with self.assertLogs('modelmon_client', 'ERROR') as logs:
            self.assertTrue(c.flush(10))
        self.assertEqual(len(self.sleep.delays), 4)
        for attempt, delay in enumerate(self.sleep.delays):
            self.assertGreaterEqual(delay, 0)
            self.assertLessEqual(delay, min(3.0, 0.5 * 2 ** attempt))
        self.assertEqual(len(set(self.sleep.delays)), 4)  # jittered, not constant
        self.assertEqual((c.sent, c.failed, c.retries), (0, 3, 4))
        self.assertEqual(len(self.server.received()), 5)
        self.assertIn('HTTP 500: boom', logs.output[0])

    def test_4xx_is_final_except_408_and_429(self):
        for status, retried in ((400, False), (401, False), (404, False), (415, False),
                                (408, True), (429, True)):
            with self.subTest(status=status):
                server = FakeServer()
                server.script = [(status, {}, {'error': 'no'})]
                sleep = RecordingSleep()
                c = Client(server.url, sleep=sleep, flush_interval=60)
                try:
                    c.log_prediction(MODEL, 'a', features(1), 1)
                    if retried:
                        self.assertTrue(c.flush(10))
                    else:
                        with self.assertLogs('modelmon_client', 'ERROR') as logs:
                            self.assertTrue(c.flush(10))
                        self.assertIn('HTTP %d: no' % status, logs.output[0])
                    self.assertEqual(len(server.received()), 2 if retried else 1)
                    self.assertEqual((c.sent, c.failed), (1, 0) if retried else (0, 1))
                    self.assertEqual(c.retries, 1 if retried else 0)
                finally:
                    c.close(2)
                    server.close()

    def test_timeout_counts_as_a_retryable_failure(self):
        self.server.script = ['stall', 'stall']
        c = self.client(timeout=0.2, max_retries=1)
        c.log_prediction(MODEL, 'a', features(1), 1)
        start = time.monotonic()
        with self.assertLogs('modelmon_client', 'ERROR') as logs:
            self.assertTrue(c.flush(10))
        self.assertLess(time.monotonic() - start, 5)
        self.assertEqual((c.sent, c.failed, c.retries), (0, 1, 1))
        self.assertIn('timed out', '\n'.join(logs.output))

    def test_413_splits_the_batch(self):
        self.server.default = lambda r: ((413, {}, {'error': 'too big'}) if len(r.lines) > 2
                                         else (200, {}, {'accepted': len(r.lines), 'rejected': 0,
                                                         'errors': []}))
        c = self.client()
        for i in range(8):
            c.log_prediction(MODEL, i, features(i), 1)
        self.assertTrue(c.flush(10))
        self.assertEqual((c.sent, c.failed), (8, 0))
        self.assertEqual([[e['id'] for e in r.lines] for r in self.server.received()],
                         [list(range(8)), [0, 1, 2, 3], [0, 1], [2, 3], [4, 5, 6, 7], [4, 5],
                          [6, 7]])


class ConnectionTest(ClientTestCase):
    def test_a_keep_alive_connection_closed_by_the_server_is_reopened_without_a_retry(self):
        self.server.close_after_response = True
        c = self.client()
        for i in range(3):
            c.log_prediction(MODEL, i, features(i), 1)
            self.assertTrue(c.flush(10))
        self.assertEqual((c.sent, c.failed, c.retries), (3, 0, 0))
        self.assertEqual(self.sleep.delays, [])
        self.assertEqual(len({r.peer for r in self.server.received()}), 3)

    def test_keep_alive_reuses_one_connection(self):
        c = self.client()
        for i in range(3):
            c.log_prediction(MODEL, i, features(i), 1)
            self.assertTrue(c.flush(10))
        self.assertEqual(len({r.peer for r in self.server.received()}), 1)


class ServerAnswerTest(ClientTestCase):
    def test_per_event_rejections_are_counted_and_logged_with_the_id(self):
        self.server.script = [(200, {}, {'accepted': 2, 'rejected': 1, 'errors': [
            {'index': 1, 'error': 'prediction: unknown class "7"'}]})]
        c = self.client()
        for i, p in enumerate((1, 7, 0)):
            c.log_prediction(MODEL, 'id-%d' % i, features(i), p)
        with self.assertLogs('modelmon_client', 'WARNING') as logs:
            self.assertTrue(c.flush(10))
        self.assertEqual((c.sent, c.rejected, c.failed, c.retries), (2, 1, 0, 0))
        self.assertIn("event 1 (id 'id-1'): prediction: unknown class", logs.output[0])

    def test_400_with_every_event_rejected_is_not_retried(self):
        self.server.script = [(400, {}, {'accepted': 0, 'rejected': 2, 'errors': [
            {'index': 0, 'error': 'x'}, {'index': 1, 'error': 'y'}]})]
        c = self.client()
        c.log_prediction(MODEL, 'a', features(1), 1)
        c.log_prediction(MODEL, 'b', features(1), 1)
        with self.assertLogs('modelmon_client', 'WARNING'):
            self.assertTrue(c.flush(10))
        self.assertEqual((c.sent, c.rejected, c.failed), (0, 2, 0))
        self.assertEqual(len(self.server.received()), 1)


class ValidationTest(ClientTestCase):
    def test_invalid_events_are_counted_not_sent(self):
        c = self.client()
        with self.assertLogs('modelmon_client', 'WARNING') as logs:
            self.assertFalse(c.log_prediction(MODEL, 'a', [1, 2], 1))
            self.assertFalse(c.log_prediction(MODEL, 'a', {'x': [1]}, 1))
            self.assertFalse(c.log_prediction(MODEL, 'a', {'x': 1}, None))
            self.assertFalse(c.log_prediction(MODEL, True, {'x': 1}, 1))
            self.assertFalse(c.log_prediction('', 'a', {'x': 1}, 1))
            self.assertFalse(c.log_prediction(MODEL, 'a', {'x': 1}, 1, score='high'))
            self.assertFalse(c.log_ground_truth(MODEL, None, 1))
            self.assertFalse(c.log_ground_truth(MODEL, 'x' * 257, 1))
        self.assertEqual(c.invalid, 8)
        self.assertIn('features.x', '\n'.join(logs.output))
        self.assertTrue(c.flush(1))
        self.assertEqual(self.server.received(), [])

    def test_strict_raises_value_error(self):
        c = self.client(strict=True)
        with self.assertRaisesRegex(ValueError, 'features: expected a mapping'):
            c.log_prediction(MODEL, 'a', 'nope', 1)

    def test_values_are_normalised_and_snapshotted(self):
        class Scalar:  # what numpy's scalars look like to the client
            shape = ()

            def __init__(self, v):
                self.v = v

            def item(self):
                return self.v

        c = self.client()
        feats = {'a': float('nan'), 'b': Scalar(3), 'c': None, 'd': True}
        when = datetime.datetime(2026, 11, 29, 10, 0, tzinfo=datetime.timezone.utc)
        c.log_prediction(MODEL, 'a', feats, Scalar(1), score=Scalar(0.25), timestamp=when,
                         scores={0: 0.75, 1: 0.25})
        feats['b'] = 'changed'
        self.assertTrue(c.flush(10))
        self.assertEqual(self.server.lines(), [{
            'model': MODEL, 'id': 'a', 'timestamp': when.timestamp(),
            'features': {'a': None, 'b': 3, 'c': None, 'd': True}, 'prediction': 1,
            'score': 0.25, 'scores': {'0': 0.75, '1': 0.25}}])


class LifecycleTest(ClientTestCase):
    def test_close_flushes_and_later_events_are_dropped(self):
        c = self.client()
        c.log_prediction(MODEL, 'a', features(1), 1)
        self.assertTrue(c.close(5))
        self.assertEqual(c.sent, 1)
        with self.assertLogs('modelmon_client', 'WARNING'):
            self.assertFalse(c.log_prediction(MODEL, 'b', features(1), 1))
        self.assertEqual(c.dropped, 1)
        self.assertTrue(c.close(5))  # idempotent

    def test_close_gives_up_at_its_timeout(self):
        self.server.script = ['stall']
        c = self.client(timeout=1.0, batch_size=1, flush_interval=0)
        for i in range(4):
            c.log_prediction(MODEL, i, features(i), 1)
        wait_for(lambda: self.server.received(), what='the first request')
        start = time.monotonic()
        self.assertFalse(c.close(timeout=0.1))
        self.assertLess(time.monotonic() - start, 4)
        self.server.release()
        self.assertEqual(c.sent + c.failed + c.dropped, 4)
        self.assertGreaterEqual(c.dropped, 3)

    def test_flush_without_events_returns_at_once(self):
        c = self.client()
        self.assertTrue(c.flush(0))

    @unittest.skipUnless(hasattr(os, 'fork'), 'needs os.fork')
    def test_a_forked_child_gets_its_own_sender(self):
        c = self.client()
        c.log_prediction(MODEL, 'parent', features(1), 1)
        self.assertTrue(c.flush(10))
        pid = os.fork()
        if pid == 0:  # the child: only os._exit leaves it
            ok = False
            try:
                ok = c.log_prediction(MODEL, 'child', features(2), 1) and c.flush(10) and \
                    c.sent == 2
            finally:
                os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)
        self.assertEqual([e['id'] for e in self.server.lines()], ['parent', 'child'])


class RetryAfterParsingTest(unittest.TestCase):
    def test_seconds_dates_and_garbage(self):
        now = 1_800_000_000
        self.assertEqual(retry_after_seconds('5', now), 5.0)
        self.assertEqual(retry_after_seconds(' 0 ', now), 0.0)
        self.assertEqual(retry_after_seconds(email.utils.formatdate(now + 30, usegmt=True), now),
                         30.0)
        self.assertEqual(retry_after_seconds(email.utils.formatdate(now - 30, usegmt=True), now),
                         0.0)
        for bad in (None, '', '-1', '1.5', 'soon'):
            self.assertIsNone(retry_after_seconds(bad, now), bad)


if __name__ == '__main__':
    unittest.main(verbosity=2)
