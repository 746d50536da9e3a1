#!/usr/bin/python3
"""Tests of tests/e2e/harness.py: the Prometheus text parser, wait_for, and the launcher against the
binary given by --binary."""

import argparse
import math
import os
import signal
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ARGS = None

EXPOSITION = r'''# HELP req_total Requests.
# TYPE req_total counter
req_total{code="200",path="a\\b \"q\"\nx"} 3
req_total{code="500"} 1e+03
# HELP temp Temperature.
# TYPE temp gauge
temp NaN
temp_low -Inf
# HELP lat_seconds Latency.
# TYPE lat_seconds histogram
lat_seconds_bucket{h="x",le="0.1"} 1
lat_seconds_bucket{h="x",le="1"} 4
lat_seconds_bucket{h="x",le="+Inf"} 5
lat_seconds_sum{h="x"} 2.5
lat_seconds_count{h="x"} 5
'''


class ParserTest(unittest.TestCase):
    def test_samples_with_unescaped_labels_and_special_values(self):
        s = harness.parse_metrics(EXPOSITION)
        self.assertEqual(harness.metric(s, 'req_total', code='200', path='a\\b "q"\nx'), 3)
        self.assertEqual(harness.metric(s, 'req_total', code='500'), 1000)
        self.assertTrue(math.isnan(harness.metric(s, 'temp')))
        self.assertEqual(harness.metric(s, 'temp_low'), -math.inf)
        self.assertEqual(harness.metric(s, 'lat_seconds_bucket', le='+Inf'), 5)
        self.assertEqual(sorted(harness.metric(s, 'req_total')), [3, 1000])  # Ambiguous: all.
        self.assertIsNone(harness.metric(s, 'req_total', code='404'))

    def test_families_types_help_and_histograms(self):
        f = harness.parse_families(EXPOSITION)
        self.assertEqual(sorted(f), ['lat_seconds', 'req_total', 'temp', 'temp_low'])
        self.assertEqual((f['req_total'].type, f['req_total'].help), ('counter', 'Requests.'))
        self.assertEqual(f['temp_low'].type, 'untyped')
        self.assertEqual(len(f['lat_seconds'].samples), 5)
        buckets, total, count = f['lat_seconds'].histogram(h='x')
        self.assertEqual(buckets, [(0.1, 1), (1.0, 4), (math.inf, 5)])
        self.assertEqual((total, count), (2.5, 5))
        with self.assertRaises(KeyError):
            f['lat_seconds'].histogram(h='y')

    def test_malformed_lines_fail(self):
        for line in ('x{a="b"', 'x{a=b} 1', 'x{a="b",a="c"} 1', 'x{a="\\t"} 1', 'x 1 2',
                     'x one', '9x 1', 'x{a="b"}garbage 1', 'x{a="b"} Infinity'):
            with self.assertRaises(AssertionError, msg=line):
                harness.parse_metrics(line + '\n')
        for text in ('# TYPE x widget\n', '# TYPE x\n', 'x 1\n# TYPE x gauge\n'):
            with self.assertRaises(ValueError, msg=text):
                harness.parse_families(text)


class WaitForTest(unittest.TestCase):
    def test_returns_the_first_truthy_value(self):
        calls = []

        def predicate():
            calls.append(1)
            return len(calls) >= 3 and 'done'
        self.assertEqual(harness.wait_for(predicate, 10, 0), 'done')
        self.assertEqual(len(calls), 3)

    def test_times_out_naming_what_and_the_last_ignored_error(self):
        def predicate():
            raise OSError('refused')
        with self.assertRaisesRegex(AssertionError, "the thing.*refused"):
            harness.wait_for(predicate, 0, 0, 'the thing', ignore=(OSError,))
        with self.assertRaises(OSError):
            harness.wait_for(predicate, 0, 0, 'the thing')


class ModelmonTest(unittest.TestCase):
    CONFIG = ('models:\n  - name: m\n    task: regression\n    features:\n'
              '      - {name: x, type: numerical}\n    reference: {capture: 5}\n')

    def test_starts_on_the_port_file_serves_and_stops(self):
        with tempfile.TemporaryDirectory() as tmp:
            config = os.path.join(tmp, 'modelmon.yaml')
            with open(config, 'w') as f:
                f.write(self.CONFIG)
            with harness.Modelmon(ARGS.binary, config, tmp,
                                  wait_ready=True) as d:
                self.assertEqual(harness.read_port_file(d.port_file), d.port)
                self.assertFalse(os.path.exists(d.port_file + '.tmp'))
                self.assertEqual(harness.http_get(d.base_url + '/readyz')[0], 200)
                self.assertEqual(d.stop(signal.SIGTERM), 0)
            self.assertIn('listening on 127.0.0.1:%d' % d.port, d.output())

    def test_a_daemon_that_cannot_start_raises_with_its_output(self):
        with tempfile.TemporaryDirectory() as tmp:
            config = os.path.join(tmp, 'modelmon.yaml')
            with open(config, 'w') as f:
                f.write('models: []\nbogus: 1\n')
            with self.assertRaisesRegex(AssertionError, 'did not start(.|\n)*bogus'):
                harness.Modelmon(ARGS.binary, config, tmp)


if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--binary', default='')
    ARGS, rest = parser.parse_known_args()
    if ARGS.binary:
        ARGS.binary = ARGS.binary
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
