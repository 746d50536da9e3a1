#!/usr/bin/python3
"""End-to-end test of alert delivery: the real modelmon daemon pushes its alerts to a real Alertmanager.

Both run on ephemeral loopback ports (Alertmanager with clustering off and temporary storage). The
daemon's window first holds exactly its reference sample, then a shifted copy (FeatureDrift fires
and must show up in Alertmanager's GET /api/v2/alerts with its labels and annotations), then the
reference again (the alert must be resolved in Alertmanager). Then Alertmanager is killed, the
drift comes back, Alertmanager restarts on the same port and storage, and the alert must arrive:
nothing is lost, and modelmon counts the failed deliveries.

Run by ctest (tests/e2e/CMakeLists.txt); standalone:
  /usr/bin/python3 tests/e2e/alertmanager_test.py --binary build/release/modelmon \
      --alertmanager /usr/bin/prometheus-alertmanager
Without alertmanager it prints a skip message and exits 0, unless CI is set (then it fails).
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import http_get, metric, parse_metrics  # noqa: E402

ARGS = None
DEADLINE_S = 20

MODELMON_CONFIG = """
server:
  listen: "127.0.0.1:0"
evaluation_interval: 200ms
alerts:
  - {{name: FeatureDrift, metric: drift_p_value, test: ks, op: "<", threshold: 0.01,
     clear_threshold: 0.05, for: 0s, min_samples: 100, severity: warning,
     annotations: {{summary: "KS drift"}}}}
notify: {{alertmanager_url: "http://127.0.0.1:{am_port}", external_url: "http://modelmon.test:9100",
         resend_interval: 1s, timeout: 1s}}
models:
  - name: fraud
    task: binary_classification
    classes: ["0", "1"]
    features:
      - {{name: a, type: numerical}}
      - {{name: b, type: numerical}}
    window: {{size: 300}}
    reference: {{file: reference.csv}}
    drift:
      numerical_tests: [ks]
      min_samples: 30
"""

# The shipped Alertmanager configuration (deploy/alertmanager/alertmanager.yml) is used as it is:
# its group timings delay notifications, not what GET /api/v2/alerts lists.


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for(predicate, what, timeout=DEADLINE_S):
    return harness.wait_for(predicate, timeout, 0.05, what)


def http_post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method='POST',
                                 headers={'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, json.loads(r.read())


def rows():
    """Reference: a = b = 0.0 .. 29.9 (300 distinct values)."""
    return [(i / 10.0, i / 10.0) for i in range(300)]


def events(shift):
    return [{'model': 'fraud', 'id': 'e%d' % i, 'features': {'a': a + shift, 'b': b},
             'prediction': i % 2, 'score': (i % 10) / 10.0} for i, (a, b) in enumerate(rows())]


def metric_value(text, name, **labels):
    return metric(parse_metrics(text), name, **labels)


def parse_time(text):
    """RFC 3339 as Alertmanager writes it (nanoseconds, Z or offset) -> aware datetime."""
    m = re.match(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$', text)
    assert m, text
    frac = (m.group(2) or '.0')[1:7].ljust(6, '0')
    tz = '+00:00' if m.group(3) == 'Z' else m.group(3)
    return datetime.datetime.fromisoformat('%s.%s%s' % (m.group(1), frac, tz))


class Alertmanager:
    def __init__(self, workdir, port):
        self.workdir = workdir
        self.port = port
        self.config = os.path.join(ARGS.source_dir, 'deploy', 'alertmanager', 'alertmanager.yml')
        self.storage = os.path.join(workdir, 'am-data')
        os.makedirs(self.storage, exist_ok=True)
        self.log_path = os.path.join(workdir, 'alertmanager.log')
        self.proc = None

    def start(self):
        self.proc = harness.Process(
            [ARGS.alertmanager, '--config.file=' + self.config,
             '--storage.path=' + self.storage,
             '--web.listen-address=127.0.0.1:%d' % self.port,
             '--cluster.listen-address='],
            self.log_path, log_mode='a+')

        def ready():
            if not self.proc.running():
                raise AssertionError('alertmanager exited:\n' + self.proc.output())
            return http_get('http://127.0.0.1:%d/-/ready' % self.port)[0] == 200
        wait_for(ready, 'alertmanager to be ready')

    def kill(self):
        if self.proc:
            self.proc.kill()

    def alerts(self):
        status, data = http_get('http://127.0.0.1:%d/api/v2/alerts' % self.port)
        return json.loads(data) if status == 200 else None

    def drift_alerts(self):
        return [a for a in (self.alerts() or []) if a['labels'].get('alertname') == 'FeatureDrift']


class Modelmon(harness.Modelmon):
    def __init__(self, workdir, am_port):
        with open(os.path.join(workdir, 'reference.csv'), 'w') as f:
            f.write('a,b,prediction,score\n')
            for i, (a, b) in enumerate(rows()):
                f.write('%r,%r,%d,%r\n' % (a, b, i % 2, (i % 10) / 10.0))
        config = os.path.join(workdir, 'modelmon.yaml')
        with open(config, 'w') as f:
            f.write(MODELMON_CONFIG.format(am_port=am_port))
        super().__init__(ARGS.binary, config, workdir, start_timeout=DEADLINE_S)
        self.base = self.base_url

    def post(self, body):
        status, reply = http_post(self.base + '/v1/predictions', body)
        assert status == 200 and reply['rejected'] == 0, reply

    def firing(self):
        status, data = http_get(self.base + '/v1/alerts')
        assert status == 200, data
        return [a for a in json.loads(data)['alerts'] if a['state'] == 'firing']

    def metrics(self):
        status, data = http_get(self.base + '/metrics')
        assert status == 200, data
        return data.decode()


class AlertmanagerDeliveryTest(unittest.TestCase):
    def setUp(self):
        self.start = time.monotonic()
        self.tmp = tempfile.TemporaryDirectory()
        self.am = Alertmanager(self.tmp.name, free_port())
        self.am.start()
        self.daemon = Modelmon(self.tmp.name, self.am.port)

    def tearDown(self):
        self.daemon.kill()
        self.am.kill()
        self.tmp.cleanup()
        print('total %.1fs' % (time.monotonic() - self.start), file=sys.stderr)

    def diagnostics(self):
        logs = []
        for path in (self.daemon.log_path, self.am.log_path):
            with open(path) as f:
                logs.append(f.read()[-4000:])
        return '\n--- modelmon log ---\n%s\n--- alertmanager log ---\n%s' % tuple(logs)

    def step(self, what):
        print('[%5.1fs] %s' % (time.monotonic() - self.start, what), file=sys.stderr)

    def test_alerts_reach_alertmanager_resolve_and_survive_an_outage(self):
        try:
            self.run_scenario()
        except AssertionError as e:
            raise AssertionError('%s%s' % (e, self.diagnostics())) from None

    def run_scenario(self):
        am, d = self.am, self.daemon

        # Phase 1: the window is exactly the reference: nothing fires, nothing is sent.
        d.post(events(0))
        wait_for(lambda: metric_value(d.metrics(), 'modelmon_drift_p_value', feature='a',
                                      test='ks') == 1, 'a first drift evaluation')
        self.assertEqual(d.firing(), [])
        self.assertEqual(am.drift_alerts(), [])

        # Phase 2: `a` shifts by +10: FeatureDrift fires and reaches Alertmanager.
        d.post(events(10))
        alerts = wait_for(am.drift_alerts, 'FeatureDrift in Alertmanager')
        self.step('FeatureDrift delivered')
        self.assertEqual(len(alerts), 1)
        alert = alerts[0]
        self.assertEqual(alert['labels'], {'alertname': 'FeatureDrift', 'model': 'fraud',
                                           'feature': 'a', 'test': 'ks', 'severity': 'warning'})
        self.assertEqual(alert['annotations'], {'summary': 'KS drift'})
        self.assertEqual(alert['status']['state'], 'active')
        self.assertEqual(alert['generatorURL'], 'http://modelmon.test:9100/v1/alerts')
        now = datetime.datetime.now(datetime.timezone.utc)
        starts, ends = parse_time(alert['startsAt']), parse_time(alert['endsAt'])
        self.assertLessEqual(starts, now)
        self.assertGreater(ends, now)  # now + 4 x resend_interval when sent.
        self.assertLessEqual(ends - now, datetime.timedelta(seconds=5))
        [firing] = d.firing()
        self.assertEqual(firing['labels']['feature'], 'a')

        # Phase 3: back to the reference: the alert resolves in Alertmanager.
        d.post(events(0))

        def resolved():
            now = datetime.datetime.now(datetime.timezone.utc)
            return all(parse_time(a['endsAt']) <= now for a in am.drift_alerts())
        wait_for(resolved, 'FeatureDrift to resolve in Alertmanager')
        self.step('resolution delivered')
        self.assertEqual(d.firing(), [])
        successes = metric_value(d.metrics(), 'modelmon_notifications_total',
                                 notifier='alertmanager', outcome='success')
        self.assertGreaterEqual(successes, 2)

        # Phase 4: Alertmanager goes down; the drift comes back while it is down.
        am.kill()
        self.step('alertmanager killed')
        d.post(events(10))
        wait_for(d.firing, 'FeatureDrift to fire again in modelmon')
        wait_for(lambda: metric_value(d.metrics(), 'modelmon_notifications_total',
                                      notifier='alertmanager', outcome='failure') > 0,
                 'a failed delivery to be counted')
        self.assertGreaterEqual(metric_value(d.metrics(), 'modelmon_notification_queue_length',
                                             notifier='alertmanager'), 1)

        # Alertmanager restarts on the same port and storage: the alert arrives, nothing lost.
        am.start()
        self.step('alertmanager restarted')
        alerts = wait_for(lambda: [a for a in am.drift_alerts()
                                   if a['status']['state'] == 'active'],
                          'FeatureDrift in the restarted Alertmanager', timeout=40)
        self.step('FeatureDrift delivered after the outage')
        self.assertEqual(len(alerts), 1)
        self.assertEqual(alerts[0]['labels']['feature'], 'a')
        text = d.metrics()
        self.assertGreater(metric_value(text, 'modelmon_notifications_total',
                                        notifier='alertmanager', outcome='failure'), 0)
        self.assertGreater(metric_value(text, 'modelmon_notifications_total',
                                        notifier='alertmanager', outcome='success'), successes)

        # The daemon (and its notifier worker) stops cleanly.
        d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(d.proc.wait(timeout=30), 0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--binary', required=True)
    parser.add_argument('--alertmanager', default='')
    parser.add_argument('--source-dir',
                        default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
    global ARGS
    ARGS, rest = parser.parse_known_args()
    ARGS.binary = os.path.abspath(ARGS.binary)
    if not ARGS.alertmanager or shutil.which(ARGS.alertmanager) is None:
        if 'CI' in os.environ:
            print('FAILED: alertmanager not found, and CI installs it (scripts/install-deps.sh)')
            return 1
        print('SKIPPED: alertmanager not found (Debian package `prometheus-alertmanager`; '
              'scripts/install-deps.sh)')
        return 0
    result = unittest.main(argv=[sys.argv[0]] + rest, verbosity=2, exit=False).result
    return 0 if result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
