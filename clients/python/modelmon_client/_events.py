"""Client-side validation and serialisation of modelmon events.

Each event is checked for the JSON types the daemon accepts (README "HTTP API") and serialised to one
NDJSON line at once, on the caller's thread, so later changes to the caller's dicts never reach the
daemon. The daemon still validates everything (classes, configured features); this only catches
what can never be valid. Pure functions: thread-safe.
"""

import datetime
import json
import math
import numbers
from collections.abc import Mapping

MAX_ID_LENGTH = 256
MAX_VERSION_LENGTH = 128


class InvalidEvent(ValueError):
    """An event that the daemon could never accept; the message names the field."""


def _scalar(value):
    """A JSON-encodable scalar for value: numpy and other numbers.Number scalars become Python
    int/float (through .item() where present), so no numpy import is needed."""
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    item = getattr(value, 'item', None)
    if callable(item) and getattr(value, 'shape', None) == ():
        value = item()
        if value is None or isinstance(value, (bool, str, int, float)):
            return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise InvalidEvent('expected a string, number, boolean or None, got %s' %
                       type(value).__name__)


def _number(field, value, allow_none=True):
    if value is None and allow_none:
        return None
    try:
        v = _scalar(value)
    except InvalidEvent:
        v = value
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InvalidEvent('%s: expected a number, got %s' % (field, type(value).__name__))
    if isinstance(v, float) and not math.isfinite(v):
        raise InvalidEvent('%s: expected a finite number, got %r' % (field, v))
    return v


def _class_or_number(field, value):
    """A prediction or label: a class name (string, integer, boolean) or a regression value."""
    if value is None:
        raise InvalidEvent('%s: required' % field)
    try:
        v = _scalar(value)
    except InvalidEvent as e:
        raise InvalidEvent('%s: %s' % (field, e)) from None
    if isinstance(v, float) and not math.isfinite(v):
        raise InvalidEvent('%s: expected a finite number, got %r' % (field, v))
    return v


def _model(model):
    if not isinstance(model, str) or not model:
        raise InvalidEvent('model: expected a non-empty string, got %r' % (model,))
    return model


def _id(value, required):
    if value is None:
        if required:
            raise InvalidEvent('id: required')
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidEvent('id: expected a string or integer, got %s' % type(value).__name__)
    if isinstance(value, str) and not 1 <= len(value) <= MAX_ID_LENGTH:
        raise InvalidEvent('id: expected 1 to %d characters' % MAX_ID_LENGTH)
    return value


def _timestamp(value):
    """None, Unix seconds, an RFC 3339 string (passed through), or a datetime (naive means local
    time, as datetime.timestamp() reads it)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    return _number('timestamp', value)


def _features(features):
    if not isinstance(features, Mapping):
        raise InvalidEvent('features: expected a mapping, got %s' % type(features).__name__)
    out = {}
    for name, value in features.items():
        if not isinstance(name, str):
            raise InvalidEvent('features: expected string names, got %r' % (name,))
        try:
            v = _scalar(value)
        except InvalidEvent as e:
            raise InvalidEvent('features.%s: %s' % (name, e)) from None
        # NaN is how pandas and numpy spell a missing value; the daemon counts null as missing.
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        out[name] = v
    return out


def _scores(scores):
    if scores is None:
        return None
    if not isinstance(scores, Mapping):
        raise InvalidEvent('scores: expected a mapping of class to probability')
    return {str(_scalar(k)): _number('scores.%s' % k, v, allow_none=False)
            for k, v in scores.items()}


def _dumps(obj):
    return json.dumps(obj, separators=(',', ':'), ensure_ascii=False, allow_nan=False).encode()


def prediction_line(model, id, features, prediction, score=None, scores=None, model_version=None,
                    timestamp=None, latency_ms=None, error=None):
    """One NDJSON line (bytes, no newline) of a prediction event; raises InvalidEvent."""
    event = {'model': _model(model)}
    if model_version is not None:
        if not isinstance(model_version, str) or not 1 <= len(model_version) <= MAX_VERSION_LENGTH:
            raise InvalidEvent('model_version: expected a string of 1 to %d characters' %
                               MAX_VERSION_LENGTH)
        event['model_version'] = model_version
    id = _id(id, required=False)
    if id is not None:
        event['id'] = id
    ts = _timestamp(timestamp)
    if ts is not None:
        event['timestamp'] = ts
    event['features'] = _features(features)
    event['prediction'] = _class_or_number('prediction', prediction)
    score = _number('score', score)
    if score is not None:
        event['score'] = score
    scores = _scores(scores)
    if scores is not None:
        event['scores'] = scores
    latency_ms = _number('latency_ms', latency_ms)
    if latency_ms is not None:
        if latency_ms < 0:
            raise InvalidEvent('latency_ms: expected a non-negative number')
        event['latency_ms'] = latency_ms
    if error is not None:
        if not isinstance(error, bool):
            raise InvalidEvent('error: expected a boolean')
        event['error'] = error
    return _dumps(event)


def ground_truth_line(model, id, label, timestamp=None):
    """One NDJSON line (bytes, no newline) of a ground-truth event; raises InvalidEvent."""
    event = {'model': _model(model), 'id': _id(id, required=True),
             'label': _class_or_number('label', label)}
    ts = _timestamp(timestamp)
    if ts is not None:
        event['timestamp'] = ts
    return _dumps(event)
