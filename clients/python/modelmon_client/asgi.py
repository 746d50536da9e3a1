"""ASGI middleware that logs each model request to modelmon as a prediction event.

Pure ASGI 3 (no framework import), so it wraps FastAPI, Starlette or any other ASGI app.
"""

import json
import logging
import time
import uuid

__all__ = ['ModelmonMiddleware']

logger = logging.getLogger('modelmon_client')

_JSON_TYPES = (b'application/json', b'+json')


def _is_json(content_type):
    base = content_type.split(b';', 1)[0].strip().lower()
    return base == _JSON_TYPES[0] or base.endswith(_JSON_TYPES[1])


def _header(headers, name):
    for k, v in headers or ():
        if k.lower() == name:
            return v
    return None


def _default_id(scope, body_json, response_json):
    """The request's X-Request-ID, else a fresh UUID (the id the ground truth must carry)."""
    value = _header(scope.get('headers'), b'x-request-id')
    if value:
        return value.decode('latin-1')[:256]
    return uuid.uuid4().hex


class ModelmonMiddleware:
    """Logs each recorded request through `client.log_prediction` with its latency (from the call
    to the last response byte), its status and whether it failed.

    - `features_from(scope, body_json) -> dict | None` gives the features from the ASGI scope and
      the request body parsed as JSON (None when it is not JSON or is over `max_body_bytes`). None
      means the request is not recorded.
    - `prediction_from(response_json)` gives the prediction from the JSON response, either the
      prediction itself or a dict with `prediction` and optionally `score`, `scores`,
      `model_version`. A response that is not JSON (or is over `max_response_bytes`) passes None.
      Without `prediction_from`, the whole response JSON is taken as the prediction.
    - `id_from(scope, body_json, response_json)` gives the event id (default: the X-Request-ID
      request header, else a random UUID).
    - A request that fails (an exception or a 5xx) is recorded with `error=True` and the
      prediction `error_prediction`; with error_prediction None (the default), it cannot become a
      prediction event (the daemon requires a prediction) and is only counted in `errors_unlogged`.
    - `paths`: record only these exact paths (default: every HTTP path); `methods` likewise.

    The request body is read before the app runs (to give it to `features_from`) and replayed to
    the app unchanged; the response is passed through message by message, so streaming responses
    stream. Failures of the user functions or of modelmon are logged and never reach the app or the
    client of the app. Thread-safety: as the app; it keeps only counters (`recorded`,
    `errors_unlogged`, `callback_errors`), updated on the event loop.
    """

    def __init__(self, app, client, model, features_from, prediction_from=None, id_from=None,
                 *, model_version=None, error_prediction=None, paths=None, methods=('POST',),
                 max_body_bytes=1 << 20, max_response_bytes=1 << 20):
        self.app = app
        self.client = client
        self.model = model
        self.features_from = features_from
        self.prediction_from = prediction_from
        self.id_from = id_from or _default_id
        self.model_version = model_version
        self.error_prediction = error_prediction
        self.paths = None if paths is None else frozenset(paths)
        self.methods = None if methods is None else frozenset(m.upper() for m in methods)
        self.max_body_bytes = max_body_bytes
        self.max_response_bytes = max_response_bytes
        self.recorded = 0
        self.errors_unlogged = 0
        self.callback_errors = 0

    def _wanted(self, scope):
        if scope.get('type') != 'http':
            return False
        if self.paths is not None and scope.get('path') not in self.paths:
            return False
        return self.methods is None or scope.get('method', '').upper() in self.methods

    async def __call__(self, scope, receive, send):
        if not self._wanted(scope):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        # Read the body, keeping the messages to replay them to the app.
        buffered, body, complete = [], bytearray(), True
        while True:
            message = await receive()
            buffered.append(message)
            if message.get('type') != 'http.request':
                complete = False  # a disconnect: replayed as it came
                break
            body += message.get('body', b'')
            if len(body) > self.max_body_bytes:
                complete = False  # the rest streams through to the app unread
                break
            if not message.get('more_body', False):
                break
        body_json = None
        if complete and body and _is_json(_header(scope.get('headers'), b'content-type') or b''):
            try:
                body_json = json.loads(body)
            except ValueError:
                body_json = None
        if complete:
            # The whole body in one message, as an ASGI server may send it.
            buffered = [{'type': 'http.request', 'body': bytes(body), 'more_body': False}]
        del body

        async def replay():
            if buffered:
                return buffered.pop(0)
            return await receive()

        state = {'status': None, 'json': False, 'body': bytearray(), 'over': False, 'end': None}

        async def send_wrapper(message):
            kind = message.get('type')
            if kind == 'http.response.start':
                state['status'] = message.get('status')
                state['json'] = _is_json(_header(message.get('headers'), b'content-type') or b'')
            elif kind == 'http.response.body' and state['json'] and not state['over']:
                state['body'] += message.get('body', b'')
                if len(state['body']) > self.max_response_bytes:
                    state['over'] = True
                    state['body'] = bytearray()
            await send(message)
            if kind == 'http.response.body' and not message.get('more_body', False):
                state['end'] = time.perf_counter()

        failed = False
        try:
            await self.app(scope, replay, send_wrapper)
        except BaseException:
            failed = True
            raise
        finally:
            end = state['end'] or time.perf_counter()
            status = state['status']
            failed = failed or status is None or status >= 500
            self._record(scope, body_json, state, (end - start) * 1000.0, failed)

    def _call(self, what, fn, *args):
        try:
            return fn(*args), True
        except Exception:  # noqa: BLE001 - a user function must never break the app
            self.callback_errors += 1
            logger.exception('modelmon: %s raised; request not recorded', what)
            return None, False

    def _record(self, scope, body_json, state, latency_ms, failed):
        try:
            features, ok = self._call('features_from', self.features_from, scope, body_json)
            if not ok or features is None:
                return
            response_json = None
            if state['json'] and not state['over'] and state['body']:
                try:
                    response_json = json.loads(bytes(state['body']))
                except ValueError:
                    response_json = None
            fields = {}
            if failed:
                prediction = self.error_prediction
            elif self.prediction_from is None:
                prediction = response_json
            else:
                prediction, ok = self._call('prediction_from', self.prediction_from,
                                            response_json)
                if not ok:
                    return
            if isinstance(prediction, dict):
                fields = {k: prediction[k] for k in ('score', 'scores', 'model_version')
                          if k in prediction}
                prediction = prediction.get('prediction')
            if prediction is None:
                if failed:
                    self.errors_unlogged += 1
                return
            id, ok = self._call('id_from', self.id_from, scope, body_json, response_json)
            if not ok:
                return
            fields.setdefault('model_version', self.model_version)
            if self.client.log_prediction(self.model, id, features, prediction,
                                          latency_ms=latency_ms, error=failed, **fields):
                self.recorded += 1
        except Exception:  # noqa: BLE001 - modelmon failures never reach the app
            logger.exception('modelmon: request not recorded')
