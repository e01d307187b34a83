"""The local Runtime API, driven by a plain HTTP client the way a runtime drives it."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

from lambda_deploy.runtime_api import RuntimeApi


def call(api: RuntimeApi, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(
        f"http://{api.address}/2018-06-01/runtime/{path}", data=body, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def make_api(**kwargs) -> RuntimeApi:
    return RuntimeApi(
        b'{"order": 1}',
        function_arn="arn:aws:lambda:eu-west-1:000000000000:function:f",
        timeout_seconds=3,
        **kwargs,
    )


def test_hands_out_one_event_and_takes_its_response() -> None:
    with make_api(client_context='{"client": {}}') as api:
        status, headers, body = call(api, "GET", "invocation/next")
        assert status == 200
        assert body == b'{"order": 1}'
        request_id = headers["Lambda-Runtime-Aws-Request-Id"]
        assert request_id == api.request_id
        assert headers["Lambda-Runtime-Invoked-Function-Arn"].endswith(":function:f")
        assert headers["Lambda-Runtime-Trace-Id"].startswith("Root=1-")
        assert headers["Lambda-Runtime-Client-Context"] == '{"client": {}}'
        assert "Lambda-Runtime-Cognito-Identity" not in headers
        assert int(headers["Lambda-Runtime-Deadline-Ms"]) > 0

        assert call(api, "POST", "invocation/not-the-id/response", b"{}")[0] == 400
        assert not api.finished.is_set()
        assert call(api, "POST", f"invocation/{request_id}/response", b'{"ok": true}')[0] == 202
        assert api.wait(1)
        # Only one answer per invocation.
        assert call(api, "POST", f"invocation/{request_id}/error", b"{}")[0] == 400

    outcome = api.outcome
    assert outcome.kind == "response"
    assert outcome.body == b'{"ok": true}'
    assert outcome.error is None
    assert outcome.first_next_at <= outcome.handed_out_at <= outcome.finished_at


def test_a_second_next_is_held_until_the_server_closes() -> None:
    api = make_api().__enter__()
    call(api, "GET", "invocation/next")
    held = []
    waiter = threading.Thread(target=lambda: held.append(call_or_error(api)))
    waiter.start()
    waiter.join(0.5)
    assert waiter.is_alive() and held == []
    api.close()
    waiter.join(10)
    assert not waiter.is_alive()


def call_or_error(api: RuntimeApi) -> object:
    try:
        return call(api, "GET", "invocation/next")
    except OSError as e:
        return e


def test_records_the_handlers_error_and_an_init_error() -> None:
    with make_api() as api:
        _, headers, _ = call(api, "GET", "invocation/next")
        error = {"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}
        path = f"invocation/{headers['Lambda-Runtime-Aws-Request-Id']}/error"
        status, _, _ = call(
            api, "POST", path, json.dumps(error).encode(), {"Lambda-Runtime-Function-Error-Type": "Unhandled"}
        )
        assert status == 202
    assert api.outcome.kind == "error"
    assert api.outcome.error == error

    with make_api() as api:
        error = {"errorMessage": "Unable to import module", "errorType": "Runtime.ImportModuleError"}
        assert call(api, "POST", "init/error", json.dumps(error).encode())[0] == 202
    assert api.outcome.kind == "init_error"
    assert api.outcome.error == error
    assert api.outcome.first_next_at is None


def test_unknown_paths_are_not_found() -> None:
    with make_api() as api:
        assert call(api, "GET", "invocation/other")[0] == 404
        assert call(api, "POST", "something", b"")[0] == 404
