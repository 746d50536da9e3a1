"""The end-to-end harness: child processes with their output in a log file, the modelmon daemon on
an ephemeral port learned from --port-file, polling with a deadline, and a Prometheus text-format
parser. Standard library only (Debian's /usr/bin/python3); used by tests/e2e/*_test.py and the load
drivers in bench/.
"""

import http.client
import math
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request

DEFAULT_START_DEADLINE_S = 30
DEFAULT_STOP_DEADLINE_S = 30


def wait_for(predicate, timeout, interval=0.05, what='the condition', ignore=()):
    """Calls predicate every `interval` seconds until it returns a truthy value, and returns that
    value. Raises AssertionError once `timeout` seconds have passed (naming `what` and the last
    exception of a type in `ignore`, which are swallowed between polls). Other exceptions propagate.
    """
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except ignore as e:
            last_error = e
        if time.monotonic() >= deadline:
            suffix = ' (last error: %r)' % (last_error,) if last_error is not None else ''
            raise AssertionError('timed out after %ss waiting for %s%s' % (timeout, what, suffix))
        time.sleep(interval)


class Process:
    """A child process whose stdout and stderr go to log_path. A context manager: leaving the block
    stops it (SIGTERM, then SIGKILL after the stop deadline). log_mode 'a+' keeps what an earlier
    process wrote there. Not thread-safe: one thread drives it."""

    def __init__(self, argv, log_path, env=None, cwd=None, log_mode='w+'):
        self.argv = list(argv)
        self.name = os.path.splitext(os.path.basename(log_path))[0]
        self.log_path = log_path
        self.log = open(log_path, log_mode)
        try:
            self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=cwd,
                                         env=dict(os.environ, **(env or {})))
        except BaseException:
            self.log.close()
            raise

    def output(self):
        """Everything the process has written so far."""
        with open(self.log_path) as f:
            return f.read()

    def running(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=DEFAULT_STOP_DEADLINE_S):
        """Sends sig (unless the process has exited) and waits up to timeout seconds, then kills
        it. Returns the exit status (negative: killed by that signal, -9 when the deadline
        passed). Closes the log; idempotent."""
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(sig)
            try:
                return self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait(timeout=timeout)
        finally:
            self.log.close()

    def kill(self):
        """SIGKILL unless exited; returns the exit status."""
        return self.stop(signal.SIGKILL, timeout=DEFAULT_STOP_DEADLINE_S)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def read_port_file(path):
    """The port in a file written by `modelmon --port-file`, or None while it does not exist."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return None
    if not re.fullmatch(r'\d+\n', text):
        raise AssertionError('malformed port file %s: %r' % (path, text))
    return int(text)


class Modelmon(Process):
    """The modelmon binary started with `--config config --port-file PATH [--listen listen]`;
    the constructor returns once the port file names the bound port (self.port) and, with
    wait_ready, once GET /readyz answers 200. Raises AssertionError with the output when the
    process exits or start_timeout passes first (the process is killed)."""

    def __init__(self, binary, config, workdir, tag='modelmon', run_args=(), extra_args=(),
                 listen='127.0.0.1:0', env=None, cwd=None, wait_ready=False,
                 start_timeout=DEFAULT_START_DEADLINE_S):
        self.config = config
        self.port_file = os.path.join(workdir, tag + '.port')
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        argv = [binary] + (['run'] + list(run_args) if run_args else [])
        argv += ['--config', config, '--port-file', self.port_file]
        if listen:
            argv += ['--listen', listen]
        super().__init__(argv + list(extra_args), os.path.join(workdir, tag + '.log'), env, cwd)
        self.port = None
        try:
            self.port = wait_for(self._bound_port, start_timeout, 0.01, 'modelmon to listen')
            if wait_ready:
                wait_for(self._ready, start_timeout, 0.02, 'modelmon to be ready',
                         ignore=(OSError, http.client.HTTPException))
        except BaseException:
            if self.running():
                self.proc.kill()
                self.proc.wait(timeout=DEFAULT_STOP_DEADLINE_S)
            output = self.output()
            self.log.close()
            raise AssertionError('daemon did not start: %s\n%s' % (' '.join(self.argv), output))

    def _bound_port(self):
        port = read_port_file(self.port_file)
        if port is None and not self.running():
            raise AssertionError('modelmon exited with status %d' % self.proc.returncode)
        return port

    def _ready(self):
        if not self.running():
            raise AssertionError('modelmon exited with status %d' % self.proc.returncode)
        conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=5)
        try:
            conn.request('GET', '/readyz')
            return conn.getresponse().status == 200
        finally:
            conn.close()

    @property
    def base_url(self):
        return 'http://127.0.0.1:%d' % self.port


def http_get(url, timeout=5):
    """(status, body) of GET url, or (None, error text) when it cannot be reached."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        return None, str(e).encode()


# The Prometheus text format 0.0.4: `name{label="value",...} value`, with no timestamps (modelmon
# writes none). Anything else outside comments fails the parse.
_NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
_SAMPLE = re.compile(r'^(%s)(?:\{(.*)\})?[ \t]+(\S+)$' % _NAME)
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')
_UNESCAPE = {'\\\\': '\\', '\\"': '"', '\\n': '\n'}
_TYPES = ('counter', 'gauge', 'histogram', 'summary', 'untyped')


def unescape_label_value(text):
    return re.sub(r'\\[\\"n]', lambda m: _UNESCAPE[m.group(0)], text)


def parse_labels(text):
    """`a="x",b="y\\"z"` -> {'a': 'x', 'b': 'y"z'}; raises ValueError on anything malformed or a
    repeated label name."""
    labels = {}
    pos = 0
    while pos < len(text):
        m = _LABEL.match(text, pos)
        if not m:
            raise ValueError('malformed labels at %r' % text[pos:])
        if m.group(1) in labels:
            raise ValueError('repeated label %r' % m.group(1))
        labels[m.group(1)] = unescape_label_value(m.group(2))
        pos = m.end()
    return labels


def parse_value(text):
    """A sample value: a float, `+Inf`, `-Inf` or `NaN`; raises ValueError otherwise."""
    if text in ('+Inf', 'Inf'):
        return math.inf
    if text == '-Inf':
        return -math.inf
    if text == 'NaN':
        return math.nan
    if not re.fullmatch(r'[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?', text):
        raise ValueError('malformed value %r' % text)
    return float(text)


def parse_sample(line):
    """(name, labels dict, value) of one sample line; raises ValueError when malformed."""
    m = _SAMPLE.match(line)
    if not m:
        raise ValueError('unparseable metrics line: %r' % line)
    return m.group(1), parse_labels(m.group(2) or ''), parse_value(m.group(3))


class Family:
    """One metric family: its name, `# TYPE` (untyped when none), `# HELP` text, and samples
    [(sample name, labels dict, value)] in exposition order."""

    def __init__(self, name, type_='untyped', help_=None):
        self.name = name
        self.type = type_
        self.help = help_
        self.samples = []

    def histogram(self, **labels):
        """For a histogram: ([(le, cumulative count)], sum, count) of the series with exactly
        these labels (le aside); raises KeyError when it is not there."""
        buckets, total, count = [], None, None
        for name, ls, value in self.samples:
            rest = {k: v for k, v in ls.items() if k != 'le'}
            if rest != labels:
                continue
            if name == self.name + '_bucket':
                buckets.append((parse_value(ls['le']), value))
            elif name == self.name + '_sum':
                total = value
            elif name == self.name + '_count':
                count = value
        if not buckets or total is None or count is None:
            raise KeyError('%s%r' % (self.name, labels))
        return buckets, total, count


def _family_of(sample_name, families):
    for suffix in ('_bucket', '_sum', '_count'):
        base = sample_name[:-len(suffix)]
        if sample_name.endswith(suffix) and base in families and \
                families[base].type in ('histogram', 'summary'):
            return base
    return sample_name


def parse_families(text):
    """{family name: Family} of a whole exposition. Raises ValueError on a malformed sample,
    HELP or TYPE line, an unknown type, or a TYPE after the family's first sample."""
    families = {}
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith('#'):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                if not re.fullmatch(_NAME, parts[2]):
                    raise ValueError('malformed %s line: %r' % (parts[1], line))
                family = families.setdefault(parts[2], Family(parts[2]))
                if parts[1] == 'HELP':
                    family.help = parts[3] if len(parts) > 3 else ''
                else:
                    if len(parts) != 4 or parts[3] not in _TYPES:
                        raise ValueError('malformed TYPE line: %r' % line)
                    if family.samples:
                        raise ValueError('TYPE after samples: %r' % line)
                    family.type = parts[3]
            continue
        name, labels, value = parse_sample(line)
        base = _family_of(name, families)
        families.setdefault(base, Family(base)).samples.append((name, labels, value))
    return families


def parse_metrics(text):
    """{(sample name, frozenset of (label, value))): value} of an exposition; raises
    AssertionError on a malformed line."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith('#'):
            continue
        try:
            name, labels, value = parse_sample(line)
        except ValueError as e:
            raise AssertionError(str(e)) from None
        samples[(name, frozenset(labels.items()))] = value
    return samples


def metric(samples, name, **labels):
    """The value of the one sample of `name` whose labels include `labels`; None when there is
    none, and the list of values when several match."""
    want = set(labels.items())
    found = [v for (n, ls), v in samples.items() if n == name and want <= set(ls)]
    return found[0] if len(found) == 1 else (None if not found else found)
