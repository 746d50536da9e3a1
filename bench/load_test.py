#!/usr/bin/python3
"""Load tests of the modelmon daemon against its own discard endpoint (bench/run_load.sh runs this).

Every figure is the median of --runs runs of modelmon_loadgen against a daemon started with
--bench-discard-endpoint on an ephemeral port, data from bench/load_data.py:
  batched   POST batches of 1000 events (15 numerical + 5 categorical features, 10k window, default
            detectors) vs the same bodies to /v1/discard: MB/s ratio (target >= 0.5);
  scrape    the batched modelmon run with GET /metrics every second: throughput loss (target < 10%);
  single    one event per request vs /v1/discard: req/s ratio (target >= 0.8);
  p99       open loop at half of modelmon's single-event maximum: p99 latency (target < 1 ms);
  memory    VmRSS with the reference loaded and the window empty, then full (10k and 100k windows):
            bytes per windowed feature value (target <= 32);
  soak      (--soak) 10 minutes of batched ingest at half of the maximum rate: RSS within 5%.
A plot of batched throughput against window size and feature count goes to --plot (skip: "");
--perf profiles one batched run with perf record -g.
Writes OUT/load_results.json and OUT/load_table.md and prints the table.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'e2e'))
import harness  # noqa: E402

ARGS = None
FEATURES = 20  # 15 numerical + 5 categorical.


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Daemon(harness.Modelmon):
    """A modelmon process on an ephemeral port; stop() ends it (SIGTERM)."""

    def __init__(self, config, name, extra_args=()):
        super().__init__(ARGS.modelmon, config, ARGS.out, tag=name,
                         run_args=['--bench-discard-endpoint'], extra_args=extra_args,
                         start_timeout=60)

    def rss_bytes(self):
        with open('/proc/%d/status' % self.proc.pid) as f:
            return int(re.search(r'VmRSS:\s+(\d+) kB', f.read()).group(1)) * 1024

    def get(self, path):
        with urllib.request.urlopen('http://127.0.0.1:%d%s' % (self.port, path), timeout=30) as r:
            return r.read()

    def stop(self):
        return super().stop(timeout=60)


def loadgen(port, path, bodies, connections, duration, warmup=1.0, rate=0, requests=0,
            scrape=False, expect_status=200):
    argv = [ARGS.loadgen, '--port', str(port), '--path', path, '--bodies', bodies,
            '--connections', str(connections), '--duration', str(duration),
            '--warmup', str(warmup)]
    if rate:
        argv += ['--rate', '%.1f' % rate]
    if requests:
        argv += ['--requests', str(requests)]
    if scrape:
        argv.append('--scrape-metrics')
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    if set(result['status']) != {str(expect_status)} or len(result['errors']) > 1:
        log('  warning: loadgen errors %s, status %s' % (result['errors'], result['status']))
    return result


def fill(daemon, data, events):
    """Sends `events` prediction events (a multiple of 1000) on one connection, then returns."""
    loadgen(daemon.port, '/v1/predictions', os.path.join(data, 'batches.jsonl'), 1, 600,
            warmup=0, requests=events // 1000)


def median(values):
    return statistics.median(values)


def config_variant(data, window=None, evaluation_interval=None, suffix=''):
    """Writes data/modelmon<suffix>.yaml: the data set's config with another window size."""
    with open(os.path.join(data, 'modelmon.yaml')) as f:
        text = f.read()
    if window is not None:
        text = re.sub(r'window: \{size: \d+\}', 'window: {size: %d}' % window, text)
    if evaluation_interval:
        text = text.replace('log:', 'evaluation_interval: %s\nlog:' % evaluation_interval, 1)
    path = os.path.join(data, 'modelmon%s.yaml' % suffix)
    with open(path, 'w') as f:
        f.write(text)
    return path


def make_data(name, numerical=15, categorical=5, window=10000, batches=40, singles=20000):
    out = os.path.join(ARGS.out, name)
    subprocess.run([sys.executable, ARGS.load_data, out, '--numerical', str(numerical),
                    '--categorical', str(categorical), '--window', str(window),
                    '--batches', str(batches), '--singles', str(singles)], check=True)
    return out


def throughput_tests(data, results):
    batches = os.path.join(data, 'batches.jsonl')
    singles = os.path.join(data, 'singles.jsonl')
    d = Daemon(os.path.join(data, 'modelmon.yaml'), 'daemon-throughput')
    try:
        fill(d, data, 11000)
        runs = {k: [] for k in ('discard_batch', 'batch', 'batch_scrape', 'discard_single',
                                'single')}
        # Interleaved so that noise from other jobs on the machine hits every variant alike.
        for i in range(ARGS.runs):
            log('batched run %d/%d' % (i + 1, ARGS.runs))
            runs['discard_batch'].append(loadgen(d.port, '/v1/discard', batches,
                                                 ARGS.batch_connections, ARGS.duration))
            runs['batch'].append(loadgen(d.port, '/v1/predictions', batches,
                                         ARGS.batch_connections, ARGS.duration))
            runs['batch_scrape'].append(loadgen(d.port, '/v1/predictions', batches,
                                                ARGS.batch_connections, ARGS.duration,
                                                scrape=True))
        for i in range(ARGS.runs):
            log('single-event run %d/%d' % (i + 1, ARGS.runs))
            runs['discard_single'].append(loadgen(d.port, '/v1/discard', singles,
                                                  ARGS.single_connections, ARGS.duration))
            runs['single'].append(loadgen(d.port, '/v1/predictions', singles,
                                          ARGS.single_connections, ARGS.duration))
        half = median(r['req_per_s'] for r in runs['single']) / 2
        runs['single_half_rate'] = []
        for i in range(ARGS.runs):
            log('open-loop run %d/%d at %.0f req/s' % (i + 1, ARGS.runs, half))
            runs['single_half_rate'].append(loadgen(d.port, '/v1/predictions', singles,
                                                    ARGS.single_connections, ARGS.duration,
                                                    rate=half))
        status = json.loads(d.get('/v1/models/bench'))
        results['window_events'] = status['window']['events']
        results['tests'] = sorted({t['test'] for c in status['drift']['features']
                                   for t in c['tests']})
        results['daemon_rss_after_throughput_mb'] = d.rss_bytes() / 1e6
    finally:
        d.stop()
    results['runs'] = runs
    m = {k: {'mb_per_s': median(r['mb_per_s'] for r in v),
             'req_per_s': median(r['req_per_s'] for r in v),
             'p50_us': median(r['latency_us']['p50'] for r in v),
             'p99_us': median(r['latency_us']['p99'] for r in v)} for k, v in runs.items()}
    results['median'] = m
    results['half_rate'] = half


def profile(data, results):
    """perf record -g of the daemon during one batched run; the top symbols go to the results."""
    d = Daemon(os.path.join(data, 'modelmon.yaml'), 'daemon-perf')
    perf_data = os.path.join(ARGS.out, 'perf.data')
    try:
        fill(d, data, 11000)
        perf = subprocess.Popen(['perf', 'record', '-g', '-o', perf_data, '-p', str(d.proc.pid),
                                 '--', 'sleep', str(ARGS.duration)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        run = loadgen(d.port, '/v1/predictions', os.path.join(data, 'batches.jsonl'),
                      ARGS.batch_connections, ARGS.duration, warmup=0)
        perf.wait()
    finally:
        d.stop()
    report = subprocess.run(['perf', 'report', '-i', perf_data, '--no-children', '--stdio',
                             '--sort', 'symbol', '-g', 'none', '--percent-limit', '0.5'],
                            capture_output=True, text=True).stdout
    top = [re.sub(r'(\s+-)*\s*$', '', line)[:140] for line in report.splitlines()
           if line.strip() and not line.startswith('#')]
    results['perf'] = {'mb_per_s': run['mb_per_s'], 'top': top[:15]}
    log('perf: %s (perf report -i %s --no-children)' % (perf_data, perf_data))


def memory_tests(data, results):
    mem = {}
    for window in (10000, 100000):
        config = config_variant(data, window=window, evaluation_interval='1s',
                                suffix='-mem%d' % window)
        d = Daemon(config, 'daemon-mem%d' % window)
        try:
            # Warm the transport and the parser on the empty window: batches to /v1/discard, and
            # batches for a model that does not exist (parsed, rejected, nothing stored).
            loadgen(d.port, '/v1/discard', os.path.join(data, 'batches.jsonl'), 2, 600, warmup=0,
                    requests=20)
            loadgen(d.port, '/v1/predictions', os.path.join(ARGS.out, 'unknown_model.jsonl'), 2,
                    600, warmup=0, requests=4, expect_status=400)
            time.sleep(2.5)  # One evaluation of the empty window.
            empty = d.rss_bytes()
            fill(d, data, window)
            time.sleep(2.5)  # One evaluation of the full window.
            full = d.rss_bytes()
            fill(d, data, window)  # Slides the whole window once more.
            time.sleep(2.5)
            slid = d.rss_bytes()
            events = json.loads(d.get('/v1/models/bench'))['window']['events']
        finally:
            d.stop()
        mem[window] = {'rss_empty': empty, 'rss_full': full, 'rss_after_slide': slid,
                       'window_events': events,
                       'bytes_per_value': (full - empty) / (window * FEATURES),
                       'bytes_per_value_after_slide': (slid - empty) / (window * FEATURES)}
        log('memory: window %d: empty %.1f MB, full %.1f MB, slid %.1f MB' %
            (window, empty / 1e6, full / 1e6, slid / 1e6))
    # Full against full: also counts what a larger window costs before it holds anything.
    mem['slope_bytes_per_value'] = (
        mem[100000]['rss_full'] - mem[10000]['rss_full']) / (90000 * FEATURES)
    results['memory'] = mem


def soak_test(data, results):
    batches = os.path.join(data, 'batches.jsonl')
    rate = results['median']['batch']['req_per_s'] / 2
    d = Daemon(os.path.join(data, 'modelmon.yaml'), 'daemon-soak')
    samples = []
    try:
        fill(d, data, 11000)
        argv = [ARGS.loadgen, '--port', str(d.port), '--path', '/v1/predictions', '--bodies',
                batches, '--connections', str(ARGS.batch_connections), '--duration',
                str(ARGS.soak_seconds), '--warmup', '0', '--rate', '%.2f' % rate,
                '--scrape-metrics']
        log('soak: %d s at %.1f batches/s' % (ARGS.soak_seconds, rate))
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        start = time.monotonic()
        while proc.poll() is None:
            samples.append((time.monotonic() - start, d.rss_bytes()))
            time.sleep(5)
        run = json.loads(proc.stdout.read())
    finally:
        d.stop()
    settled = [rss for t, rss in samples if t >= 60] or [rss for _, rss in samples]
    results['soak'] = {'seconds': ARGS.soak_seconds, 'rate': rate, 'run': run,
                       'rss_samples': samples, 'rss_min': min(settled), 'rss_max': max(settled),
                       'spread': max(settled) / min(settled) - 1}


def plot(results):
    """Batched ingest MB/s and events/s against window size and against feature count."""
    points = []
    configs = [('w1000-f20', 15, 5, 1000), ('w10000-f20', 15, 5, 10000),
               ('w100000-f20', 15, 5, 100000), ('w10000-f5', 4, 1, 10000),
               ('w10000-f50', 38, 12, 10000)]
    for name, num, cat, window in configs:
        data = make_data('plot-' + name, num, cat, window, batches=20, singles=10)
        d = Daemon(os.path.join(data, 'modelmon.yaml'), 'daemon-plot-' + name)
        try:
            fill(d, data, window + 1000)
            runs = [loadgen(d.port, '/v1/predictions', os.path.join(data, 'batches.jsonl'),
                            ARGS.batch_connections, ARGS.duration)
                    for _ in range(ARGS.plot_runs)]
        finally:
            d.stop()
        point = {'name': name, 'features': num + cat, 'window': window,
                 'mb_per_s': median(r['mb_per_s'] for r in runs),
                 'events_per_s': median(r['req_per_s'] for r in runs) * 1000}
        log('plot: %s: %.1f MB/s, %.0f events/s' % (name, point['mb_per_s'],
                                                      point['events_per_s']))
        points.append(point)
    results['plot'] = points
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    by_window = [p for p in points if p['features'] == 20]
    by_features = [p for p in points if p['window'] == 10000]
    for ax, pts, key, label in ((axes[0], by_window, 'window', 'window size (events), 20 features'),
                                (axes[1], by_features, 'features',
                                 'features per event, 10k window')):
        pts = sorted(pts, key=lambda p: p[key])
        xs = [p[key] for p in pts]
        ax.plot(xs, [p['events_per_s'] / 1000 for p in pts], 'o-', label='k events/s')
        ax.set_xlabel(label)
        ax.set_ylabel('thousand events/s')
        if key == 'window':
            ax.set_xscale('log')
        ax.set_ylim(bottom=0)
        ax2 = ax.twinx()
        ax2.plot(xs, [p['mb_per_s'] for p in pts], 's--', color='tab:orange', label='MB/s')
        ax2.set_ylabel('MB/s of request bodies')
        ax2.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        lines = ax.get_lines() + ax2.get_lines()
        ax.legend(lines, [line.get_label() for line in lines], loc='lower left')
    fig.suptitle('modelmon batched ingest (1000 events per POST, %d connections, default '
                 'detectors)' % ARGS.batch_connections)
    fig.tight_layout()
    fig.savefig(ARGS.plot, dpi=100)
    log('plot written to ' + ARGS.plot)


def table(results):
    m = results['median']
    rows = []

    def row(what, value, target, ok):
        rows.append((what, value, target, 'yes' if ok else 'NO'))

    r = m['batch']['mb_per_s'] / m['discard_batch']['mb_per_s']
    row('batched ingest: modelmon / discard MB/s',
        '%.1f / %.1f MB/s = %.1f%% (%.0f events/s)' % (
            m['batch']['mb_per_s'], m['discard_batch']['mb_per_s'], 100 * r,
            m['batch']['req_per_s'] * 1000), '>= 50%', r >= 0.5)
    loss = 1 - m['batch_scrape']['mb_per_s'] / m['batch']['mb_per_s']
    row('batched ingest with /metrics scraped every 1 s',
        '%.1f MB/s: %+.1f%% vs unscraped' % (m['batch_scrape']['mb_per_s'], -100 * loss),
        '< 10% lower', loss < 0.10)
    r = m['single']['req_per_s'] / m['discard_single']['req_per_s']
    row('single events: modelmon / discard req/s',
        '%.0f / %.0f req/s = %.1f%%' % (m['single']['req_per_s'], m['discard_single']['req_per_s'],
                                        100 * r), '>= 80%', r >= 0.8)
    p99 = m['single_half_rate']['p99_us']
    row('single events: p99 at half of max (%.0f req/s, open loop)' % results['half_rate'],
        '%.0f us (p50 %.0f us)' % (p99, m['single_half_rate']['p50_us']), '< 1 ms', p99 < 1000)
    if 'memory' in results:
        mem = results['memory']
        for w in (10000, 100000):
            x = mem[w]
            row('RSS per windowed feature value, %dk window' % (w // 1000),
                '%.1f B (%.1f -> %.1f MB; %.1f B after one more slide)' % (
                    x['bytes_per_value'], x['rss_empty'] / 1e6, x['rss_full'] / 1e6,
                    x['bytes_per_value_after_slide']), '<= 32 B', x['bytes_per_value'] <= 32)
        row('RSS slope, full 10k -> full 100k window', '%.1f B per feature value' %
            mem['slope_bytes_per_value'], '<= 32 B', mem['slope_bytes_per_value'] <= 32)
    if 'soak' in results:
        s = results['soak']
        row('RSS over %d s at half load (after the first minute)' % s['seconds'],
            '%.1f .. %.1f MB (%.1f%%)' % (s['rss_min'] / 1e6, s['rss_max'] / 1e6,
                                         100 * s['spread']), 'within 5%', s['spread'] < 0.05)
    lines = ['| Target | Measured (median of %d runs) | Goal | Met |' % ARGS.runs,
             '|---|---|---|---|']
    lines += ['| %s | %s | %s | %s |' % r for r in rows]
    return '\n'.join(lines)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument('--modelmon', required=True)
    p.add_argument('--loadgen', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--load-data', default=os.path.join(os.path.dirname(__file__), 'load_data.py'))
    p.add_argument('--runs', type=int, default=3)
    p.add_argument('--duration', type=float, default=5)
    p.add_argument('--batch-connections', type=int, default=4)
    p.add_argument('--single-connections', type=int, default=8)
    p.add_argument('--plot', default='docs/benchmarks-throughput.png')
    p.add_argument('--plot-runs', type=int, default=1)
    p.add_argument('--no-memory', action='store_true')
    p.add_argument('--soak', action='store_true')
    p.add_argument('--soak-seconds', type=int, default=600)
    p.add_argument('--perf', action='store_true',
                   help='perf record -g the daemon during one batched run (OUT/perf.data)')
    ARGS = p.parse_args()
    os.makedirs(ARGS.out, exist_ok=True)
    with open('/proc/loadavg') as f:
        load_before = f.read().split()[:3]
    results = {'loadavg_before': load_before, 'cpus': os.cpu_count(),
               'duration_s': ARGS.duration, 'runs_per_figure': ARGS.runs}
    data = make_data('data')
    with open(os.path.join(data, 'batches.jsonl')) as f, \
            open(os.path.join(ARGS.out, 'unknown_model.jsonl'), 'w') as g:
        for line in f:
            g.write(line.replace('"model":"bench"', '"model":"warmup"'))
    throughput_tests(data, results)
    if ARGS.perf:
        profile(data, results)
    if not ARGS.no_memory:
        memory_tests(data, results)
    if ARGS.soak:
        soak_test(data, results)
    if ARGS.plot:
        plot(results)
    with open('/proc/loadavg') as f:
        results['loadavg_after'] = f.read().split()[:3]
    text = table(results)
    with open(os.path.join(ARGS.out, 'load_results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(ARGS.out, 'load_table.md'), 'w') as f:
        f.write(text + '\n')
    print('Load tests: %s, %d s per run, %d batch / %d single-event connections; load average '
          'before %s, after %s; window holds %d events; drift tests %s' % (
              'median of %d runs' % ARGS.runs, ARGS.duration, ARGS.batch_connections,
              ARGS.single_connections, ' '.join(load_before), ' '.join(results['loadavg_after']),
              results['window_events'], ', '.join(results['tests'])))
    print(text)
    if 'perf' in results:
        print('\nperf report --no-children, batched ingest at %.1f MB/s, top 15 symbols:' %
              results['perf']['mb_per_s'])
        print('\n'.join(results['perf']['top']))


if __name__ == '__main__':
    main()
