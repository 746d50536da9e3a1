"""One keep-alive HTTP(S) connection to the daemon, and the parsing of Retry-After.

Not thread-safe: the client's sender thread is its only user.
"""

import email.utils
import http.client
import time
import urllib.parse

# The daemon's answers are small JSON objects; anything larger is not read (the connection closes).
MAX_RESPONSE_BYTES = 1 << 20

# What a request can fail with before a status arrives: refused, reset, timed out, closed early.
TRANSPORT_ERRORS = (OSError, http.client.HTTPException)


class Response:
    """A status, lower-cased headers and at most MAX_RESPONSE_BYTES of body."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body


class Transport:
    """POSTs to paths under a base URL (`http://host:port[/prefix]` or https) over one reused
    connection, with `timeout` seconds for the connect and for each read. A request that fails on
    a connection already used once is tried once more on a fresh one (the daemon closes idle
    keep-alive connections). Raises one of TRANSPORT_ERRORS when no status arrives."""

    def __init__(self, url, timeout, headers, ssl_context=None):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ('http', 'https') or not parts.hostname:
            raise ValueError('url: expected http://host:port or https://host:port, got %r' % url)
        if parts.query or parts.fragment:
            raise ValueError('url: expected no query or fragment, got %r' % url)
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.prefix = parts.path.rstrip('/')
        self.timeout = timeout
        self.headers = dict(headers)
        self.ssl_context = ssl_context
        self._conn = None
        self._used = False

    def _connect(self):
        if self.scheme == 'https':
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=self.ssl_context)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._used = False

    def post(self, path, body, content_type):
        reused = self._conn is not None and self._used
        try:
            return self._post_once(path, body, content_type)
        except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected,
                http.client.BadStatusLine):
            if not reused:
                raise
        return self._post_once(path, body, content_type)

    def _post_once(self, path, body, content_type):
        if self._conn is None:
            self._conn = self._connect()
            self._used = False
        headers = dict(self.headers)
        headers['Content-Type'] = content_type
        try:
            self._conn.request('POST', self.prefix + path, body=body, headers=headers)
            r = self._conn.getresponse()
            data = r.read(MAX_RESPONSE_BYTES + 1)
            response = Response(r.status, {k.lower(): v for k, v in r.getheaders()},
                                data[:MAX_RESPONSE_BYTES])
            if len(data) > MAX_RESPONSE_BYTES or r.will_close:
                self.close()
            else:
                self._used = True
            return response
        except BaseException:
            self.close()
            raise


def retry_after_seconds(value, now=None):
    """Seconds to wait from a Retry-After value: delta-seconds or an HTTP-date (RFC 9110 10.2.3);
    None when absent or malformed. Never negative."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)
