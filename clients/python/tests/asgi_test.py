#!/usr/bin/python3
"""Unit tests of modelmon_client.ModelmonMiddleware as plain ASGI: hand-written apps, receive and
send, and a recording client; no web framework needed. Run by ctest
(clients/python/CMakeLists.txt); standalone: /usr/bin/python3 clients/python/tests/asgi_test.py
"""

import asyncio
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from modelmon_client import ModelmonMiddleware  # noqa: E402

MODEL = 'credit_risk'


class RecordingClient:
    """Stands in for Client: records log_prediction calls; `fail` makes it raise."""

    def __init__(self, fail=False):
        self.calls = []
        self.fail = fail

    def log_prediction(self, model, id, features, prediction, **kw):
        if self.fail:
            raise RuntimeError('modelmon is broken')
        self.calls.append(dict(kw, model=model, id=id, features=features, prediction=prediction))
        return True


def scope(path='/predict', method='POST', headers=((b'content-type', b'application/json'),)):
    return {'type': 'http', 'method': method, 'path': path, 'headers': list(headers)}


def receiver(chunks, then_disconnect=True):
    """An ASGI receive giving `chunks` as http.request messages, then http.disconnect."""
    messages = [{'type': 'http.request', 'body': c, 'more_body': i < len(chunks) - 1}
                for i, c in enumerate(chunks)]
    if then_disconnect:
        messages.append({'type': 'http.disconnect'})

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)
    return receive


async def read_body(receive):
    body = b''
    while True:
        m = await receive()
        assert m['type'] == 'http.request', m
        body += m.get('body', b'')
        if not m.get('more_body'):
            return body


def json_app(answer, status=200, seen=None):
    async def app(scope, receive, send):
        body = await read_body(receive)
        if seen is not None:
            seen.append(body)
        data = json.dumps(answer).encode()
        await send({'type': 'http.response.start', 'status': status,
                    'headers': [(b'content-type', b'application/json')]})
        await send({'type': 'http.response.body', 'body': data})
    return app


def features_from(scope, body):
    return body['features'] if body else None


def run(middleware, s, receive):
    sent = []

    async def send(message):
        sent.append(message)
    asyncio.run(asyncio.wait_for(middleware(s, receive, send), 5))
    return sent


class MiddlewareTest(unittest.TestCase):
    def test_records_features_prediction_latency_and_replays_the_body(self):
        client, seen = RecordingClient(), []
        body = json.dumps({'features': {'amount': 12.5, 'country': 'DE'}}).encode()
        mw = ModelmonMiddleware(json_app({'prediction': 1, 'score': 0.9}, seen=seen), client,
                                MODEL, features_from, prediction_from=lambda r: r,
                                id_from=lambda s, b, r: 'req-1', model_version='v3')
        sent = run(mw, scope(), receiver([body[:5], body[5:9], body[9:]]))
        self.assertEqual(seen, [body])
        self.assertEqual(sent[0]['status'], 200)
        self.assertEqual(len(client.calls), 1)
        call = client.calls[0]
        latency = call.pop('latency_ms')
        self.assertGreaterEqual(latency, 0)
        self.assertLess(latency, 5000)
        self.assertEqual(call, {'model': MODEL, 'id': 'req-1',
                                'features': {'amount': 12.5, 'country': 'DE'},
                                'prediction': 1, 'score': 0.9, 'model_version': 'v3',
                                'error': False})
        self.assertEqual(mw.recorded, 1)

    def test_default_id_is_the_request_id_header(self):
        client = RecordingClient()
        mw = ModelmonMiddleware(json_app(0), client, MODEL, features_from)
        headers = ((b'content-type', b'application/json'), (b'X-Request-ID', b'abc-1'))
        run(mw, scope(headers=headers), receiver([b'{"features": {"x": 1}}']))
        self.assertEqual((client.calls[0]['id'], client.calls[0]['prediction']), ('abc-1', 0))

    def test_streaming_responses_pass_through_chunk_by_chunk(self):
        client = RecordingClient()

        async def main():
            got_first = asyncio.Event()
            sent = []

            async def app(scope, receive, send):
                await read_body(receive)
                await send({'type': 'http.response.start', 'status': 200,
                            'headers': [(b'content-type', b'text/plain')]})
                await send({'type': 'http.response.body', 'body': b'a', 'more_body': True})
                # Waits until the client side has seen the first chunk: a middleware that
                # buffered the response would never deliver it, and the test would time out.
                await asyncio.wait_for(got_first.wait(), 2)
                await send({'type': 'http.response.body', 'body': b'b', 'more_body': True})
                await send({'type': 'http.response.body', 'body': b'', 'more_body': False})

            async def send(message):
                sent.append(message)
                if message.get('body') == b'a':
                    got_first.set()

            mw = ModelmonMiddleware(app, client, MODEL, features_from,
                                    prediction_from=lambda r: 1)
            await mw(scope(), receiver([b'{"features": {"x": 1}}']), send)
            return sent

        sent = asyncio.run(asyncio.wait_for(main(), 5))
        self.assertEqual([m.get('body') for m in sent[1:]], [b'a', b'b', b''])
        self.assertEqual(client.calls[0]['prediction'], 1)  # the response was not JSON

    def test_an_exception_is_recorded_as_an_error_and_reraised(self):
        async def app(scope, receive, send):
            await read_body(receive)
            raise KeyError('model failed')

        client = RecordingClient()
        mw = ModelmonMiddleware(app, client, MODEL, features_from, error_prediction=0)
        with self.assertRaises(KeyError):
            run(mw, scope(), receiver([b'{"features": {"x": 1}}']))
        self.assertEqual((client.calls[0]['error'], client.calls[0]['prediction']), (True, 0))

        client = RecordingClient()
        mw = ModelmonMiddleware(json_app({'detail': 'x'}, status=503), client, MODEL,
                                features_from, prediction_from=lambda r: r['prediction'])
        sent = run(mw, scope(), receiver([b'{"features": {"x": 1}}']))
        self.assertEqual(sent[0]['status'], 503)
        self.assertEqual((client.calls, mw.errors_unlogged), ([], 1))

    def test_failures_of_user_functions_and_of_the_client_never_reach_the_app(self):
        body = b'{"features": {"x": 1}}'
        for kwargs, client in (
                ({'features_from': lambda s, b: 1 / 0}, RecordingClient()),
                ({'features_from': features_from, 'prediction_from': lambda r: r['missing']},
                 RecordingClient()),
                ({'features_from': features_from, 'id_from': lambda s, b, r: [][0]},
                 RecordingClient()),
                ({'features_from': features_from}, RecordingClient(fail=True))):
            with self.subTest(kwargs=sorted(kwargs)):
                seen = []
                mw = ModelmonMiddleware(json_app({'prediction': 1}, seen=seen), client, MODEL,
                                        **kwargs)
                with self.assertLogs('modelmon_client', 'ERROR'):
                    sent = run(mw, scope(), receiver([body]))
                self.assertEqual(seen, [body])
                self.assertEqual(sent[0]['status'], 200)
                self.assertEqual(json.loads(sent[1]['body']), {'prediction': 1})
                self.assertEqual(client.calls, [])

    def test_other_scopes_paths_and_methods_pass_through_untouched(self):
        calls = []

        async def app(scope, receive, send):
            calls.append((scope['type'], receive))

        client = RecordingClient()
        receive = receiver([b'{}'])
        mw = ModelmonMiddleware(app, client, MODEL, features_from, paths=['/predict'])
        for s in ({'type': 'lifespan'}, scope(path='/healthz'), scope(method='GET')):
            run(mw, s, receive)
        self.assertEqual([c[0] for c in calls], ['lifespan', 'http', 'http'])
        self.assertTrue(all(c[1] is receive for c in calls))
        self.assertEqual(client.calls, [])

    def test_large_bodies_stream_through_and_disconnects_are_replayed(self):
        client, seen = RecordingClient(), []
        got = []
        mw = ModelmonMiddleware(json_app({'prediction': 1}, seen=seen), client, MODEL,
                                lambda s, b: got.append(b) or {'x': 1}, max_body_bytes=10)
        chunks = [b'{"features":', b' {"x": 1}', b', "pad": "' + b'y' * 50 + b'"}']
        run(mw, scope(), receiver(chunks))
        self.assertEqual(seen, [b''.join(chunks)])
        self.assertEqual(got, [None])  # over the limit: not parsed
        self.assertEqual(len(client.calls), 1)

        messages = []

        async def app(scope, receive, send):
            messages.append(await receive())
            messages.append(await receive())

        mw = ModelmonMiddleware(app, RecordingClient(), MODEL, features_from)
        run(mw, scope(), receiver([b'{"fea', b'tures"'], then_disconnect=True))
        # The whole body in one message, then what the server sends next.
        self.assertEqual(messages, [{'type': 'http.request', 'body': b'{"features"',
                                     'more_body': False}, {'type': 'http.disconnect'}])
        # A client that disconnects mid-body: the app sees what came, then the disconnect.
        messages.clear()

        async def dropping():
            return {'type': 'http.disconnect'}
        run(mw, scope(), dropping)
        self.assertEqual([m['type'] for m in messages], ['http.disconnect', 'http.disconnect'])

    def test_the_module_imports_no_web_framework(self):
        import subprocess
        code = ('import sys; sys.path.insert(0, %r); import modelmon_client; '
                'print(sorted(m for m in sys.modules if m.split(".")[0] in '
                '("starlette", "fastapi", "httpx", "uvicorn", "anyio")))' % os.path.dirname(HERE))
        out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                             check=True).stdout
        self.assertEqual(out.strip(), '[]')


if __name__ == '__main__':
    unittest.main(verbosity=2)
