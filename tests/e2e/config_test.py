#!/usr/bin/python3
"""End-to-end tests of configuration checking: `modelmon check-config FILE` and start-up agree on
the exit code for every configuration (0 and serving, 2 for a configuration error, 1 for a runtime
failure only start-up can see), special files never block or fill memory, and reference uploads
with categories that events would refuse get a 4xx while /metrics stays promtool-clean.

Run by ctest (tests/e2e/CMakeLists.txt); standalone:
  /usr/bin/python3 tests/e2e/config_test.py --binary build/release/modelmon --promtool promtool
"""

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Modelmon, metric, parse_metrics  # noqa: E402

ARGS = None
# Every command here must finish well within this; a FIFO or /dev/zero that blocked would not.
COMMAND_DEADLINE_S = 20

CONFIG = """\
server:
  listen: "{listen}"
{server_extra}evaluation_interval: 100ms
models:
  - name: fraud
    task: binary_classification
    features:
      - {{name: amount, type: numerical}}
      - {{name: country, type: categorical}}
    reference: {reference}
"""

GOOD_CSV = 'amount,country,prediction\n' + ''.join(
    '%d.5,%s,%d\n' % (i, 'DE' if i % 3 else 'FR', i % 2) for i in range(60))


def openssl(*args, cwd):
    subprocess.run(['openssl', *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


class ConfigTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.addCleanup(self.tmp.cleanup)

    def file(self, name, content):
        path = os.path.join(self.dir, name)
        with open(path, 'wb') as f:
            f.write(content.encode() if isinstance(content, str) else content)
        return path

    def fifo(self, name):
        path = os.path.join(self.dir, name)
        os.mkfifo(path)
        return path

    def config(self, listen='127.0.0.1:0', server_extra='', reference=None):
        if reference is None:
            reference = '{file: "%s"}' % self.file('ref.csv', GOOD_CSV)
        return self.file('modelmon.yaml', CONFIG.format(listen=listen, server_extra=server_extra,
                                                        reference=reference))

    def check(self, config_path):
        return subprocess.run([ARGS.binary, 'check-config', config_path], capture_output=True,
                              timeout=COMMAND_DEADLINE_S, stdin=subprocess.DEVNULL)

    def start(self, config_path):
        """Start-up that is expected to fail: its completed process (it must exit by itself)."""
        port_file = os.path.join(self.dir, 'failed.port')
        return subprocess.run([ARGS.binary, '--config', config_path, '--port-file', port_file],
                              capture_output=True, timeout=COMMAND_DEADLINE_S,
                              stdin=subprocess.DEVNULL)

    def assert_both_fail(self, config_path, code, message):
        """check-config and start-up both exit with `code`, naming `message` on stderr."""
        checked = self.check(config_path)
        started = self.start(config_path)
        for what, proc in (('check-config', checked), ('start-up', started)):
            self.assertEqual(proc.returncode, code, '%s: %s' % (what, proc.stderr.decode()))
            self.assertIn(message, proc.stderr.decode(), what)

    def assert_both_succeed(self, config_path, host='127.0.0.1'):
        """check-config exits 0 and the daemon starts, serves /readyz on `host`, and exits 0."""
        checked = self.check(config_path)
        self.assertEqual(checked.returncode, 0, checked.stderr.decode())
        self.assertIn(b': OK (1 model(s))', checked.stdout)
        d = Modelmon(ARGS.binary, config_path, self.dir, listen=None)
        try:
            conn = http.client.HTTPConnection(host, d.port, timeout=10)
            conn.request('GET', '/readyz')
            self.assertEqual(conn.getresponse().status, 200)
            conn.close()
        finally:
            self.assertEqual(d.stop(), 0, d.output())

    # The happy path and host names.

    def test_valid_config_checks_and_starts(self):
        self.assert_both_succeed(self.config())

    def test_localhost_resolves_in_both(self):
        self.assert_both_succeed(self.config(listen='localhost:0'), host='localhost')

    def test_unresolvable_host_is_a_config_error_in_both(self):
        self.assert_both_fail(self.config(listen='no-such-host.invalid:0'), 2,
                              'server.listen: cannot resolve the host "no-such-host.invalid"')

    def test_port_in_use_fails_only_at_start_up_with_exit_1(self):
        with socket.socket() as taken:
            taken.bind(('127.0.0.1', 0))
            taken.listen(1)
            path = self.config(listen='127.0.0.1:%d' % taken.getsockname()[1])
            self.assertEqual(self.check(path).returncode, 0)  # Binding is start-up's alone.
            started = self.start(path)
            self.assertEqual(started.returncode, 1, started.stderr.decode())
            self.assertIn(b'cannot listen on 127.0.0.1:', started.stderr)

    # Reference files.

    def test_missing_reference_is_a_config_error_in_both(self):
        missing = os.path.join(self.dir, 'missing.csv')
        self.assert_both_fail(self.config(reference='{file: "%s"}' % missing), 2,
                              'models[0].reference.file: %s: cannot open file' % missing)

    def test_malformed_reference_is_a_config_error_in_both(self):
        bad = self.file('bad.csv', 'amount,country\n1,DE\nabc,FR\n')
        self.assert_both_fail(self.config(reference='{file: "%s"}' % bad), 2,
                              'line 3, column amount: expected a number, got "abc"')

    def test_reference_with_invalid_utf8_is_a_config_error_in_both(self):
        bad = self.file('utf8.csv', b'amount,country\n1,caf\xc3\n')
        self.assert_both_fail(self.config(reference='{file: "%s"}' % bad), 2,
                              'line 2, column country: category is not valid UTF-8')

    def test_special_files_as_reference_are_refused_without_blocking(self):
        fifo = self.fifo('ref.fifo')
        self.assert_both_fail(self.config(reference='{file: "%s"}' % fifo), 2,
                              '%s: not a regular file (a FIFO)' % fifo)
        self.assert_both_fail(self.config(reference='{file: /dev/zero}'), 2,
                              '/dev/zero: not a regular file (a character device)')

    # The configuration file itself.

    def test_special_files_as_config_are_refused_without_blocking(self):
        fifo = self.fifo('config.fifo')
        self.assert_both_fail(fifo, 2, '%s: not a regular file (a FIFO)' % fifo)
        self.assert_both_fail('/dev/zero', 2, '/dev/zero: not a regular file (a character device)')

    def test_special_files_as_snapshot_path_are_refused_in_both(self):
        fifo = self.fifo('state.fifo')
        for special in (fifo, '/dev/zero'):
            path = self.config()
            with open(path, 'a') as f:
                f.write('state: {snapshot_path: "%s"}\n' % special)
            self.assert_both_fail(path, 2, 'state.snapshot_path: %s: not a regular file' % special)

    def test_token_with_crlf_is_a_config_error_in_both(self):
        path = self.config(server_extra='  auth: {ingest_token: "0123456789abcdef\\r\\nX-A: b"}\n')
        self.assert_both_fail(path, 2, 'server.auth.ingest_token: a token may not contain control '
                                       'characters')

    def test_bare_number_duration_is_a_config_error_in_both(self):
        path = self.config(server_extra='  request_timeout: 10\n')
        self.assert_both_fail(path, 2, 'server.request_timeout: a bare number is not a duration; '
                                       'write 10s')

    # TLS files.

    def make_cert(self):
        openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
                '-nodes', '-keyout', 'server.key', '-out', 'server.crt', '-days', '1', '-subj',
                '/CN=localhost', cwd=self.dir)
        return os.path.join(self.dir, 'server.crt'), os.path.join(self.dir, 'server.key')

    def tls_config(self, cert, key):
        return self.config(server_extra='  tls: {cert_file: "%s", key_file: "%s"}\n' % (cert, key))

    def test_tls_config_checks_and_starts(self):
        cert, key = self.make_cert()
        path = self.tls_config(cert, key)
        self.assertEqual(self.check(path).returncode, 0, self.check(path).stderr.decode())
        d = Modelmon(ARGS.binary, path, self.dir, listen=None)
        self.assertEqual(d.stop(), 0, d.output())

    def test_missing_cert_is_a_config_error_in_both(self):
        _, key = self.make_cert()
        missing = os.path.join(self.dir, 'missing.crt')
        self.assert_both_fail(self.tls_config(missing, key), 2,
                              'server.tls.cert_file: %s: cannot open file' % missing)

    def test_bad_key_is_a_config_error_in_both(self):
        cert, _ = self.make_cert()
        garbage = self.file('garbage.key', '-----BEGIN PRIVATE KEY-----\nnot a key\n'
                                           '-----END PRIVATE KEY-----\n')
        self.assert_both_fail(self.tls_config(cert, garbage), 2,
                              'server.tls.key_file: cannot load a PEM private key')
        other = os.path.join(self.dir, 'other.key')
        openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
                '-out', other, cwd=self.dir)
        # OpenSSL's own words for a key of another certificate vary by version.
        self.assert_both_fail(self.tls_config(cert, other), 2, 'server.tls.key_file: ')

    def test_special_files_as_cert_or_key_are_refused_without_blocking(self):
        cert, key = self.make_cert()
        fifo = self.fifo('cert.fifo')
        self.assert_both_fail(self.tls_config(fifo, key), 2,
                              'server.tls.cert_file: %s: not a regular file (a FIFO)' % fifo)
        self.assert_both_fail(self.tls_config(cert, '/dev/zero'), 2,
                              'server.tls.key_file: /dev/zero: not a regular file')


class ReferenceUploadTest(unittest.TestCase):
    """Uploads carrying categories that events would refuse: 400 with a JSON error, counted, and
    the exposition stays valid."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        path = os.path.join(self.tmp.name, 'modelmon.yaml')
        with open(path, 'w') as f:
            f.write(CONFIG.format(listen='127.0.0.1:0', server_extra='', reference='{capture: 50}'))
        self.d = Modelmon(ARGS.binary, path, self.tmp.name, wait_ready=True)
        self.addCleanup(self.d.stop)

    def request(self, method, path, body=b'', content_type='text/csv'):
        conn = http.client.HTTPConnection('127.0.0.1', self.d.port, timeout=30)
        try:
            conn.request(method, path, body, {'Content-Type': content_type})
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def metrics(self):
        status, body = self.request('GET', '/metrics')
        self.assertEqual(status, 200)
        return body.decode()

    def assert_promtool_clean(self, text):
        if not ARGS.promtool:
            return
        proc = subprocess.run([ARGS.promtool, 'check', 'metrics'], input=text.encode(),
                              capture_output=True, timeout=COMMAND_DEADLINE_S)
        self.assertEqual(proc.returncode, 0, proc.stdout.decode() + proc.stderr.decode())

    def test_refused_categories_get_400_and_metrics_stay_valid(self):
        uploads = [
            (b'amount,country\n1,DE\n2,caf\xc3\n', b'category is not valid UTF-8'),
            (b'amount,country\n1,' + b'x' * (7 << 20) + b'\n', b'category longer than 1024 bytes'),
            (b'amount,country\n1,__other__\n', b'category \\"__other__\\" is reserved'),
        ]
        for body, message in uploads:
            status, answer = self.request('PUT', '/v1/models/fraud/reference', body)
            self.assertEqual(status, 400, answer[:200])
            self.assertIn(message, answer[:400])
            self.assertIn('error', json.loads(answer))
        # The same categories in events are refused and counted by reason.
        events = '\n'.join(json.dumps({'model': 'fraud', 'prediction': 0,
                                       'features': {'amount': 1, 'country': c}})
                           for c in ('__other__', 'x' * 1025, 'DE'))
        status, answer = self.request('POST', '/v1/predictions', events.encode(),
                                      'application/x-ndjson')
        self.assertEqual(status, 200, answer)
        self.assertEqual(json.loads(answer)['rejected'], 2)
        samples = parse_metrics(self.metrics())
        self.assertEqual(metric(samples, 'modelmon_http_requests_total', handler='reference',
                                code='400'), 3)
        self.assertEqual(metric(samples, 'modelmon_events_rejected_total', kind='prediction',
                                reason='invalid_value'), 2)
        # A valid reference with non-ASCII categories is accepted and exported.
        good = 'amount,country\n' + ''.join('%d,%s\n' % (i, 'Z\u00fcrich' if i % 2 else 'DE')
                                            for i in range(40))
        status, answer = self.request('PUT', '/v1/models/fraud/reference', good.encode())
        self.assertEqual(status, 200, answer)
        text = self.metrics()
        self.assertIn('Z\u00fcrich', text)
        self.assert_promtool_clean(text)


if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--binary', required=True)
    parser.add_argument('--promtool', default='')
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
