"""Schemathesis hooks for ops/tests/api-schema.sh.

Now and then (one generated case in four) a NUL character goes into the first
string of a JSON body and into the string query parameters: valid JSON and a
valid URL, but PostgreSQL cannot store it in text, so the server has to refuse
it (4xx) rather than fail (5xx). Drawn through Hypothesis, so a run with a
fixed seed stays reproducible.
"""
import copy

import schemathesis
from hypothesis import strategies as st

NUL = "\u0000"


def _with_nul(value):
    """A copy of value with NUL appended to its first string (depth first), or None without one."""
    if isinstance(value, str):
        return value + NUL
    if isinstance(value, dict):
        for key, item in value.items():
            changed = _with_nul(item)
            if changed is not None:
                result = copy.copy(value)
                result[key] = changed
                return result
    if isinstance(value, list):
        for index, item in enumerate(value):
            changed = _with_nul(item)
            if changed is not None:
                result = list(value)
                result[index] = changed
                return result
    return None


def _sometimes_nul(value):
    changed = _with_nul(value) if isinstance(value, (dict, list)) else None
    if changed is None:
        return st.just(value)
    return st.sampled_from([False, False, False, True]).map(lambda nul: changed if nul else value)


@schemathesis.hook
def flatmap_body(context, body):
    return _sometimes_nul(body)


@schemathesis.hook
def flatmap_query(context, query):
    if not isinstance(query, dict):
        return st.just(query)
    strings = {key: value + NUL for key, value in query.items() if isinstance(value, str)}
    if not strings:
        return st.just(query)
    return st.sampled_from([False, False, False, True]).map(lambda nul: {**query, **strings} if nul else query)
