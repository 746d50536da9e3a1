"""The modelmon client: non-blocking event logging with a bounded queue and a background sender."""

import atexit
import collections
import json
import logging
import os
import random
import threading
import time
import weakref

from . import _events
from ._transport import TRANSPORT_ERRORS, Transport, retry_after_seconds

__all__ = ['Client']

logger = logging.getLogger('modelmon_client')

VERSION = '0.1.0'
NDJSON = 'application/x-ndjson'
PATHS = {'prediction': '/v1/predictions', 'ground_truth': '/v1/ground-truth'}
# Statuses retried with backoff: timeouts, rate limits, overload and server errors. Every other 4xx
# is final: retrying the same body cannot succeed.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RETRY_AFTER_STATUSES = frozenset({429, 503})
# Per-event errors quoted in one log record.
LOGGED_ERRORS = 5

_live_clients = weakref.WeakSet()


class Client:
    """Sends prediction and ground-truth events to a modelmon daemon without blocking the caller.

    `log_prediction` and `log_ground_truth` validate and serialise the event, append it to a queue
    of at most `queue_size` events and return at once; a full queue drops the event and counts it in
    `dropped`. One background thread (started on the first event, and again in a forked child)
    sends batches of up to `batch_size` events (and about `max_batch_bytes`) as NDJSON, when a batch
    is full or `flush_interval` seconds after its first event. Each request has `timeout` seconds to
    connect and for each read. Transport failures, 408, 429 and 5xx are retried up to
    `max_retries` times with exponential backoff and full jitter (`backoff_base` doubling up to
    `backoff_max`), waiting exactly `Retry-After` seconds (at most `max_retry_after`) when a 429 or
    503 carries one; then the batch counts in `failed`. A 413 splits the batch in halves. Other 4xx
    are not retried. Nothing the daemon answers is raised: errors go to the `modelmon_client`
    logger. So a daemon that is down costs at most `queue_size` events of memory.

    Counters (events, read at any time): `sent` (accepted by the daemon), `rejected` (refused one by
    one by the daemon, for example an unknown class), `failed` (given up: retries exhausted, or a
    4xx for the whole request), `dropped` (queue full, or still queued when `close` gave up),
    `invalid` (refused by client-side validation), and `retries` (requests retried).

    `sleep` (seconds -> None) and `rng` (a random.Random) may be injected for tests; the default
    sleep returns early when `close` gives up. Thread-safe: any thread may log, flush or close.
    """

    def __init__(self, url, token=None, queue_size=10000, batch_size=500, flush_interval=1.0,
                 timeout=2.0, max_retries=5, *, backoff_base=0.5, backoff_max=30.0,
                 max_retry_after=300.0, max_batch_bytes=4 << 20, strict=False, ssl_context=None,
                 headers=None, sleep=None, rng=None):
        if queue_size < 1 or batch_size < 1 or max_batch_bytes < 1:
            raise ValueError('queue_size, batch_size and max_batch_bytes must be at least 1')
        if flush_interval < 0 or timeout <= 0 or max_retries < 0:
            raise ValueError('flush_interval >= 0, timeout > 0 and max_retries >= 0 are required')
        all_headers = {'User-Agent': 'modelmon-python/' + VERSION}
        all_headers.update(headers or {})
        if token:
            all_headers['Authorization'] = 'Bearer ' + token
        self._transport = Transport(url, timeout, all_headers, ssl_context)
        self.url = url
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.max_batch_bytes = max_batch_bytes
        self.flush_interval = flush_interval
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.strict = strict
        self._rng = rng or random.Random()
        self._abort = threading.Event()
        self._sleep = sleep or self._abort.wait
        self.sent = self.rejected = self.failed = self.dropped = self.invalid = self.retries = 0
        self._reset_threading()
        self._closed = False
        _live_clients.add(self)

    def _reset_threading(self):
        """Fresh lock, queue and no sender: at construction and in a forked child, whose copy of
        the parent's lock may be held by a thread that does not exist there."""
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._queue = collections.deque()  # (kind, line bytes, id)
        self._enqueued = 0       # events ever queued
        self._taken = 0          # events ever taken by the sender
        self._done = 0           # events ever finished (sent, rejected, failed or dropped)
        self._flush_to = 0       # the sender does not wait for a full batch while _taken < this
        self._oldest = None      # monotonic time at which the queue last became non-empty
        self._thread = None
        self._pid = os.getpid()
        self._warned_full = False
        self._transport.close()

    # Logging (the serving thread's side).

    def log_prediction(self, model, id, features, prediction, score=None, scores=None,
                       model_version=None, timestamp=None, latency_ms=None, error=None):
        """Queues one prediction event (README "HTTP API" names the fields) and returns True, or
        False when it was dropped or invalid. Never blocks on the network. An invalid event is
        logged and counted in `invalid` (raised as ValueError when strict=True)."""
        try:
            line = _events.prediction_line(model, id, features, prediction, score, scores,
                                           model_version, timestamp, latency_ms, error)
        except _events.InvalidEvent as e:
            return self._invalid(model, e)
        return self._enqueue('prediction', line, id)

    def log_ground_truth(self, model, id, label, timestamp=None):
        """Queues the ground truth (a class, or a number for regression) of the prediction with
        this `id`; returns and counts as log_prediction does."""
        try:
            line = _events.ground_truth_line(model, id, label, timestamp)
        except _events.InvalidEvent as e:
            return self._invalid(model, e)
        return self._enqueue('ground_truth', line, id)

    def _invalid(self, model, error):
        with self._lock:
            self.invalid += 1
        if self.strict:
            raise ValueError(str(error))
        logger.warning('modelmon: invalid event for model %r not sent: %s', model, error)
        return False

    def _enqueue(self, kind, line, id):
        if self._pid != os.getpid():
            self._after_fork()
        with self._cond:
            if self._closed or len(self._queue) >= self.queue_size:
                self.dropped += 1
                warn = not self._warned_full
                self._warned_full = True
            else:
                if not self._queue:
                    self._oldest = time.monotonic()
                self._queue.append((kind, line, id))
                self._enqueued += 1
                if self._thread is None:
                    self._start_sender()
                if len(self._queue) >= self.batch_size:
                    self._cond.notify_all()
                return True
        if warn:
            logger.warning('modelmon: %s; dropping events (counted in Client.dropped)',
                           'client closed' if self._closed else
                           'queue full (%d events)' % self.queue_size)
        return False

    def _start_sender(self):
        self._thread = threading.Thread(target=self._run, name='modelmon-client', daemon=True)
        self._thread.start()

    def _after_fork(self):
        with _fork_lock:
            if self._pid != os.getpid():
                self._reset_threading()

    # Flushing and closing.

    @property
    def queue_length(self):
        """Events waiting to be sent (not counting the batch in flight)."""
        with self._lock:
            return len(self._queue)

    def flush(self, timeout=None):
        """Waits until every event queued before the call has been sent or given up, at most
        `timeout` seconds (None: no limit). Returns True when it has. Sends partial batches at
        once."""
        if self._pid != os.getpid():
            self._after_fork()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            target = self._enqueued
            self._flush_to = max(self._flush_to, target)
            self._cond.notify_all()
            while self._done < target:
                if self._thread is None or not self._thread.is_alive():
                    return False
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def close(self, timeout=5.0):
        """Stops accepting events, sends what is queued for at most `timeout` seconds, then stops
        the sender; events still queued count in `dropped`. Returns True when everything queued
        was sent or given up in time. Idempotent; registered with atexit."""
        with self._cond:
            if self._closed:
                return self._done == self._enqueued
            self._closed = True
        flushed = self.flush(timeout)
        self._abort.set()
        with self._cond:
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            # The request in flight ends within its own timeout; the abort cuts any backoff short.
            thread.join(self.timeout * 2 + 1)
        with self._cond:
            left = len(self._queue)
            self._queue.clear()
            self.dropped += left
            self._done += left
            self._cond.notify_all()
        self._transport.close()
        return flushed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # The sender thread.

    def _take_batch(self):
        """Waits for a batch and takes it: [(kind, line, id)], or None when closing with an empty
        queue. Called with the lock held."""
        while True:
            if self._abort.is_set():
                return None
            if self._queue:
                urgent = self._closed or self._taken < self._flush_to
                waited = time.monotonic() - self._oldest
                if urgent or len(self._queue) >= self.batch_size or waited >= self.flush_interval:
                    break
                self._cond.wait(self.flush_interval - waited)
            elif self._closed:
                return None
            else:
                self._cond.wait()
        batch, size = [], 0
        while self._queue and len(batch) < self.batch_size:
            line_size = len(self._queue[0][1]) + 1
            if batch and size + line_size > self.max_batch_bytes:
                break
            batch.append(self._queue.popleft())
            size += line_size
        self._taken += len(batch)
        if self._queue:
            self._oldest = time.monotonic()
        return batch

    def _run(self):
        while True:
            with self._cond:
                batch = self._take_batch()
            if batch is None:
                return
            before = self.sent + self.rejected + self.failed
            try:
                for kind in ('prediction', 'ground_truth'):
                    part = [(line, id) for k, line, id in batch if k == kind]
                    if part:
                        self._deliver(kind, part)
            except Exception:  # noqa: BLE001 - the sender must outlive any bug in a batch
                logger.exception('modelmon: unexpected error sending %d events', len(batch))
                with self._lock:
                    counted = self.sent + self.rejected + self.failed - before
                    self.failed += max(0, len(batch) - counted)
            finally:
                with self._cond:
                    self._done += len(batch)
                    self._warned_full = False
                    self._cond.notify_all()

    def _backoff(self, attempt):
        """Full jitter: uniform in [0, min(backoff_max, backoff_base * 2**attempt)]."""
        return self._rng.uniform(0, min(self.backoff_max, self.backoff_base * (2 ** attempt)))

    def _deliver(self, kind, events):
        """Sends [(line, id)] of one kind, retrying as the class comment says, and counts them."""
        body = b'\n'.join(line for line, _ in events) + b'\n'
        attempt = 0
        reason = None
        while True:
            if attempt and self._abort.is_set():
                with self._lock:
                    self.failed += len(events)
                logger.error('modelmon: %d %s events not delivered to %s (client closed while '
                             'retrying): %s', len(events), kind, self.url, reason)
                return
            status, reason, response = None, None, None
            try:
                response = self._transport.post(PATHS[kind], body, NDJSON)
                status = response.status
            except TRANSPORT_ERRORS as e:
                reason = '%s: %s' % (type(e).__name__, e)
            if status is not None and self._accounted(kind, events, response):
                return
            if status == 413 and len(events) > 1:
                half = len(events) // 2
                self._deliver(kind, events[:half])
                self._deliver(kind, events[half:])
                return
            if status is not None:
                reason = 'HTTP %d: %s' % (status, _error_text(response.body))
            if (status is not None and status not in RETRY_STATUSES) or \
                    attempt >= self.max_retries or self._abort.is_set():
                with self._lock:
                    self.failed += len(events)
                logger.error('modelmon: %d %s events not delivered to %s after %d attempt(s): %s',
                             len(events), kind, self.url, attempt + 1, reason)
                return
            delay = None
            if status in RETRY_AFTER_STATUSES:
                delay = retry_after_seconds(response.headers.get('retry-after'))
                if delay is not None:
                    delay = min(delay, self.max_retry_after)
            if delay is None:
                delay = self._backoff(attempt)
            with self._lock:
                self.retries += 1
            attempt += 1
            logger.debug('modelmon: retrying %d %s events in %.3fs (%s)', len(events), kind, delay,
                         reason)
            self._sleep(delay)

    def _accounted(self, kind, events, response):
        """Counts a per-event answer (200, or 400 with per-event errors) and returns True; False
        for any other answer."""
        if response.status not in (200, 400):
            return False
        try:
            answer = _json(response.body)
            accepted, rejected = int(answer['accepted']), int(answer['rejected'])
        except (ValueError, TypeError, KeyError):
            if response.status == 400:
                return False
            accepted, rejected, answer = len(events), 0, {}
        with self._lock:
            self.sent += accepted
            self.rejected += rejected
            # An answer that does not add up (it should) still finishes every event once.
            self.failed += max(0, len(events) - accepted - rejected)
        if rejected:
            quoted = []
            for e in (answer.get('errors') or [])[:LOGGED_ERRORS]:
                index = e.get('index') if isinstance(e, dict) else None
                id = events[index][1] if isinstance(index, int) and 0 <= index < len(events) \
                    else None
                quoted.append('event %s (id %r): %s' % (index, id, e.get('error')))
            logger.warning('modelmon: rejected %d of %d %s events: %s', rejected, len(events),
                           kind, '; '.join(quoted))
        return True


def _json(body):
    return json.loads(body.decode('utf-8'))


def _error_text(body):
    try:
        answer = _json(body)
        if isinstance(answer, dict) and 'error' in answer:
            return str(answer['error'])
    except ValueError:
        pass
    return body[:200].decode('utf-8', 'replace')


_fork_lock = threading.Lock()


def _reset_after_fork():
    for client in list(_live_clients):
        client._pid = -1  # the next log call in the child resets it


def _close_all_at_exit():
    for client in list(_live_clients):
        try:
            client.close(timeout=min(2.0, client.timeout * 2))
        except Exception:  # noqa: BLE001 - interpreter shutdown: never raise
            pass


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_reset_after_fork)
atexit.register(_close_all_at_exit)
