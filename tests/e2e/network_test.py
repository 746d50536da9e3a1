#!/usr/bin/python3
"""End-to-end tests of the HTTP transport: TLS, graceful drain, admission budget and the request
limits, against the real modelmon binary on an ephemeral port.

Run by ctest (tests/e2e/CMakeLists.txt); standalone:
  /usr/bin/python3 tests/e2e/network_test.py --binary build/release/modelmon
"""

import argparse
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_test  # noqa: E402  (the Daemon fixture)
import harness  # noqa: E402
from daemon_test import Daemon, event  # noqa: E402
from harness import metric, parse_metrics  # noqa: E402

ARGS = None


def padded_event(size, i=1):
    """A valid prediction event, padded with trailing spaces to exactly `size` bytes."""
    body = json.dumps(event(1.0, 1.0, 'x', i)).encode()
    assert len(body) <= size
    return body + b' ' * (size - len(body))


def post_head(path, length, extra=''):
    return ('POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
            'Content-Length: %d\r\n%s\r\n' % (path, length, extra)).encode()


def read_response(sock):
    r = http.client.HTTPResponse(sock)
    r.begin()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()


def wait_until(predicate, what, timeout=15):
    return harness.wait_for(predicate, timeout, 0.02, what)


class Client:
    """One request per connection (Connection: close), plain or HTTPS."""

    def __init__(self, port, context=None):
        self.port = port
        self.context = context

    def request(self, method, path, body=None, headers=None):
        if self.context is None:
            c = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)
        else:
            c = http.client.HTTPSConnection('127.0.0.1', self.port, timeout=10,
                                            context=self.context)
        try:
            h = dict(headers or {})
            h['Connection'] = 'close'
            if body is not None:
                h['Content-Type'] = 'application/json'
                if not isinstance(body, (bytes, str)):
                    body = json.dumps(body)
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def samples(self):
        status, _, data = self.request('GET', '/metrics')
        assert status == 200, status
        return parse_metrics(data.decode())


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.daemons = []
        self.sockets = []

    def tearDown(self):
        for s in self.sockets:
            s.close()
        for d in self.daemons:
            if d.proc.poll() is None:
                d.stop(signal.SIGKILL)
            d.conn.close()
            d.log.close()
        self.tmp.cleanup()

    def start(self, server_extra=''):
        d = Daemon(self.tmp.name, server_extra=server_extra)
        self.daemons.append(d)
        return d

    def connect(self, port):
        s = socket.create_connection(('127.0.0.1', port), timeout=10)
        self.sockets.append(s)
        return s


def openssl(*args, cwd):
    subprocess.run(['openssl', *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def self_signed(directory, name):
    """A fresh P-256 key and self-signed certificate for 127.0.0.1, created now with openssl."""
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
            '-keyout', name + '.key', '-out', name + '.crt', '-days', '1', '-subj', '/CN=localhost',
            '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', cwd=directory)
    return os.path.join(directory, name + '.crt'), os.path.join(directory, name + '.key')


class TlsTest(TempDirTest):
    def tls_daemon(self, extra=''):
        self.cert, self.key = self_signed(self.tmp.name, 'server')
        d = self.start('  tls: {cert_file: "%s", key_file: "%s"%s}\n' % (self.cert, self.key, extra))
        context = ssl.create_default_context(cafile=self.cert)
        return d, context

    def test_https_serves_health_metrics_and_ingest_and_plain_http_fails(self):
        d, context = self.tls_daemon()
        https = Client(d.port, context)
        status, _, body = https.request('GET', '/healthz')
        self.assertEqual((status, json.loads(body)), (200, {'status': 'ok'}))
        status, _, body = https.request('POST', '/v1/predictions', event(1.0, 2.0, 'x', 1))
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)['accepted'], 1)
        # Keep-alive over one TLS connection.
        c = http.client.HTTPSConnection('127.0.0.1', d.port, timeout=10, context=context)
        for i in range(3):
            c.request('POST', '/v1/predictions', body=json.dumps(event(1.0, 2.0, 'y', 10 + i)),
                      headers={'Content-Type': 'application/json'})
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            r.read()
        c.close()

        # Plain HTTP to the TLS port: a clean 400 in plain HTTP, then the connection closes.
        s = self.connect(d.port)
        s.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
        status, headers, body = read_response(s)
        self.assertEqual(status, 400)
        self.assertIn('HTTPS', json.loads(body)['error'])
        self.assertEqual(headers.get('connection'), 'close')
        # A client that does not trust the certificate fails its handshake.
        with self.assertRaises(ssl.SSLError):
            Client(d.port, ssl.create_default_context()).request('GET', '/healthz')

        samples = https.samples()
        self.assertEqual(metric(samples, 'modelmon_events_total', model='fraud',
                                kind='prediction'), 4)
        self.assertEqual(metric(samples, 'modelmon_tls_handshake_failures_total',
                                reason='plain_http'), 1)
        self.assertGreaterEqual(metric(samples, 'modelmon_tls_handshake_failures_total',
                                       reason='protocol') +
                                metric(samples, 'modelmon_tls_handshake_failures_total',
                                       reason='eof'), 1)
        self.assertEqual(d.stop(), 0)

    def test_min_version_13_refuses_tls_12(self):
        d, context = self.tls_daemon(', min_version: "1.3"')
        old = ssl.create_default_context(cafile=self.cert)
        old.maximum_version = ssl.TLSVersion.TLSv1_2
        with self.assertRaises(ssl.SSLError):
            Client(d.port, old).request('GET', '/healthz')
        self.assertEqual(Client(d.port, context).request('GET', '/healthz')[0], 200)
        samples = Client(d.port, context).samples()
        self.assertEqual(metric(samples, 'modelmon_tls_handshake_failures_total',
                                reason='protocol'), 1)
        self.assertEqual(d.stop(), 0)

    def test_handshake_under_the_request_timeout(self):
        self.cert, self.key = self_signed(self.tmp.name, 'server')
        context = ssl.create_default_context(cafile=self.cert)
        d = self.start('  request_timeout: 300ms\n  tls: {cert_file: "%s", key_file: "%s"}\n' %
                       (self.cert, self.key))
        s = self.connect(d.port)
        s.sendall(b'\x16\x03\x01')  # The start of a TLS record, then nothing.
        start = time.monotonic()
        self.assertEqual(s.recv(100), b'')
        self.assertLess(time.monotonic() - start, 5)
        samples = Client(d.port, context).samples()
        self.assertEqual(metric(samples, 'modelmon_tls_handshake_failures_total',
                                reason='timeout'), 1)
        self.assertEqual(d.stop(), 0)

    def test_bad_certificate_or_key_exits_2_with_the_key_path(self):
        self.assertEqual(self.start().stop(), 0)  # Writes reference.csv.
        cert, key = self_signed(self.tmp.name, 'server')
        _, other_key = self_signed(self.tmp.name, 'other')
        garbage = os.path.join(self.tmp.name, 'garbage.pem')
        with open(garbage, 'w') as f:
            f.write('not a certificate\n')
        cases = [
            ('{cert_file: "%s", key_file: "%s"}' % (garbage, key), 'server.tls.cert_file'),
            ('{cert_file: "%s", key_file: "%s"}' % (cert, garbage), 'server.tls.key_file'),
            ('{cert_file: "%s", key_file: "%s"}' % (cert, other_key), 'mismatch'),
            ('{cert_file: "/nonexistent/c.pem", key_file: "%s"}' % key, 'server.tls.cert_file'),
            ('{cert_file: "%s"}' % cert, 'server.tls.key_file'),
            ('{cert_file: "%s", key_file: "%s", min_version: "1.1"}' % (cert, key),
             'server.tls.min_version'),
        ]
        config = os.path.join(self.tmp.name, 'bad.yaml')
        for tls, expected in cases:
            with self.subTest(tls=tls):
                with open(config, 'w') as f:
                    f.write(daemon_test.BASE_CONFIG.format(
                        log_format='text', server_extra='  tls: %s\n' % tls))
                result = subprocess.run([ARGS.binary, '--config', config], capture_output=True,
                                        text=True, timeout=30)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(expected, result.stderr)


class DrainTest(TempDirTest):
    def test_drain_serves_reads_refuses_ingest_and_finishes_the_request_in_flight(self):
        d = self.start()
        client = Client(d.port)
        body = padded_event(2000, 7)
        slow = self.connect(d.port)
        slow.sendall(post_head('/v1/predictions', len(body)) + body[:100])
        wait_until(lambda: metric(client.samples(), 'modelmon_inflight_requests') == 1,
                   'the slow request to be admitted')
        d.proc.send_signal(signal.SIGTERM)
        wait_until(lambda: client.request('GET', '/readyz')[0] == 503, 'readiness to go false')
        status, _, data = client.request('GET', '/readyz')
        self.assertEqual((status, json.loads(data)), (503, {'status': 'draining'}))
        status, _, data = client.request('GET', '/metrics')
        self.assertEqual(status, 200)
        self.assertEqual(client.request('GET', '/healthz')[0], 200)
        # New ingest is refused, with Retry-After and Connection: close.
        s = self.connect(d.port)
        one = json.dumps(event(1.0, 1.0, 'x', 8)).encode()
        s.sendall(post_head('/v1/predictions', len(one), 'Connection: keep-alive\r\n') + one)
        status, headers, data = read_response(s)
        self.assertEqual(status, 503)
        self.assertIn('Retry-After', {k.title(): v for k, v in headers.items()})
        self.assertEqual(headers.get('connection'), 'close')
        self.assertIn('error', json.loads(data))
        self.assertEqual(s.recv(10), b'')
        self.assertIsNone(d.proc.poll())
        samples = parse_metrics(client.request('GET', '/metrics')[2].decode())
        self.assertEqual(metric(samples, 'modelmon_limit_hits_total', limit='draining'), 1)
        # The request in flight finishes and is accepted; then the daemon exits 0.
        slow.sendall(body[100:])
        status, headers, data = read_response(slow)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(data)['accepted'], 1)
        self.assertEqual(headers.get('connection'), 'close')
        self.assertEqual(d.proc.wait(timeout=10), 0)
        with open(d.log_path) as f:
            self.assertIn('modelmon stopped', f.read())

    def test_drain_gives_up_at_the_shutdown_timeout(self):
        d = self.start('  shutdown_timeout: 500ms\n')
        client = Client(d.port)
        slow = self.connect(d.port)
        slow.sendall(post_head('/v1/predictions', 1000) + b'{')
        wait_until(lambda: metric(client.samples(), 'modelmon_inflight_requests') == 1,
                   'the slow request to be admitted')
        start = time.monotonic()
        d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(d.proc.wait(timeout=10), 0)
        self.assertLess(time.monotonic() - start, 5)
        with open(d.log_path) as f:
            self.assertIn('shutdown timeout', f.read())


class AdmissionTest(TempDirTest):
    # BASE_CONFIG has max_body_bytes 65536.
    def test_body_bytes_budget_gives_503_with_retry_after(self):
        d = self.start('  max_inflight_bytes: 100000\n')
        client = Client(d.port)
        big = padded_event(60000, 1)
        holder = self.connect(d.port)
        holder.sendall(post_head('/v1/predictions', len(big)) + big[:1000])
        wait_until(lambda: metric(client.samples(), 'modelmon_inflight_bytes') == 60000,
                   'the reservation of the first body')

        second = self.connect(d.port)
        second.sendall(post_head('/v1/predictions', len(big)) + big)
        status, headers, data = read_response(second)
        self.assertEqual(status, 503)
        self.assertEqual(headers.get('retry-after'), '1')
        self.assertEqual(headers.get('connection'), 'close')
        self.assertIn('in flight', json.loads(data)['error'])

        # A chunked body reserves chunk by chunk: one chunk over the rest of the budget fails.
        chunked = self.connect(d.port)
        chunked.sendall(b'POST /v1/predictions HTTP/1.1\r\nHost: x\r\nContent-Type: '
                        b'application/json\r\nTransfer-Encoding: chunked\r\n\r\n' +
                        b'%x\r\n' % 50000 + big[:50000] + b'\r\n0\r\n\r\n')
        status, headers, _ = read_response(chunked)
        self.assertEqual((status, headers.get('retry-after')), (503, '1'))
        # A small chunked request fits.
        small = json.dumps(event(1.0, 1.0, 'x', 2)).encode()
        ok = self.connect(d.port)
        ok.sendall(b'POST /v1/predictions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json'
                   b'\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
                   b'%x\r\n' % len(small) + small + b'\r\n0\r\n\r\n')
        self.assertEqual(read_response(ok)[0], 200)
        # Reads are never refused.
        self.assertEqual(client.request('GET', '/v1/models')[0], 200)

        samples = client.samples()
        self.assertEqual(metric(samples, 'modelmon_limit_hits_total', limit='inflight_bytes'), 2)
        holder.sendall(big[1000:])
        status, _, data = read_response(holder)
        self.assertEqual((status, json.loads(data)['accepted']), (200, 1))
        samples = wait_until(
            lambda: (lambda s: s if metric(s, 'modelmon_inflight_requests') == 0 else None)(
                client.samples()), 'the budget to be released')
        self.assertEqual(metric(samples, 'modelmon_inflight_bytes'), 0)
        self.assertEqual(d.stop(), 0)

    def test_unauthenticated_bodies_get_401_before_reserving_the_budget(self):
        # Tokens are checked on the head: clients without the token never reserve admission
        # budget, so they cannot lock authenticated ingest out (with 503) until the timeout.
        token = 'ingest-token-0123456789'
        d = self.start('  max_inflight_bytes: 100000\n  auth: {ingest_token: "%s"}\n' % token)
        client = Client(d.port)
        heads = []
        for _ in range(8):
            s = self.connect(d.port)
            s.sendall(post_head('/v1/predictions', 60000))  # The head only, no body byte.
            heads.append(s)
        for s in heads:
            status, headers, data = read_response(s)
            self.assertEqual(status, 401)
            self.assertEqual(headers.get('www-authenticate'), 'Bearer realm="modelmon"')
            self.assertEqual(headers.get('connection'), 'close')
            self.assertIn('bearer token for ingest', json.loads(data)['error'])
        # A token in a chunked trailer never authenticates (only the head is checked).
        small = json.dumps(event(1.0, 1.0, 'x', 2)).encode()
        trailer = self.connect(d.port)
        trailer.sendall(b'POST /v1/predictions HTTP/1.1\r\nHost: x\r\nContent-Type: '
                        b'application/json\r\nTransfer-Encoding: chunked\r\n\r\n' +
                        b'%x\r\n' % len(small) + small + b'\r\n0\r\n' +
                        b'Authorization: Bearer ' + token.encode() + b'\r\n\r\n')
        self.assertEqual(read_response(trailer)[0], 401)
        body = padded_event(60000, 1)
        ok = self.connect(d.port)
        ok.sendall(post_head('/v1/predictions', len(body),
                             'Authorization: Bearer %s\r\nConnection: close\r\n' % token) + body)
        status, _, data = read_response(ok)
        self.assertEqual((status, json.loads(data)['accepted']), (200, 1))
        samples = client.samples()
        self.assertEqual(metric(samples, 'modelmon_auth_failures_total', scope='ingest'), 9)
        self.assertEqual(metric(samples, 'modelmon_limit_hits_total', limit='inflight_bytes'), 0)
        self.assertEqual(metric(samples, 'modelmon_http_requests_total', handler='unauthorized',
                                code='401'), 9)
        self.assertEqual(d.stop(), 0)

    def test_request_count_budget_and_reads_stay_open(self):
        d = self.start('  max_inflight_requests: 2\n')
        client = Client(d.port)
        body = padded_event(500, 1)
        for _ in range(2):
            self.connect(d.port).sendall(post_head('/v1/predictions', len(body)) + body[:10])
        wait_until(lambda: metric(client.samples(), 'modelmon_inflight_requests') == 2,
                   'two requests in flight')
        status, headers, data = client.request('POST', '/v1/predictions', event(1.0, 1.0, 'x', 3))
        self.assertEqual((status, headers.get('retry-after')), (503, '1'))
        self.assertEqual(client.request('GET', '/healthz')[0], 200)
        self.assertEqual(
            metric(client.samples(), 'modelmon_limit_hits_total', limit='inflight_requests'), 1)
        for s in self.sockets:
            s.close()
        self.sockets = []
        # Closing the connections releases their slots.
        wait_until(lambda: metric(client.samples(), 'modelmon_inflight_requests') == 0,
                   'the slots to be released')
        self.assertEqual(client.request('POST', '/v1/predictions', event(1.0, 1.0, 'x', 4))[0],
                         200)


class LimitsTest(TempDirTest):
    def test_request_timeout_gives_408(self):
        d = self.start('  request_timeout: 300ms\n')
        s = self.connect(d.port)
        s.sendall(b'GET /metrics HTTP/1.1\r\nHost: x\r\n')  # The header never ends.
        status, headers, data = read_response(s)
        self.assertEqual(status, 408)
        self.assertIn('error', json.loads(data))
        s2 = self.connect(d.port)
        s2.sendall(post_head('/v1/predictions', 100) + b'{')  # The body never ends.
        self.assertEqual(read_response(s2)[0], 408)
        client = Client(d.port)
        samples = client.samples()
        # The head deadline is min(header_timeout, request_timeout).
        self.assertEqual(metric(samples, 'modelmon_limit_hits_total', limit='header_timeout'), 1)
        self.assertEqual(metric(samples, 'modelmon_limit_hits_total', limit='request_timeout'), 1)
        wait_until(lambda: metric(client.samples(), 'modelmon_inflight_requests') == 0,
                   'the timed-out request to release its slot')

    def test_header_limit_gives_431_and_garbage_gives_400(self):
        d = self.start()
        s = self.connect(d.port)
        s.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ' + b'a' * 10000 + b'\r\n\r\n')
        status, _, data = read_response(s)
        self.assertEqual(status, 431)
        self.assertIn('error', json.loads(data))
        s = self.connect(d.port)
        s.sendall(b'NOT HTTP AT ALL\r\n\r\n')
        self.assertEqual(read_response(s)[0], 400)
        samples = Client(d.port).samples()
        self.assertEqual(metric(samples, 'modelmon_limit_hits_total', limit='header_bytes'), 1)
        self.assertEqual(metric(samples, 'modelmon_limit_hits_total', limit='malformed_request'), 1)

    def test_connection_limit_closes_further_connections_when_none_is_idle(self):
        d = self.start('  max_connections: 2\n')
        held = [self.connect(d.port) for _ in range(2)]
        for s in held:  # A request on each so both are surely accepted...
            s.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
            self.assertEqual(read_response(s)[0], 200)
        for s in held:  # ...then one being served (its body awaited, 100 Continue): not evictable.
            s.sendall(post_head('/v1/predictions', 100, 'Expect: 100-continue\r\n'))
            self.assertEqual(s.recv(100), b'HTTP/1.1 100 Continue\r\n\r\n')
        extra = self.connect(d.port)
        try:
            extra.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
            self.assertEqual(extra.recv(100), b'')
        except ConnectionResetError:
            pass
        held[0].close()
        samples = wait_until(lambda: self.try_samples(d.port), 'a free connection slot')
        # Each refused attempt is counted, the polling ones too.
        self.assertGreaterEqual(metric(samples, 'modelmon_limit_hits_total', limit='connections'),
                                1)

    @staticmethod
    def try_samples(port):
        try:
            return Client(port).samples()
        except (ConnectionError, http.client.HTTPException, AssertionError):
            return None

    def test_expect_100_continue_after_admission(self):
        d = self.start('  max_inflight_requests: 1\n')
        one = json.dumps(event(1.0, 1.0, 'x', 1)).encode()
        s = self.connect(d.port)
        s.sendall(post_head('/v1/predictions', len(one), 'Expect: 100-continue\r\n'))
        self.assertEqual(s.recv(100), b'HTTP/1.1 100 Continue\r\n\r\n')
        # The only slot is taken: a second client is refused before it sends its body.
        other = self.connect(d.port)
        other.sendall(post_head('/v1/predictions', len(one), 'Expect: 100-continue\r\n'))
        self.assertEqual(read_response(other)[0], 503)
        s.sendall(one)
        status, _, data = read_response(s)
        self.assertEqual((status, json.loads(data)['accepted']), (200, 1))

    def test_pipelined_requests_are_answered_in_order(self):
        d = self.start()
        s = self.connect(d.port)
        one = json.dumps(event(1.0, 1.0, 'x', 1)).encode()
        s.sendall(post_head('/v1/predictions', len(one)) + one +
                  b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' +
                  b'GET /v1/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
        received = b''
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            received += chunk
        self.assertEqual(re.findall(rb'HTTP/1\.1 (\d{3}) ', received), [b'200', b'200', b'404'])



def read_all(sock):
    """Every byte until the server closes the connection (or resets it)."""
    received = b''
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return received
            received += chunk
    except ConnectionResetError:
        return received


class FramingTest(TempDirTest):
    """Request framing is exactly RFC 9112's: anything else is refused and the connection closed,
    so no byte after it is executed as a request (no request smuggling)."""

    def test_ambiguous_framing_is_refused_and_nothing_after_it_runs(self):
        d = self.start()
        smuggled = json.dumps(event(1.0, 1.0, 'x', 99)).encode()
        next_request = post_head('/v1/predictions', len(smuggled)) + smuggled
        cases = [
            ('Transfer-Encoding: gzip\r\n', 400),
            ('Transfer-Encoding: identity\r\n', 400),
            ('Transfer-Encoding: chunked, gzip\r\n', 400),
            ('Transfer-Encoding: gzip, chunked\r\n', 501),
            ('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', 400),
            ('Transfer-Encoding: chunked\r\nContent-Length: 5\r\n', 400),
            ('Content-Length: 5, 5\r\n', 400),
            ('Content-Length: 5\r\nContent-Length: 5\r\n', 400),
        ]
        for framing, status in cases:
            with self.subTest(framing=framing):
                s = self.connect(d.port)
                s.sendall(('POST /v1/predictions HTTP/1.1\r\nHost: x\r\n'
                           'Content-Type: application/json\r\n%s\r\n' % framing).encode() +
                          b'0\r\n\r\n' + next_request)
                received = read_all(s)
                self.assertEqual(re.findall(rb'HTTP/1\.1 (\d{3}) ', received),
                                 [str(status).encode()], received)
                self.assertIn(b'Connection: close', received)
        samples = Client(d.port).samples()
        self.assertEqual(metric(samples, 'modelmon_events_total', model='fraud',
                                kind='prediction'), 0)
        self.assertEqual(metric(samples, 'modelmon_limit_hits_total', limit='malformed_request'),
                         len(cases))

    def test_host_is_required_once_in_http_1_1(self):
        d = self.start()
        for head, status in [(b'GET /healthz HTTP/1.1\r\n\r\n', 400),
                             (b'GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400),
                             (b'GET /healthz HTTP/1.0\r\n\r\n', 200),
                             (b'GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n', 200)]:
            with self.subTest(head=head):
                s = self.connect(d.port)
                s.sendall(head)
                self.assertEqual(read_response(s)[0], status)

    def test_trailers_never_supply_the_content_type(self):
        d = self.start()
        body = json.dumps(event(1.0, 1.0, 'x', 1)).encode()
        s = self.connect(d.port)
        # No Content-Type in the head (JSON is assumed); one in the trailer that would get 415.
        s.sendall(b'POST /v1/predictions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n'
                  b'\r\n' + b'%x\r\n' % len(body) + body +
                  b'\r\n0\r\nContent-Type: text/plain\r\n\r\n')
        status, _, data = read_response(s)
        self.assertEqual((status, json.loads(data)['accepted']), (200, 1))
        s = self.connect(d.port)
        s.sendall(post_head('/v1/predictions', len(body)).replace(b'application/json', b'text/plain') +
                  body)
        self.assertEqual(read_response(s)[0], 415)  # The same type in the head is refused.


class SilentConnectionTest(TempDirTest):
    """Connections that send nothing cannot lock probes and scrapes out."""

    def test_a_connection_without_a_request_head_goes_at_the_head_deadline(self):
        d = self.start('  header_timeout: 300ms\n')
        silent = [self.connect(d.port) for _ in range(3)]
        partial = self.connect(d.port)
        partial.sendall(b'GET /healthz HTTP/1.1\r\nHost:')
        start = time.monotonic()
        for s in silent:
            self.assertEqual(read_all(s), b'')
        status, _, data = read_response(partial)
        self.assertEqual(status, 408)
        self.assertIn('head', json.loads(data)['error'])
        self.assertLess(time.monotonic() - start, 5)
        # The socket closes when the deadline passes; the count follows on the connection's strand.
        client = Client(d.port)
        wait_until(lambda: metric(client.samples(), 'modelmon_limit_hits_total',
                                  limit='header_timeout') == 4, 'four header timeouts counted')

    def test_keep_alive_connections_keep_the_idle_timeout(self):
        d = self.start('  header_timeout: 200ms\n')
        s = self.connect(d.port)
        s.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
        self.assertEqual(read_response(s)[0], 200)
        # Idle between requests for longer than the head deadline: still open.
        s.settimeout(0.6)
        with self.assertRaises(socket.timeout):
            s.recv(1)
        s.settimeout(10)
        s.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
        self.assertEqual(read_response(s)[0], 200)

    def flood_then_probe(self, port, count, probe):
        flood = [self.connect(port) for _ in range(count)]
        for _ in range(5):
            start = time.monotonic()
            self.assertEqual(probe('/healthz')[0], 200)
            self.assertEqual(probe('/metrics')[0], 200)
            self.assertLess(time.monotonic() - start, 5)
        return flood

    def test_probes_get_through_a_flood_of_silent_connections(self):
        # The head deadline is long: eviction at the cap, not the deadline, lets the probes in.
        d = self.start('  max_connections: 40\n  header_timeout: 60s\n')
        keep_alive = self.connect(d.port)
        keep_alive.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
        self.assertEqual(read_response(keep_alive)[0], 200)
        client = Client(d.port)
        self.flood_then_probe(d.port, 60, lambda path: client.request('GET', path))
        # An idle keep-alive connection is evictable too. It became so when the server finished
        # writing its response, which the client cannot observe, so it may be younger than some of
        # the flood; at most max_connections further connections must reach it.
        keep_alive.setblocking(False)
        evicted = False
        for _ in range(41):
            try:
                evicted = keep_alive.recv(1) == b''
            except BlockingIOError:
                pass
            except ConnectionResetError:
                evicted = True
            if evicted:
                break
            self.connect(d.port)
            wait_until(lambda: LimitsTest.try_samples(d.port) is not None, 'a scrape')
        if not evicted:  # The last connection's eviction may still be on its way.
            keep_alive.setblocking(True)
            keep_alive.settimeout(10)
            evicted = read_all(keep_alive) == b''
        self.assertTrue(evicted, 'the idle keep-alive connection was never evicted')
        samples = client.samples()
        self.assertGreaterEqual(
            metric(samples, 'modelmon_limit_hits_total', limit='connections_evicted'), 20)
        self.assertEqual(metric(samples, 'modelmon_limit_hits_total', limit='connections'), 0)

    def test_probes_get_through_a_flood_of_silent_tls_connections(self):
        cert, key = self_signed(self.tmp.name, 'server')
        d = self.start('  max_connections: 40\n  header_timeout: 60s\n'
                       '  tls: {cert_file: "%s", key_file: "%s"}\n' % (cert, key))
        client = Client(d.port, ssl.create_default_context(cafile=cert))
        flood = self.flood_then_probe(d.port, 60, lambda path: client.request('GET', path))
        for s in flood[:10]:  # A stalled handshake counts as silent too.
            s.sendall(b'\x16\x03\x01')
        self.assertEqual(client.request('GET', '/healthz')[0], 200)

if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--binary', required=True)
    ARGS, rest = parser.parse_known_args()
    daemon_test.ARGS = ARGS
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
