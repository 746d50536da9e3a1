#!/usr/bin/python3
"""End-to-end tests of the modelmon binary: real process, real sockets, ephemeral port.

Run by ctest (tests/e2e/CMakeLists.txt); standalone:
  /usr/bin/python3 tests/e2e/daemon_test.py --binary build/release/modelmon --promtool promtool
"""

import argparse
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

BASE_CONFIG = """
server:
  listen: "127.0.0.1:0"
  threads: 2
  max_body_bytes: 65536
  max_batch_events: 1000
{server_extra}evaluation_interval: 100ms
log: {{format: {log_format}}}
alerts:
  - {{name: FeatureDrift, metric: drift_p_value, test: ks, op: "<", threshold: 0.01,
     clear_threshold: 0.05, for: 0s, min_samples: 100, severity: warning,
     annotations: {{summary: "KS drift"}}}}
models:
  - name: fraud
    task: binary_classification
    classes: ["0", "1"]
    features:
      - {{name: a, type: numerical}}
      - {{name: b, type: numerical}}
      - {{name: c, type: categorical}}
    window: {{size: 300}}
    reference: {{file: reference.csv}}
    drift:
      numerical_tests: [ks, psi, wasserstein]
      categorical_tests: [chi2, psi, jensen_shannon]
      min_samples: 30
  - name: price
    task: regression
    features:
      - {{name: rooms, type: numerical}}
    reference: {{capture: 50}}
  - name: animal
    task: multiclass_classification
    classes: [cat, dog, bird]
    features:
      - {{name: weight, type: numerical}}
    reference: {{capture: 10}}
    performance: {{window_size: 40}}
"""

def reference_rows():
    """Reference: a = b = 0.0 .. 29.9 (300 distinct values), c cycles x, y, z."""
    return [(i / 10.0, i / 10.0, 'xyz'[i % 3]) for i in range(300)]


def event(a, b, c, i):
    return {'model': 'fraud', 'id': 'e%d' % i, 'features': {'a': a, 'b': b, 'c': c},
            'prediction': i % 2, 'score': (i % 10) / 10.0}


class Daemon(harness.Modelmon):
    """The fraud/price/animal configuration in workdir, served by the binary under test."""

    def __init__(self, workdir, log_format='text', extra_config='', server_extra='', env=None,
                 run_args=()):
        self.workdir = workdir
        with open(os.path.join(workdir, 'reference.csv'), 'w') as f:
            f.write('a,b,c,prediction,score\n')
            for i, (a, b, c) in enumerate(reference_rows()):
                f.write('%r,%r,%s,%d,%r\n' % (a, b, c, i % 2, (i % 10) / 10.0))
        config = os.path.join(workdir, 'modelmon.yaml')
        with open(config, 'w') as f:
            f.write(BASE_CONFIG.format(log_format=log_format, server_extra=server_extra) +
                    extra_config)
        super().__init__(ARGS.binary, config, workdir, run_args=run_args, env=env)
        self.conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=10)

    def request(self, method, path, body=None, content_type='application/json', conn=None,
                headers=None):
        c = conn or self.conn
        headers = dict(headers or {})
        if body is not None:
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            headers['Content-Type'] = content_type
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        return r.status, dict(r.getheaders()), data

    def json(self, method, path, body=None, content_type='application/json'):
        status, headers, data = self.request(method, path, body, content_type)
        return status, json.loads(data)

    def metrics(self):
        status, headers, data = self.request('GET', '/metrics')
        assert status == 200
        return data.decode()

    def wait_for(self, predicate, what, timeout=20):
        return harness.wait_for(predicate, timeout, 0.05, what)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        self.conn.close()
        return super().stop(sig, timeout)


class DaemonTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = Daemon(self.tmp.name)

    def tearDown(self):
        if self.d.proc.poll() is None:
            self.d.stop(signal.SIGKILL)
        self.tmp.cleanup()

    def test_ingest_valid_mixed_and_broken(self):
        d = self.d
        status, body = d.json('POST', '/v1/predictions', event(1.0, 2.0, 'x', 1))
        self.assertEqual((status, body['accepted'], body['rejected']), (200, 1, 0))

        mixed = [event(1.0, 2.0, 'x', 2),
                 {'model': 'fraud', 'features': {'a': 'twelve'}, 'prediction': 1},
                 {'model': 'nope', 'features': {}, 'prediction': 1},
                 event(3.0, 4.0, 'y', 3)]
        status, body = d.json('POST', '/v1/predictions', mixed)
        self.assertEqual(status, 200)
        self.assertEqual((body['accepted'], body['rejected']), (2, 2))
        self.assertEqual(body['errors'][0],
                         {'index': 1, 'error': 'features.a: expected number, got string'})
        self.assertEqual(body['errors'][1]['index'], 2)
        self.assertIn('unknown model', body['errors'][1]['error'])

        ndjson = '\n'.join(json.dumps(event(5.0, 6.0, 'z', i)) for i in range(4, 7)) + '\n{oops}\n'
        status, body = d.json('POST', '/v1/predictions', ndjson, 'application/x-ndjson')
        self.assertEqual((status, body['accepted'], body['rejected']), (200, 3, 1))

        status, body = d.json('POST', '/v1/predictions', '{"model": "fraud",')
        self.assertEqual(status, 400)
        self.assertIn('invalid JSON', body['error'])

        status, body = d.json('POST', '/v1/predictions', {'model': 'fraud'})
        self.assertEqual(status, 400)  # Nothing accepted.
        self.assertEqual(body['accepted'], 0)

        status, body = d.json('POST', '/v1/predictions', 'a=1', 'application/x-www-form-urlencoded')
        self.assertEqual(status, 415)

        status, headers, data = d.request('GET', '/v1/predictions')
        self.assertEqual(status, 405)
        self.assertEqual(headers.get('Allow'), 'POST')
        self.assertIn('error', json.loads(data))

        status, body = d.json('GET', '/v2/nothing')
        self.assertEqual(status, 404)
        self.assertIn('error', body)

        status, body = d.json('POST', '/v1/ground-truth',
                              [{'model': 'fraud', 'id': 'e1', 'label': 1},
                               {'model': 'fraud', 'label': 1}])
        self.assertEqual((status, body['accepted'], body['rejected']), (200, 1, 1))

        # The connection is still usable after all of that (keep-alive).
        status, body = d.json('GET', '/healthz')
        self.assertEqual((status, body), (200, {'status': 'ok'}))

        samples = parse_metrics(d.metrics())
        self.assertEqual(metric(samples, 'modelmon_events_total', model='fraud', kind='prediction'), 6)
        self.assertEqual(metric(samples, 'modelmon_events_total', model='fraud', kind='ground_truth'), 1)
        self.assertEqual(metric(samples, 'modelmon_events_rejected_total', kind='prediction',
                                reason='wrong_type'), 1)
        self.assertEqual(metric(samples, 'modelmon_events_rejected_total', kind='prediction',
                                reason='unknown_model'), 1)
        self.assertEqual(metric(samples, 'modelmon_events_rejected_total', kind='prediction',
                                reason='invalid_json'), 1)
        self.assertEqual(metric(samples, 'modelmon_events_rejected_total', kind='prediction',
                                reason='invalid_body'), 1)
        self.assertEqual(metric(samples, 'modelmon_events_rejected_total', kind='prediction',
                                reason='missing_field'), 1)
        self.assertEqual(metric(samples, 'modelmon_events_rejected_total', kind='prediction',
                                reason='unsupported_media_type'), 1)
        self.assertEqual(metric(samples, 'modelmon_http_requests_total', handler='predictions',
                                code='405'), 1)
        self.assertEqual(metric(samples, 'modelmon_reference_samples', model='fraud'), 300)

    def test_body_limit_gives_413_and_connection_recovers(self):
        d = self.d
        big = json.dumps([event(1.0, 1.0, 'x', i) for i in range(2000)])
        self.assertGreater(len(big), 65536)
        status, headers, data = d.request('POST', '/v1/predictions', big)
        self.assertEqual(status, 413)
        self.assertIn('larger than 65536', json.loads(data)['error'])
        d.conn.close()
        status, body = d.json('GET', '/readyz')
        self.assertEqual((status, body['status']), (200, 'ready'))
        samples = parse_metrics(d.metrics())
        self.assertEqual(metric(samples, 'modelmon_limit_hits_total', limit='body_bytes'), 1)

    def test_too_many_events_gives_413(self):
        status, body = self.d.json('POST', '/v1/predictions', [{}] * 1001)
        self.assertEqual(status, 413)
        self.assertIn('at most 1000', body['error'])

    def test_metrics_pass_promtool(self):
        if not ARGS.promtool:
            self.skipTest('promtool not installed')
        d = self.d
        d.json('POST', '/v1/predictions', [event(i / 10.0, i / 10.0, 'xyz'[i % 3], i)
                                           for i in range(100)])
        d.wait_for(lambda: 'modelmon_drift_p_value{' in d.metrics(), 'drift metrics')
        text = d.metrics()
        proc = subprocess.run([ARGS.promtool, 'check', 'metrics'], input=text.encode(),
                              capture_output=True)
        self.assertEqual(proc.returncode, 0, proc.stdout.decode() + proc.stderr.decode())

    def test_hostile_input_gets_4xx_and_metrics_stay_valid(self):
        d = self.d
        bad = [
            (b'{"model":"fraud","features":{"c":"\xff\xfe"},"prediction":1}', 400),  # UTF-8
            (b'[' * 5000 + b']' * 5000, 400),  # Deeper than the parser's depth limit.
            (b'{"model":"fraud","features":{"a":1e400},"prediction":1}', 400),
            (b'{"model":"fraud","features":{"a":NaN},"prediction":1}', 400),
            (b'{"model":"fraud","features":{"a":Infinity},"prediction":1}', 400),
            (b'{"model":"fraud","features":{"a":1,"a":2},"prediction":1}', 400),
            (b'{"model":"fraud","features":{"a":"x"},"prediction":1}', 400),
            (b'{"model":"fraud","features":{"a":[1]},"prediction":{"x":1}}', 400),
            (b'', 400),
            (b'null', 400),
            (b'{"model":"fraud\u0000","features":{},"prediction":1}', 400),
        ]
        for body, want in bad:
            status, _, data = d.request('POST', '/v1/predictions', body)
            self.assertEqual(status, want, body[:80])
            answer = json.loads(data)  # A body error, or every event rejected with its reason.
            self.assertTrue('error' in answer or answer['rejected'] == 1, answer)
        status, _, _ = d.request('POST', '/v1/predictions', b'{}', content_type='text/plain')
        self.assertEqual(status, 415)
        # Accepted, with hostile strings that end up in label values or category buckets.
        hostile = 'v"1\n\\x{}=,\u6a21\u578b'
        ev = {'model': 'fraud', 'model_version': hostile,
              'features': {'a': 1.0, 'b': 2.0, 'c': 'q"uo\\te\n{}', 'x' * 1000: 1},
              'prediction': 1}
        status, body = d.json('POST', '/v1/predictions', [ev] * 10)
        self.assertEqual((status, body.get('accepted')), (200, 10), body)
        # A reference whose category names are hostile: they become bucket label values.
        ref = '\n'.join(json.dumps({'features': {'a': i / 10.0, 'b': i / 10.0,
                                                 'c': ['q"uo\\te\n', '\u00e9\\', 'x'][i % 3]},
                                    'prediction': i % 2}) for i in range(300))
        status, _, data = d.request('PUT', '/v1/models/fraud/reference', ref,
                                    content_type='application/x-ndjson')
        self.assertEqual(status, 200, data)
        d.json('POST', '/v1/predictions', [event(i / 10.0, i / 10.0, 'xyz'[i % 3], i)
                                           for i in range(100)])
        d.wait_for(lambda: 'modelmon_drift_p_value{' in d.metrics(), 'drift metrics')
        status, body = d.json('GET', '/healthz')
        self.assertEqual(status, 200)
        text = d.metrics()
        samples = parse_metrics(text)
        rejected = {r: metric(samples, 'modelmon_events_rejected_total', kind='prediction',
                              reason=r) or 0
                    for r in ('invalid_body', 'invalid_value', 'wrong_type', 'unknown_model',
                              'unsupported_media_type')}
        self.assertEqual(rejected, {'invalid_body': 7, 'invalid_value': 1, 'wrong_type': 2,
                                    'unknown_model': 1, 'unsupported_media_type': 1})
        self.assertTrue(any('model_version="v\\"1\\n' in line for line in text.splitlines()))
        if ARGS.promtool:
            proc = subprocess.run([ARGS.promtool, 'check', 'metrics'], input=text.encode(),
                                  capture_output=True)
            self.assertEqual(proc.returncode, 0, proc.stdout.decode() + proc.stderr.decode())

    def test_drift_detected_for_exactly_the_shifted_feature(self):
        d = self.d
        rows = reference_rows()
        # Phase 1: the window holds exactly the reference sample: no test can flag drift.
        d.json('POST', '/v1/predictions', [event(a, b, c, i) for i, (a, b, c) in enumerate(rows)])

        def detected():
            s = parse_metrics(d.metrics())
            values = {(f, t): metric(s, 'modelmon_drift_detected', model='fraud', feature=f, test=t)
                      for f, t in [('a', 'ks'), ('b', 'ks'), ('c', 'chi2'), ('a', 'psi')]}
            return None if None in values.values() else (values, s)

        values, s = d.wait_for(detected, 'first drift evaluation')
        self.assertEqual(set(values.values()), {0})
        self.assertEqual(metric(s, 'modelmon_drift_p_value', model='fraud', feature='a', test='ks'), 1)
        self.assertEqual(metric(s, 'modelmon_drift_features_drifted', model='fraud'), 0)

        # Phase 2: `a` moves by +10; b, c, prediction and score keep their exact distributions.
        d.json('POST', '/v1/predictions',
               [event(a + 10, b, c, i) for i, (a, b, c) in enumerate(rows)])

        def shifted():
            r = detected()
            return r if r and r[0][('a', 'ks')] == 1 else None

        values, s = d.wait_for(shifted, 'drift on a')
        self.assertEqual(values[('a', 'psi')], 1)
        self.assertEqual(values[('b', 'ks')], 0)
        self.assertEqual(values[('c', 'chi2')], 0)
        self.assertEqual(metric(s, 'modelmon_drift_detected', model='fraud',
                                feature='__prediction__', test='chi2'), 0)
        self.assertEqual(metric(s, 'modelmon_drift_features_drifted', model='fraud'), 1)
        self.assertEqual(metric(s, 'modelmon_dataset_drift_detected', model='fraud'), 0)
        self.assertLess(metric(s, 'modelmon_drift_p_value', model='fraud', feature='a', test='ks'),
                        1e-10)
        self.assertEqual(metric(s, 'modelmon_drift_window_samples', model='fraud', feature='a',
                                test='ks'), 300)

        # The daemon's own alert fires for exactly that feature...
        def firing():
            alerts = d.json('GET', '/v1/alerts')[1]['alerts']
            return alerts if any(a['state'] == 'firing' for a in alerts) else None

        alerts = d.wait_for(firing, 'FeatureDrift to fire')
        self.assertEqual(len(alerts), 1)
        self.assertEqual(alerts[0]['alertname'], 'FeatureDrift')
        self.assertEqual(alerts[0]['labels']['feature'], 'a')
        self.assertEqual(alerts[0]['labels']['severity'], 'warning')
        self.assertEqual(alerts[0]['annotations'], {'summary': 'KS drift'})
        s = parse_metrics(d.metrics())
        self.assertEqual(metric(s, 'modelmon_alert_state', alertname='FeatureDrift', feature='a'), 2)
        self.assertEqual(metric(s, 'modelmon_alerts_firing'), 1)
        self.assertIn('alert FeatureDrift inactive -> firing', open(d.log_path).read())

        status, body = d.json('GET', '/v1/models/fraud')
        self.assertEqual(status, 200)
        features = {f['name']: f for f in body['drift']['features']}
        self.assertTrue(features['a']['drift_detected'])
        self.assertFalse(features['b']['drift_detected'])
        self.assertEqual(features['a']['status'], 'ok')
        self.assertAlmostEqual(features['a']['summary']['mean'], 24.95)
        self.assertAlmostEqual(features['a']['data_quality']['out_of_range_ratio'], 100 / 300)

        # ...and resolves once the window is back to the reference distribution.
        d.json('POST', '/v1/predictions', [event(a, b, c, i) for i, (a, b, c) in enumerate(rows)])
        d.wait_for(lambda: d.json('GET', '/v1/alerts')[1]['alerts'] == [], 'FeatureDrift to resolve')
        s = parse_metrics(d.metrics())
        self.assertEqual(metric(s, 'modelmon_alerts_firing'), 0)
        self.assertIsNone(metric(s, 'modelmon_alert_state', alertname='FeatureDrift'))
        self.assertEqual(metric(s, 'modelmon_alert_transitions_total', alertname='FeatureDrift',
                                to='inactive'), 1)
        self.assertIn('alert FeatureDrift firing -> resolved', open(d.log_path).read())

    def test_insufficient_data_publishes_no_verdict(self):
        d = self.d
        d.json('POST', '/v1/predictions', [event(1.0, 1.0, 'x', i) for i in range(10)])
        d.wait_for(lambda: d.json('GET', '/v1/models/fraud')[1]['drift'].get('evaluated_at'),
                   'an evaluation')
        status, body = d.json('GET', '/v1/models/fraud')
        self.assertEqual(body['drift']['features'][0]['status'], 'insufficient_data')
        self.assertNotIn('modelmon_drift_detected{', d.metrics())

    def test_capture_reference_and_promote(self):
        d = self.d
        status, body = d.json('GET', '/v1/models/price')
        self.assertEqual(body['reference']['state'], 'capturing')
        d.json('POST', '/v1/predictions', [{'model': 'price', 'features': {'rooms': i % 7},
                                            'prediction': 100.0 + i} for i in range(60)])
        status, body = d.json('GET', '/v1/models/price')
        self.assertEqual((body['reference']['state'], body['reference']['rows']), ('ready', 50))
        status, body = d.json('POST', '/v1/models/price/reference/promote')
        self.assertEqual((status, body), (200, {'promoted': True}))
        status, body = d.json('GET', '/v1/models/price')
        self.assertEqual(body['reference']['rows'], 60)

        csv = 'rooms,prediction\n1,100\n2,200\n3,\n'
        status, body = d.json('PUT', '/v1/models/price/reference', csv, 'text/csv')
        self.assertEqual((status, body), (200, {'reference_rows': 3}))
        status, body = d.json('PUT', '/v1/models/price/reference', 'rooms\nmany\n', 'text/csv')
        self.assertEqual(status, 400)
        self.assertIn('line 2, column rooms: expected a number', body['error'])
        status, body = d.json('GET', '/v1/models/nothing')
        self.assertEqual(status, 404)

    def test_sigterm_shuts_down_gracefully(self):
        d = self.d
        d.json('POST', '/v1/predictions', event(1.0, 1.0, 'x', 1))
        self.assertEqual(d.stop(signal.SIGTERM), 0)
        with open(d.log_path) as f:
            log = f.read()
        self.assertIn('received SIGTERM', log)
        self.assertIn('modelmon stopped', log)

    def test_sigterm_closes_idle_keepalive_connections(self):
        d = self.d
        idle = http.client.HTTPConnection('127.0.0.1', d.port, timeout=10)
        status, _, _ = d.request('GET', '/healthz', conn=idle)
        self.assertEqual(status, 200)
        start = time.monotonic()
        d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(d.proc.wait(timeout=10), 0)
        # Idle connections are closed at once rather than waited for (shutdown_timeout is 20 s).
        self.assertLess(time.monotonic() - start, 5)
        idle.close()

    def test_ground_truth_join_and_classification_metrics(self):
        from sklearn import metrics as skm  # Debian's scikit-learn 1.2 under /usr/bin/python3.
        d = self.d

        def pred(i):
            # Deterministic but irregular predictions and scores, with ties in the scores.
            return {'model': 'fraud', 'id': 'p%d' % i, 'features': {'a': 1.0, 'b': 1.0, 'c': 'x'},
                    'prediction': (i * 7) % 3 % 2, 'score': ((i * 37) % 11) / 10.0}

        def label(i):
            return (i * 5) % 4 % 2

        # Ground truth first for p60..p64 (it waits), then every prediction, then labels for p0..p49
        # in reverse order; p50..p59 never get one; a duplicate and an orphan label.
        d.json('POST', '/v1/ground-truth', [{'model': 'fraud', 'id': 'p%d' % i, 'label': label(i)}
                                            for i in range(60, 65)])
        d.json('POST', '/v1/predictions', [pred(i) for i in range(65)])
        status, body = d.json('POST', '/v1/ground-truth',
                              [{'model': 'fraud', 'id': 'p%d' % i, 'label': label(i)}
                               for i in reversed(range(50))] +
                              [{'model': 'fraud', 'id': 'p3', 'label': 1 - label(3)},
                               {'model': 'fraud', 'id': 'nobody', 'label': 1}])
        self.assertEqual((status, body['accepted']), (200, 52))
        joined = list(range(50)) + list(range(60, 65))
        y_true = [label(i) for i in joined]
        y_pred = [pred(i)['prediction'] for i in joined]
        y_score = [pred(i)['score'] for i in joined]

        def evaluated():
            # An evaluation after the last request: gauges are published at evaluation, and one
            # may have run between the requests above.
            s = parse_metrics(d.metrics())
            return s if metric(s, 'modelmon_performance_window_samples', model='fraud',
                               model_version='__all__') == 55 else None

        s = d.wait_for(evaluated, 'performance metrics over all 55 joined pairs')
        self.assertEqual(metric(s, 'modelmon_ground_truth_joined_total', model='fraud'), 55)
        self.assertEqual(metric(s, 'modelmon_ground_truth_duplicates_total', model='fraud',
                                kind='label'), 1)
        self.assertEqual(metric(s, 'modelmon_ground_truth_pending', model='fraud', kind='label'), 1)
        self.assertEqual(metric(s, 'modelmon_ground_truth_pending', model='fraud',
                                kind='prediction'), 10)
        self.assertEqual(metric(s, 'modelmon_performance_window_samples', model='fraud',
                                model_version='__all__'), 55)
        expected = {
            'modelmon_classification_accuracy': skm.accuracy_score(y_true, y_pred),
            'modelmon_classification_roc_auc': skm.roc_auc_score(y_true, y_score),
            'modelmon_classification_log_loss': skm.log_loss(y_true, y_score),
        }
        for name, value in expected.items():
            self.assertAlmostEqual(metric(s, name, model='fraud', model_version='__all__'), value,
                                   places=12, msg=name)
        f1 = skm.f1_score(y_true, y_pred, zero_division=0)
        self.assertAlmostEqual(metric(s, 'modelmon_classification_f1', model='fraud',
                                      model_version='__all__', average='binary'), f1, places=12)
        macro = skm.f1_score(y_true, y_pred, average='macro', zero_division=0)
        self.assertAlmostEqual(metric(s, 'modelmon_classification_f1', model='fraud',
                                      model_version='__all__', average='macro'), macro, places=12)
        cm = skm.confusion_matrix(y_true, y_pred, labels=[0, 1])
        self.assertEqual(metric(s, 'modelmon_classification_confusion_matrix', model='fraud',
                                true_class='1', predicted_class='0'), cm[1][0])
        status, body = d.json('GET', '/v1/models/fraud')
        self.assertEqual(body['performance']['pending_predictions'], 10)
        windows = {w['model_version']: w for w in body['performance']['windows']}
        self.assertAlmostEqual(windows['__all__']['accuracy'], expected['modelmon_classification_accuracy'])

    def test_regression_and_multiclass_metrics_match_sklearn(self):
        from sklearn import metrics as skm
        d = self.d
        truth = [100.0 + (i * 37) % 23 for i in range(30)]
        preds = [t + ((i * 11) % 7) - 3 for i, t in enumerate(truth)]
        d.json('POST', '/v1/predictions', [{'model': 'price', 'id': 'r%d' % i,
                                            'features': {'rooms': i % 5}, 'prediction': p}
                                           for i, p in enumerate(preds)])
        d.json('POST', '/v1/ground-truth', [{'model': 'price', 'id': 'r%d' % i, 'value': t}
                                            for i, t in enumerate(truth)])
        classes = ['cat', 'dog', 'bird']
        rows = []
        for i in range(60):  # The window keeps the last 40 joined pairs.
            raw = [1 + (i * k * 13) % 7 for k in (1, 2, 3)]
            probs = [r / sum(raw) for r in raw]
            rows.append((classes[(i * 5) % 3], classes[max(range(3), key=lambda k: probs[k])], probs))
        d.json('POST', '/v1/predictions', [{'model': 'animal', 'id': 'a%d' % i,
                                            'features': {'weight': i}, 'prediction': p,
                                            'scores': dict(zip(classes, probs))}
                                           for i, (_, p, probs) in enumerate(rows)])
        d.json('POST', '/v1/ground-truth', [{'model': 'animal', 'id': 'a%d' % i, 'label': y}
                                            for i, (y, _, _) in enumerate(rows)])

        def evaluated():
            s = parse_metrics(d.metrics())
            ready = (metric(s, 'modelmon_regression_mae', model='price', model_version='__all__')
                     is not None and
                     metric(s, 'modelmon_performance_window_samples', model='animal',
                            model_version='__all__') == 40)
            return s if ready else None

        s = d.wait_for(evaluated, 'performance metrics of price and animal')
        expected = {'mae': skm.mean_absolute_error(truth, preds),
                    'mse': skm.mean_squared_error(truth, preds),
                    'r2': skm.r2_score(truth, preds),
                    'mape': skm.mean_absolute_percentage_error(truth, preds)}
        for name, value in expected.items():
            self.assertAlmostEqual(metric(s, 'modelmon_regression_' + name, model='price',
                                          model_version='__all__'), value, places=10, msg=name)
        window = rows[-40:]
        y_true = [r[0] for r in window]
        y_pred = [r[1] for r in window]
        proba = [r[2] for r in window]
        labels = {'model': 'animal', 'model_version': '__all__'}
        self.assertAlmostEqual(metric(s, 'modelmon_classification_accuracy', **labels),
                               skm.accuracy_score(y_true, y_pred), places=12)
        for average in ('macro', 'micro', 'weighted'):
            self.assertAlmostEqual(
                metric(s, 'modelmon_classification_f1', average=average, **labels),
                skm.f1_score(y_true, y_pred, average=average, zero_division=0), places=12,
                msg=average)
        # Class indexes in configured order: sklearn wants sorted labels for probability columns.
        y_index = [classes.index(y) for y in y_true]
        self.assertAlmostEqual(metric(s, 'modelmon_classification_roc_auc', **labels),
                               skm.roc_auc_score(y_index, proba, multi_class='ovr',
                                                 labels=[0, 1, 2]), places=12)
        self.assertAlmostEqual(metric(s, 'modelmon_classification_log_loss', **labels),
                               skm.log_loss(y_index, proba, labels=[0, 1, 2]), places=12)
        dog = [v for (n, ls), v in s.items() if n == 'modelmon_classification_class_recall'
               and ('class', 'dog') in ls and ('model_version', '__all__') in ls]
        self.assertEqual(len(dog), 1)
        self.assertAlmostEqual(dog[0], skm.recall_score(y_true, y_pred, labels=['dog'],
                                                        average=None, zero_division=0)[0],
                               places=12)

    def test_concurrent_clients(self):
        d = self.d
        errors = []

        def client(k):
            try:
                conn = http.client.HTTPConnection('127.0.0.1', d.port, timeout=10)
                for j in range(20):
                    batch = [event(float(j), 1.0, 'y', k * 1000 + j * 5 + n) for n in range(5)]
                    status, _, data = d.request('POST', '/v1/predictions', batch, conn=conn)
                    if status != 200 or json.loads(data)['accepted'] != 5:
                        errors.append((status, data))
                conn.close()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        samples = parse_metrics(d.metrics())
        self.assertEqual(metric(samples, 'modelmon_events_total', model='fraud', kind='prediction'),
                         8 * 20 * 5)


class AuthTest(unittest.TestCase):
    INGEST = 'ingest-token-0123456789abcdef'
    READ = 'read-token-0123456789abcdef'

    def test_bearer_tokens_per_scope(self):
        with tempfile.TemporaryDirectory() as tmp:
            token_file = os.path.join(tmp, 'read.token')
            with open(token_file, 'w') as f:
                f.write(self.READ + '\n')
            d = Daemon(tmp, server_extra='  auth: {ingest_token: "${MM_TEST_INGEST}", '
                                         'read_token_file: "%s"}\n' % token_file,
                       env={'MM_TEST_INGEST': self.INGEST})
            try:
                body = json.dumps(event(1.0, 1.0, 'x', 1))
                status, headers, data = d.request('POST', '/v1/predictions', body)
                self.assertEqual(status, 401)
                self.assertEqual(headers.get('WWW-Authenticate'), 'Bearer realm="modelmon"')
                self.assertIn('bearer token', json.loads(data)['error'])
                status, _, _ = d.request('POST', '/v1/predictions', body,
                                         headers={'Authorization': 'Bearer ' + self.READ})
                self.assertEqual(status, 401)  # The read token does not grant ingest.
                status, _, data = d.request('POST', '/v1/predictions', body,
                                            headers={'Authorization': 'Bearer ' + self.INGEST})
                self.assertEqual((status, json.loads(data)['accepted']), (200, 1))
                self.assertEqual(d.request('GET', '/metrics')[0], 401)
                self.assertEqual(d.request('GET', '/v1/models/fraud')[0], 401)
                self.assertEqual(d.request('GET', '/healthz')[0], 200)  # Probes stay open.
                self.assertEqual(d.request('GET', '/readyz')[0], 200)
                # No admin token configured: admin endpoints are open.
                self.assertEqual(d.request('POST', '/v1/models/price/reference/promote')[0], 409)
                status, _, data = d.request('GET', '/metrics',
                                            headers={'Authorization': 'bearer ' + self.READ})
                self.assertEqual(status, 200)
                samples = parse_metrics(data.decode())
                self.assertEqual(metric(samples, 'modelmon_auth_failures_total', scope='ingest'), 2)
                self.assertEqual(metric(samples, 'modelmon_auth_failures_total', scope='read'), 2)
                self.assertEqual(d.stop(), 0)
                with open(d.log_path) as f:
                    log = f.read()
                self.assertNotIn(self.INGEST, log)
                self.assertNotIn(self.READ, log)
            finally:
                if d.proc.poll() is None:
                    d.stop(signal.SIGKILL)


class GraphiteTest(unittest.TestCase):
    def test_pushes_metrics_in_carbon_plaintext_with_tags(self):
        import socket
        server = socket.socket()
        server.bind(('127.0.0.1', 0))
        server.listen(8)
        server.settimeout(20)
        port = server.getsockname()[1]
        with tempfile.TemporaryDirectory() as tmp:
            d = Daemon(tmp, extra_config='graphite: {address: "127.0.0.1:%d", interval: 200ms}\n'
                       % port)
            try:
                d.json('POST', '/v1/predictions', [event(1.0, 2.0, 'x', i) for i in range(3)])
                received = b''
                deadline = time.monotonic() + 20
                # Pushes start before the POST lands; read until one shows the 3 events.
                while time.monotonic() < deadline and \
                        b'modelmon.modelmon_events_total;kind=prediction;model=fraud 3 ' not in received:
                    conn, _ = server.accept()
                    with conn:
                        conn.settimeout(5)
                        while True:
                            chunk = conn.recv(65536)
                            if not chunk:
                                break
                            received += chunk
                lines = received.decode().splitlines()
                self.assertIn('modelmon.modelmon_events_total;kind=prediction;model=fraud 3',
                              [line.rsplit(' ', 1)[0] for line in lines])
                for line in lines:
                    path, value, ts = line.split(' ')
                    float(value)
                    self.assertLess(abs(int(ts) - time.time()), 60)
                    self.assertTrue(path.startswith('modelmon.'), line)
                # The push is counted once its write completes, which may be just after the
                # receiver saw the connection close.
                d.wait_for(lambda: (metric(parse_metrics(d.metrics()),
                                           'modelmon_graphite_pushes_total',
                                           outcome='success') or 0) >= 1, 'a counted push')
                self.assertEqual(d.stop(), 0)
            finally:
                server.close()
                if d.proc.poll() is None:
                    d.stop(signal.SIGKILL)


class DiscardEndpointTest(unittest.TestCase):
    """POST /v1/discard, the load tests' baseline, exists only with the hidden flag."""

    def test_off_by_default(self):
        with tempfile.TemporaryDirectory() as tmp:
            d = Daemon(tmp)
            try:
                status, body = d.json('POST', '/v1/discard', [event(1.0, 2.0, 'x', 1)])
                self.assertEqual(status, 404)
                self.assertIn('error', body)
            finally:
                self.assertEqual(d.stop(), 0)

    def test_enabled_reads_and_drops_the_body_with_ingest_auth(self):
        with tempfile.TemporaryDirectory() as tmp:
            token = 'discard-test-ingest-token'
            d = Daemon(tmp, server_extra='  auth: {ingest_token: "%s"}\n' % token,
                       run_args=['--bench-discard-endpoint'])
            try:
                body = json.dumps([event(1.0, 2.0, 'x', i) for i in range(10)])
                auth = {'Authorization': 'Bearer ' + token}
                status, _, data = d.request('POST', '/v1/discard', body, headers=auth)
                self.assertEqual(status, 200)
                self.assertEqual(json.loads(data), {'accepted': 0, 'rejected': 0, 'errors': [],
                                                    'discarded_bytes': len(body)})
                status, _, _ = d.request('POST', '/v1/discard', body)
                self.assertEqual(status, 401)
                status, headers, _ = d.request('GET', '/v1/discard', headers=auth)
                self.assertEqual((status, headers.get('Allow')), (405, 'POST'))
                # Same transport limits as ingest: max_body_bytes is 65536 in BASE_CONFIG.
                big = 'x' * 70000
                status, _, _ = d.request('POST', '/v1/discard', big, headers=auth)
                self.assertEqual(status, 413)
                d.conn.close()
                samples = parse_metrics(d.metrics())
                self.assertEqual(metric(samples, 'modelmon_http_requests_total', handler='discard',
                                        code='200'), 1)
                # Nothing reached the model (the counter is absent or 0).
                self.assertFalse(metric(samples, 'modelmon_events_total', model='fraud',
                                         kind='prediction'))
            finally:
                self.assertEqual(d.stop(), 0)


class CommandLineTest(unittest.TestCase):
    def test_invalid_config_exits_2_with_key_path(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'bad.yaml')
            with open(path, 'w') as f:
                f.write('models:\n  - name: m\n    task: regression\n    features:\n'
                        '      - {name: x, type: nums}\n    reference: {capture: 5}\n')
            for argv in ([ARGS.binary, '--config', path], [ARGS.binary, 'check-config', path]):
                proc = subprocess.run(argv, capture_output=True, timeout=30)
                self.assertEqual(proc.returncode, 2)
                self.assertIn(b'models[0].features[0].type: expected numerical|categorical, got "nums"',
                              proc.stderr)

    def test_check_config_accepts_the_default_config(self):
        path = os.path.join(ARGS.source_dir, 'config', 'modelmon.yaml')
        proc = subprocess.run([ARGS.binary, 'check-config', path], capture_output=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_json_logs(self):
        with tempfile.TemporaryDirectory() as tmp:
            d = Daemon(tmp, log_format='json')
            self.assertEqual(d.stop(), 0)
            with open(d.log_path) as f:
                lines = [json.loads(line) for line in f if line.strip()]
            self.assertTrue(any('listening on' in line['msg'] for line in lines))
            self.assertTrue(all({'time', 'level', 'msg'} <= set(line) for line in lines))


if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--binary', required=True)
    parser.add_argument('--promtool', default='')
    parser.add_argument('--source-dir', default=os.path.join(os.path.dirname(__file__), '..', '..'))
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
