"""Schemathesis against a live gunicorn on loopback: every operation of an OpenAPI document,
positive and negative cases, a fixed seed and a fixed number of examples per operation.

Used two ways:
- ``tests/core/test_fuzz.py`` (CI): a small bound, asserting zero failures;
- ``make fuzz`` (``python -m tests.fuzz``): a large bound, printing cases and failures per
  operation. It builds its own SQLite database in a temporary directory.

Checks: no 5xx, documented status codes, content types, headers and response schemas;
negative (schema-violating) input must be refused with a 4xx; an operation that declares a
security scheme must refuse the request without it (``ignored_auth``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

SEED = 20240611
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CHECKS = {
    GenerationMode.POSITIVE: [*CONFORMANCE, ignored_auth],
    GenerationMode.NEGATIVE: [*CONFORMANCE, negative_data_rejection],
}
# The checks import their own failure types; any exception out of validate_response is one.
FAILURE_TYPES = (AssertionError, BaseExceptionGroup, schemathesis.errors.SchemathesisError)


@dataclass
class OperationResult:
    label: str
    cases: int = 0
    succeeded: int = 0  # 2xx answers: proof the credentials work and cases get past validation
    failures: int = 0
    messages: list[str] = field(default_factory=list)

    def record_failure(self, message: str) -> None:
        self.failures += 1
        if len(self.messages) < 3:
            self.messages.append(message)


@dataclass(frozen=True)
class Target:
    """One document on one live server, and the credentials a valid caller sends."""

    base_url: str
    document_path: str
    # Per security scheme of the document, e.g. {"tenantApiKey": {"api_key": "lw_live_..."}}:
    # schemathesis then sends credentials itself, and leaves them out on purpose in negative
    # cases that test their absence.
    auth: dict[str, dict[str, str]]


def fuzz(
    target: Target,
    max_examples: int,
    modes: Iterable[GenerationMode] = tuple(CHECKS),
    mutate: Callable[[dict], None] | None = None,
) -> list[OperationResult]:
    """Run every operation of the target's document; results per operation, in order.

    ``mutate`` edits the fetched document first: the harness's own test uses it to prove that
    a document disagreeing with the server is caught.
    """
    session = requests.Session()
    document = session.get(target.base_url + target.document_path, timeout=10).json()
    if mutate is not None:
        mutate(document)
    config = schemathesis.Config.from_dict(
        {
            "auth": {"openapi": target.auth},
            # Unknown query parameters are ignored by design (docs/security.md).
            "generation": {"allow-extra-parameters": False},
        }
    )
    schema = schemathesis.openapi.from_dict(document, config=config)
    results: list[OperationResult] = []
    for loaded in schema.get_all_operations():
        operation = loaded.ok()
        result = OperationResult(operation.label)
        for mode in modes:
            _run(operation, mode, target, session, result, max_examples)
        results.append(result)
    return results


def _run(operation, mode, target: Target, session, result: OperationResult, max_examples) -> None:
    @seed(SEED)
    @settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run_case(case) -> None:
        result.cases += 1
        response = case.call(base_url=target.base_url, session=session, timeout=10)
        result.succeeded += 200 <= response.status_code < 300
        try:
            case.validate_response(
                response, checks=CHECKS[mode], transport_kwargs={"base_url": target.base_url}
            )
        except FAILURE_TYPES as exc:
            result.record_failure(
                f"{mode.value} {case.method} {case.formatted_path} "
                f"query={case.query} headers={_generated(case.headers)} body={case.body!r:.200} "
                f"-> {response.status_code}: {_describe(exc)}"
            )

    try:
        run_case()
    except Unsatisfiable:
        # Nothing to violate: an operation without parameters or body has no negative cases.
        if mode is not GenerationMode.NEGATIVE:
            raise


def _describe(exc: BaseException) -> str:
    failures = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
    return " | ".join(
        f"{getattr(failure, 'title', type(failure).__name__)}: "
        f"{' '.join(str(getattr(failure, 'message', failure)).split())[:400]}"
        for failure in failures
    )


def _generated(headers: dict | None) -> dict:
    """The generated headers, credentials masked: a report never prints a secret."""
    secret = {"x-tenant-api-key", "x-api-key", "authorization"}
    return {
        name: "***" if name.lower() in secret else value for name, value in (headers or {}).items()
    }


def report(results: list[OperationResult], write: Callable[[str], object] = print) -> None:
    width = max(len(result.label) for result in results)
    write(f"{'operation'.ljust(width)}  {'cases':>6}  {'2xx':>6}  {'failures':>8}")
    for result in results:
        write(
            f"{result.label.ljust(width)}  {result.cases:>6}  {result.succeeded:>6}"
            f"  {result.failures:>8}"
        )
        for message in result.messages:
            write(f"    {message[:900]}")
    total_cases = sum(result.cases for result in results)
    total_ok = sum(result.succeeded for result in results)
    total_failures = sum(result.failures for result in results)
    write(f"{'total'.ljust(width)}  {total_cases:>6}  {total_ok:>6}  {total_failures:>8}")


def _main() -> int:
    parser = argparse.ArgumentParser(description="Fuzz the live API against its OpenAPI document")
    parser.add_argument("--examples", type=int, default=250, help="examples per operation and mode")
    arguments = parser.parse_args()
    from tests.fuzz_server import live_targets

    total_failures = 0
    with tempfile.TemporaryDirectory() as workdir, live_targets(Path(workdir)) as factories:
        for make_target in factories:
            target = make_target()
            print(f"\n== {target.document_path} ({arguments.examples} examples per mode)")
            results = fuzz(target, arguments.examples)
            report(results)
            total_failures += sum(result.failures for result in results)
    return 1 if total_failures else 0


if __name__ == "__main__":
    os.environ.setdefault("LOOPWAVE_IGNORE_DOTENV", "1")
    sys.exit(_main())
