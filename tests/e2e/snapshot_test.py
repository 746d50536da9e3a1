#!/usr/bin/python3
"""End-to-end tests of state snapshots: the real binary restarted on the same snapshot file.

Run by ctest (tests/e2e/CMakeLists.txt); standalone:
  /usr/bin/python3 tests/e2e/snapshot_test.py --binary build/release/modelmon
"""

import argparse
import glob
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import metric, parse_metrics  # noqa: E402

ARGS = None

CONFIG = """
server:
  listen: "127.0.0.1:0"
  threads: 2
evaluation_interval: 100ms
log: {{format: text, level: {level}}}
state:
  snapshot_path: {snapshot}
  snapshot_interval: {interval}
models:
  - name: alpha
    task: binary_classification
    classes: ["0", "1"]
    features:
      - {{name: x, type: numerical}}
      - {{name: c, type: categorical}}
    window: {{size: {window}}}
    reference: {{capture: 100}}
  - name: beta
    task: regression
    features:
      - {{name: y, type: numerical}}
    window: {{size: {window}}}
    reference: {{capture: 100}}
"""

def batch(model, start, n):
    """n events of `model`, with missing values and categories, numbered from start."""
    out = []
    for i in range(start, start + n):
        if model == 'alpha':
            features = {'x': None if i % 11 == 0 else (i % 97) * 0.5, 'c': 'k%d' % (i % 13)}
            out.append({'model': 'alpha', 'features': features, 'prediction': i % 2,
                        'score': (i % 10) / 10.0})
        else:
            out.append({'model': 'beta', 'features': {'y': (i % 50) * 1.5}, 'prediction': i * 0.1})
    return out


class Daemon(harness.Modelmon):
    """The modelmon binary on an ephemeral port, with its log in the work directory."""

    def __init__(self, workdir, snapshot, interval='30s', window=200000, tag='run', level='info'):
        config = os.path.join(workdir, 'modelmon.yaml')
        with open(config, 'w') as f:
            f.write(CONFIG.format(snapshot=snapshot, interval=interval, window=window, level=level))
        super().__init__(ARGS.binary, config, workdir, tag='modelmon-%s' % tag)

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def request(self, method, path, body=None):
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
        try:
            headers = {}
            if body is not None:
                body = json.dumps(body)
                headers['Content-Type'] = 'application/json'
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def json(self, path):
        status, data = self.request('GET', path)
        assert status == 200, (path, status, data)
        return json.loads(data)

    def metrics(self):
        status, data = self.request('GET', '/metrics')
        assert status == 200
        return parse_metrics(data.decode())

    def stop(self, sig=signal.SIGTERM, timeout=60):
        return super().stop(sig, timeout)


class Load:
    """Client threads POSTing batches continuously until stopped or refused; counts what was
    acknowledged (the "accepted" of 2xx responses) per model, with the time of each ack."""

    def __init__(self, port, threads=4, batch_size=20):
        self.port = port
        self.batch_size = batch_size
        self.lock = threading.Lock()
        self.accepted = {'alpha': 0, 'beta': 0}
        self.acks = []  # (unix time, events) of every 2xx response.
        self.errors = 0
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(t,)) for t in range(threads)]
        for t in self.threads:
            t.start()

    def total(self):
        with self.lock:
            return sum(self.accepted.values())

    def run(self, index):
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=30)
        model = 'alpha' if index % 2 == 0 else 'beta'
        i = index * 10**8
        while not self.stopping.is_set():
            body = json.dumps(batch(model, i, self.batch_size))
            i += self.batch_size
            try:
                conn.request('POST', '/v1/predictions', body=body,
                             headers={'Content-Type': 'application/json'})
                r = conn.getresponse()
                data = r.read()
            except (OSError, http.client.HTTPException):
                # Refused or closed: the daemon is going away; nothing of this batch was
                # acknowledged.
                with self.lock:
                    self.errors += 1
                break
            if 200 <= r.status < 300:
                n = json.loads(data)['accepted']
                with self.lock:
                    self.accepted[model] += n
                    self.acks.append((time.time(), n))
            if r.getheader('Connection', '').lower() == 'close':
                conn.close()
                conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=30)
        conn.close()

    def join(self):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=60)


def wait_until(predicate, what, timeout=30):
    harness.wait_for(predicate, timeout, 0.02, what)


class SnapshotTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.snapshot = os.path.join(self.tmp.name, 'state.snap')
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            if d.proc.poll() is None:
                d.stop(signal.SIGKILL)
        self.tmp.cleanup()

    def start(self, **kwargs):
        d = Daemon(self.tmp.name, self.snapshot, tag=str(len(self.daemons)), **kwargs)
        self.daemons.append(d)
        return d

    def test_sigterm_under_load_loses_no_accepted_event(self):
        # A short interval, so that periodic writes run concurrently with the load as well.
        d = self.start(interval='200ms')
        load = Load(d.port)
        wait_until(lambda: load.total() >= 3000, '3000 accepted events')
        self.assertEqual(d.stop(signal.SIGTERM), 0, d.log_text())
        load.join()
        accepted = dict(load.accepted)
        self.assertIn('modelmon stopped', d.log_text())

        d2 = self.start(interval='200ms')
        samples = d2.metrics()
        for model, n in accepted.items():
            self.assertGreater(n, 0)
            events = metric(samples, 'modelmon_events_total', model=model, kind='prediction')
            self.assertEqual(events, n, 'events_total of %s after restart' % model)
            status = d2.json('/v1/models/' + model)
            self.assertEqual(status['window']['events'], n, model)
            self.assertEqual(status['reference']['state'], 'ready', model)
            self.assertEqual(metric(samples, 'modelmon_snapshot_restored_events', model=model), n)
        self.assertIn('restored state snapshot', d2.log_text())
        # It keeps counting from there.
        status, data = d2.request('POST', '/v1/predictions', batch('alpha', 0, 5))
        self.assertEqual(status, 200)
        samples = d2.metrics()
        self.assertEqual(metric(samples, 'modelmon_events_total', model='alpha', kind='prediction'),
                         accepted['alpha'] + 5)
        self.assertEqual(d2.stop(signal.SIGTERM), 0)

    def test_corrupt_snapshot_is_set_aside_and_the_daemon_starts_clean(self):
        d = self.start()
        status, _ = d.request('POST', '/v1/predictions', batch('alpha', 0, 50))
        self.assertEqual(status, 200)
        self.assertEqual(d.stop(signal.SIGTERM), 0)
        self.assertTrue(os.path.exists(self.snapshot))
        with open(self.snapshot, 'r+b') as f:
            f.seek(40)
            byte = f.read(1)
            f.seek(40)
            f.write(bytes([byte[0] ^ 0xFF]))

        d2 = self.start()
        status, _ = d2.request('GET', '/readyz')
        self.assertEqual(status, 200)
        samples = d2.metrics()
        self.assertEqual(metric(samples, 'modelmon_snapshot_restore_failures_total',
                                reason='checksum'), 1)
        self.assertEqual(d2.json('/v1/models/alpha')['window']['events'], 0)
        self.assertEqual(metric(samples, 'modelmon_events_total', model='alpha',
                                kind='prediction'), 0)
        aside = glob.glob(self.snapshot + '.corrupt-*')
        self.assertEqual(len(aside), 1, os.listdir(self.tmp.name))
        self.assertEqual(d2.log_text().count('not restored (checksum'), 1)
        # Serves, and writes a good snapshot again at shutdown.
        status, _ = d2.request('POST', '/v1/predictions', batch('alpha', 0, 7))
        self.assertEqual(status, 200)
        self.assertEqual(d2.stop(signal.SIGTERM), 0)
        d3 = self.start()
        self.assertEqual(d3.json("/v1/models/alpha")["window"]["events"], 7, d3.log_text())
        self.assertEqual(d3.stop(signal.SIGTERM), 0)

    def test_unwritable_snapshot_directory_is_counted_and_not_fatal(self):
        self.snapshot = os.path.join(self.tmp.name, 'missing-dir', 'state.snap')
        d = self.start(interval='100ms')
        wait_until(lambda: (metric(d.metrics(), 'modelmon_snapshot_write_failures_total') or 0)
                   >= 2, 'two failed writes')
        status, _ = d.request('POST', '/v1/predictions', batch('alpha', 0, 3))
        self.assertEqual(status, 200)
        self.assertEqual(d.log_text().count('state snapshot not written'), 1)
        self.assertIn(' error ', log_line(d.log_text(), 'state snapshot not written'))
        # Periodic failures are not fatal; the final one is: acknowledged events would be lost.
        self.assertEqual(d.stop(signal.SIGTERM), 1, d.log_text())

    def test_failed_final_snapshot_is_logged_and_exits_non_zero(self):
        # The directory is replaced by a regular file of the same name after start, so creating
        # dir/state.snap.tmp fails with ENOTDIR even as root.
        directory = os.path.join(self.tmp.name, 'snapdir')
        os.mkdir(directory)
        self.snapshot = os.path.join(directory, 'state.snap')
        d = self.start(interval='1h')
        status, _ = d.request('POST', '/v1/predictions', batch('alpha', 0, 20))
        self.assertEqual(status, 200)
        os.rmdir(directory)
        with open(directory, 'w') as f:
            f.write('not a directory')
        self.assertEqual(d.stop(signal.SIGTERM), 1, d.log_text())
        line = log_line(d.log_text(), 'final state snapshot not written')
        self.assertIn(' error ', line)
        self.assertIn(self.snapshot, line)
        self.assertNotIn('modelmon stopped\n', d.log_text())

    def test_checksum_valid_snapshot_with_invalid_content_is_set_aside(self):
        d = self.start()
        status, _ = d.request('POST', '/v1/predictions', batch('alpha', 0, 50))
        self.assertEqual(status, 200)
        self.assertEqual(d.stop(signal.SIGTERM), 0)
        with open(self.snapshot, 'rb') as f:
            data = bytearray(f.read())
        # A window category ("k1", length-prefixed) becomes invalid UTF-8 of the same length, and
        # the header's CRC-32C is recomputed: only the content checks can refuse it.
        needle = b'\x02\x00\x00\x00k1'
        at = data.find(needle, 24)
        self.assertGreater(at, 0)
        data[at + 5] = 0xFF
        data[20:24] = crc32c(bytes(data[24:])).to_bytes(4, 'little')
        with open(self.snapshot, 'wb') as f:
            f.write(data)

        d2 = self.start()
        status, _ = d2.request('GET', '/readyz')
        self.assertEqual(status, 200)
        status, text = d2.request('GET', '/metrics')
        self.assertEqual(status, 200)
        samples = parse_metrics(text.decode())
        self.assertEqual(metric(samples, 'modelmon_snapshot_restore_failures_total',
                                reason='invalid'), 1)
        self.assertEqual(d2.json('/v1/models/alpha')['window']['events'], 0)
        self.assertEqual(len(glob.glob(self.snapshot + '.corrupt-*')), 1)
        self.assertIn('not restored (invalid', d2.log_text())
        if ARGS.promtool:
            proc = subprocess.run([ARGS.promtool, 'check', 'metrics'], input=text,
                                  capture_output=True, timeout=30)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        # Keeps serving and evaluating past the point where the bad restore used to abort.
        status, _ = d2.request('POST', '/v1/predictions', batch('alpha', 0, 5))
        self.assertEqual(status, 200)
        wait_until(lambda: (metric(d2.metrics(), 'modelmon_last_evaluation_timestamp_seconds',
                                   model='alpha') or 0) > 0, 'an evaluation')
        self.assertEqual(d2.stop(signal.SIGTERM), 0)

    def test_device_snapshot_path_refuses_to_start(self):
        config = os.path.join(self.tmp.name, 'device.yaml')
        with open(config, 'w') as f:
            f.write(CONFIG.format(snapshot='/dev/zero', interval='30s', window=100,
                                  level='info'))
        proc = subprocess.run([ARGS.binary, '--config', config, '--listen', '127.0.0.1:0'],
                              capture_output=True, timeout=30)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(b'state.snapshot_path: /dev/zero: not a regular file (a character device)',
                      proc.stderr)


def log_line(text, fragment):
    """The first line of the log containing fragment."""
    for line in text.splitlines():
        if fragment in line:
            return line
    raise AssertionError('no log line with %r in:\n%s' % (fragment, text))


def crc32c(data):
    """CRC-32C (Castagnoli, reflected), as the snapshot header uses."""
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument('--binary', required=True)
    parser.add_argument('--promtool', default='')
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == '__main__':
    main()
