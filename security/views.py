"""``POST /security/secret-scanning``: GitHub's secret-scanning partner protocol (SPEC §11).

GitHub posts a JSON list of ``{token, type, url, source}`` found in public places, signed
with ECDSA (``Github-Public-Key-Identifier``, ``Github-Public-Key-Signature``: base64 DER
over the raw body). An unsigned or badly signed request is a 401 and changes nothing. Each
token is labelled ``true_positive`` (one of our keys: handled per ``tenants.leaks``) or
``false_positive``. The tokens are hashed for the lookup and echoed in the answer, as the
protocol requires, and are never stored or logged.
"""

from __future__ import annotations

import base64
import binascii

from flask import current_app, request
from flask.blueprints import BlueprintSetupState

from core.errors import ApiError
from core.extensions import keystore
from core.http import parse_json, public
from security import bp
from security.scannerkeys import KeysUnavailable, ScannerKeys
from tenants.leaks import LeakReport, handle_report

MAX_TOKENS = 1000
SCANNER_KEYS = "loopwave.secret_scanning_keys"


@bp.record_once
def build_scanner_keys(state: BlueprintSetupState) -> None:
    state.app.extensions[SCANNER_KEYS] = ScannerKeys(state.app.config["SECRET_SCANNING_KEYS_URL"])


@bp.post("/secret-scanning")
@public
def secret_scanning() -> list[dict[str, str]]:
    body = request.get_data(cache=True)
    _verify_signature(body)
    reports = _reports(body)
    store = keystore.get()
    return [
        {
            "token_raw": report.token,
            "token_type": report.token_type,
            "label": "true_positive"
            if handle_report(store, report, "github")
            else "false_positive",
        }
        for report in reports
    ]


def _verify_signature(body: bytes) -> None:
    identifier = request.headers.get("Github-Public-Key-Identifier", "")
    encoded = request.headers.get("Github-Public-Key-Signature", "")
    if not identifier or not encoded:
        raise ApiError("AUTH_INVALID_TOKEN", "The report is not signed")
    try:
        signature = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError("AUTH_INVALID_TOKEN", "The report's signature is not valid") from exc
    keys: ScannerKeys = current_app.extensions[SCANNER_KEYS]
    try:
        valid = keys.verify(identifier, signature, body)
    except KeysUnavailable as exc:
        raise ApiError("SERVICE_UNAVAILABLE", "The scanner's public keys are unavailable") from exc
    if not valid:
        raise ApiError("AUTH_INVALID_TOKEN", "The report's signature is not valid")


def _reports(body: bytes) -> list[LeakReport]:
    try:
        payload = parse_json(body)
    except ValueError as exc:
        raise ApiError("VALIDATION_ERROR", "The body is not valid JSON") from exc
    if not isinstance(payload, list) or len(payload) > MAX_TOKENS:
        raise ApiError("VALIDATION_ERROR", f"The body must be a list of at most {MAX_TOKENS}")
    reports = []
    for entry in payload:
        if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
            raise ApiError("VALIDATION_ERROR", "Each entry needs a token string")
        reports.append(
            LeakReport(
                token=entry["token"],
                token_type=str(entry.get("type") or ""),
                url=entry.get("url") if isinstance(entry.get("url"), str) else None,
                source=entry.get("source") if isinstance(entry.get("source"), str) else None,
            )
        )
    return reports
