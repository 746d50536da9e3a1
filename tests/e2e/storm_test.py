#!/usr/bin/python3
"""Long-running transport checks, not part of the default ctest run (scripts/test.sh --soak).

storm: a few hundred connections trickle header or body bytes slowly while a legitimate client
keeps POSTing events and scraping /metrics. Legitimate requests must all succeed (p50/p99
latency reported), the trickling connections must end in 408 or a close, and the daemon's
resident memory (/proc/PID/status VmRSS) must stay under a bound.

soak: steady ingest plus a scrape every second for --duration seconds, RSS sampled every 10 s;
after the warm-up (a fifth of the run, at least 30 s) every sample must lie within 5% of the
first post-warm-up sample.

  /usr/bin/python3 tests/e2e/storm_test.py --binary build/release/modelmon storm
  /usr/bin/python3 tests/e2e/storm_test.py --binary build/release/modelmon soak --duration 600
"""

import argparse
import http.client
import json
import os
import selectors
import signal
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_test  # noqa: E402
from daemon_test import Daemon, event  # noqa: E402


def rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    raise RuntimeError('no VmRSS')


def percentile(values, p):
    s = sorted(values)
    if not s:
        return float('nan')
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


class Legit:
    """Keep-alive client: a batch of events, then a scrape, in a loop; records latencies."""

    def __init__(self, port, batch=50):
        self.port = port
        self.batch = batch
        self.latencies = []
        self.scrape_latencies = []
        self.ok = 0
        self.failures = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
        i = 0
        while not self.stop.is_set():
            body = '\n'.join(json.dumps(event(float(k % 30), float(k % 30), 'xyz'[k % 3], k))
                             for k in range(i, i + self.batch))
            i += self.batch
            for path, method, payload, sink in (
                    ('/v1/predictions', 'POST', body, self.latencies),
                    ('/metrics', 'GET', None, self.scrape_latencies)):
                start = time.monotonic()
                try:
                    headers = {'Content-Type': 'application/x-ndjson'} if payload else {}
                    conn.request(method, path, body=payload, headers=headers)
                    r = conn.getresponse()
                    r.read()
                    if r.status != 200:
                        self.failures.append('%s %d' % (path, r.status))
                    else:
                        self.ok += 1
                        sink.append(time.monotonic() - start)
                except (OSError, http.client.HTTPException) as e:
                    self.failures.append('%s %r' % (path, e))
                    conn.close()
                    conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)

    def report(self, name):
        ms = [x * 1000 for x in self.latencies]
        sms = [x * 1000 for x in self.scrape_latencies]
        print('%s: %d ok, %d failed; ingest p50 %.2f ms p99 %.2f ms (%d requests of %d events); '
              'scrape p50 %.2f ms p99 %.2f ms' % (
                  name, self.ok, len(self.failures), percentile(ms, 50), percentile(ms, 99),
                  len(ms), self.batch, percentile(sms, 50), percentile(sms, 99)))


def storm(args, workdir):
    d = Daemon(workdir, server_extra='  request_timeout: %s\n  max_connections: 2048\n' %
               args.request_timeout)
    try:
        base_rss = rss_kib(d.proc.pid)
        legit = Legit(d.port)
        legit.thread.start()
        sel = selectors.DefaultSelector()
        outcomes = {'408': 0, 'closed': 0, 'other': 0}
        body_head = ('POST /v1/predictions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json'
                     '\r\nContent-Length: 60000\r\n\r\n').encode()
        header_head = b'GET /metrics HTTP/1.1\r\nHost: x\r\n'

        def open_trickler(k):
            s = socket.create_connection(('127.0.0.1', d.port), timeout=10)
            s.setblocking(False)
            # Half trickle a header that never ends, half a 60 kB body that never ends.
            if k % 2:
                payload = header_head + b'X-Slow: ' + b'a' * 100000
            else:
                payload = body_head + b'{' * 100000
            t = {'k': k, 'sock': s, 'payload': payload, 'sent': 0, 'got': b''}
            sel.register(s, selectors.EVENT_READ, t)
            return t

        # Each trickler that ends is replaced, so the storm lasts the whole run.
        tricklers = {k: open_trickler(k) for k in range(args.connections)}
        max_rss = base_rss
        start = time.monotonic()
        next_tick = start
        while time.monotonic() - start < args.duration:
            now = time.monotonic()
            if now >= next_tick:  # Every trickler sends one byte every 100 ms.
                next_tick = now + 0.1
                for t in tricklers.values():
                    try:
                        t['sock'].send(t['payload'][t['sent']:t['sent'] + 1])
                        t['sent'] += 1
                    except OSError:
                        pass
                max_rss = max(max_rss, rss_kib(d.proc.pid))
            for key, _ in sel.select(timeout=0.02):
                t = key.data
                try:
                    chunk = t['sock'].recv(4096)
                except OSError:
                    chunk = b''
                if chunk:
                    t['got'] += chunk
                    continue
                sel.unregister(t['sock'])
                t['sock'].close()
                status = t['got'][9:12]
                outcomes['408' if status == b'408' else 'closed' if not t['got'] else 'other'] += 1
                tricklers[t['k']] = open_trickler(t['k'])
        legit.stop.set()
        legit.thread.join(timeout=15)
        for t in tricklers.values():
            t['sock'].close()
        legit.report('storm legitimate client')
        print('storm: %d trickling connections (replaced when they end) for %.0f s: %d got 408, '
              '%d closed without a response, %d other; RSS %d KiB at start, max %d KiB' % (
                  args.connections, args.duration, outcomes['408'], outcomes['closed'],
                  outcomes['other'], base_rss, max_rss))
        failed = []
        if legit.failures:
            failed.append('legitimate requests failed: %s' % legit.failures[:5])
        if legit.ok < 20:
            failed.append('too few legitimate requests: %d' % legit.ok)
        if outcomes['other']:
            failed.append('trickling connections ended otherwise than by 408/close')
        if outcomes['408'] < args.connections:
            failed.append('fewer 408s than trickling connections')
        if max_rss > base_rss + args.max_rss_growth_mib * 1024:
            failed.append('RSS grew by more than %d MiB' % args.max_rss_growth_mib)
        return failed
    finally:
        if d.proc.poll() is None:
            d.stop(signal.SIGTERM)


def soak(args, workdir):
    # Ids join ground truth; a small join store reaches its bound during the warm-up, so the steady
    # state holds every bounded structure at its cap (windows, join store, remembered ids).
    base = daemon_test.BASE_CONFIG
    daemon_test.BASE_CONFIG = base.replace(
        '      min_samples: 30\n',
        '      min_samples: 30\n    performance: {{max_pending: %d, max_pending_labels: %d}}\n' %
        (args.max_pending, args.max_pending))
    try:
        d = Daemon(workdir)
    finally:
        daemon_test.BASE_CONFIG = base
    try:
        legit = Legit(d.port, batch=args.rate)
        # The legit client scrapes after every batch; pace it to about one scrape a second.
        legit.thread = threading.Thread(target=paced, args=(legit, args.rate), daemon=True)
        legit.thread.start()
        samples = []
        start = time.monotonic()
        warmup = max(30.0, args.duration / 5.0)
        while time.monotonic() - start < args.duration:
            time.sleep(10 - (time.monotonic() - start) % 10)
            samples.append((time.monotonic() - start, rss_kib(d.proc.pid)))
            print('soak: t=%4.0f s RSS %d KiB, %d requests ok' % (samples[-1][0], samples[-1][1],
                                                                 legit.ok), flush=True)
        legit.stop.set()
        legit.thread.join(timeout=15)
        legit.report('soak client')
        steady = [rss for t, rss in samples if t >= warmup]
        failed = []
        if legit.failures:
            failed.append('requests failed: %s' % legit.failures[:5])
        if len(steady) < 2:
            failed.append('run too short for a steady-state comparison')
        else:
            ref = steady[0]
            worst = max(abs(rss - ref) / ref for rss in steady)
            print('soak: after %.0f s warm-up, RSS within %.2f%% of %d KiB (%d samples)' % (
                warmup, 100 * worst, ref, len(steady)))
            if worst > 0.05:
                failed.append('RSS not flat within 5%% after warm-up: %s' % steady)
        return failed
    finally:
        if d.proc.poll() is None:
            d.stop(signal.SIGTERM)


def paced(legit, rate):
    """Each second: `rate` prediction events in one request, the ground truth of the previous
    second's predictions in another, and one scrape."""
    conn = http.client.HTTPConnection('127.0.0.1', legit.port, timeout=10)
    i = 0
    next_round = time.monotonic()
    while not legit.stop.is_set():
        body = '\n'.join(json.dumps(event(float(k % 30), float(k % 30), 'xyz'[k % 3], k))
                         for k in range(i, i + rate))
        i += rate
        # Ground truth for the previous round's predictions (so labels mostly find their event).
        labels = '\n'.join(json.dumps({'model': 'fraud', 'id': 'e%d' % k, 'label': k % 2})
                           for k in range(max(0, i - 2 * rate), i - rate))
        rounds = [('/v1/predictions', 'POST', body, legit.latencies),
                  ('/metrics', 'GET', None, legit.scrape_latencies)]
        if labels:
            rounds.insert(1, ('/v1/ground-truth', 'POST', labels, legit.latencies))
        for path, method, payload, sink in rounds:
            start = time.monotonic()
            try:
                conn.request(method, path, body=payload,
                             headers={'Content-Type': 'application/x-ndjson'} if payload else {})
                r = conn.getresponse()
                r.read()
                if r.status == 200:
                    legit.ok += 1
                    sink.append(time.monotonic() - start)
                else:
                    legit.failures.append('%s %d' % (path, r.status))
            except (OSError, http.client.HTTPException) as e:
                legit.failures.append('%s %r' % (path, e))
                conn.close()
                conn = http.client.HTTPConnection('127.0.0.1', legit.port, timeout=10)
        next_round += 1.0
        legit.stop.wait(max(0.0, next_round - time.monotonic()))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--binary', required=True)
    parser.add_argument('mode', choices=['storm', 'soak', 'both'])
    parser.add_argument('--connections', type=int, default=300)
    parser.add_argument('--duration', type=float, default=None,
                        help='seconds (storm: 20, soak: 600)')
    parser.add_argument('--request-timeout', default='5s')
    parser.add_argument('--max-rss-growth-mib', type=int, default=64)
    parser.add_argument('--rate', type=int, default=500, help='soak: events per second')
    parser.add_argument('--batch', type=int, default=50)
    parser.add_argument('--max-pending', type=int, default=2000,
                        help='soak: the join store bound (performance.max_pending)')
    args = parser.parse_args()
    daemon_test.ARGS = args
    failed = []
    for mode in (['storm', 'soak'] if args.mode == 'both' else [args.mode]):
        run_args = argparse.Namespace(**vars(args))
        if run_args.duration is None:
            run_args.duration = 20.0 if mode == 'storm' else 600.0
        with tempfile.TemporaryDirectory() as workdir:
            failed += (storm if mode == 'storm' else soak)(run_args, workdir)
    for f in failed:
        print('FAIL: ' + f)
    print('FAILED' if failed else 'OK')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
