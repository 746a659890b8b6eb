"""Instructions a key change costs with and without its outbox write, under callgrind.

Wall-clock differences of a few hundred microseconds drown in a shared machine's noise;
instruction counts do not. Two processes under ``valgrind --tool=callgrind`` (the marker of
``bench/callgrind.py``: only what runs inside ``sys.call_tracing`` is counted) each rename one
key ``--changes`` times through ``KeyStore.update_key`` on the embedded SQLite database (so
the database engine's own work is counted too; its fsync waits are not instructions), the
tenant having one webhook endpoint subscribed to everything: one process with the event and
its delivery row written, the other writing no event (``bench.webhooks.without_events``).

    .venv/bin/python bench/outbox_callgrind.py --changes 200
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.callgrind import callgrind_command, part_total  # noqa: E402

FLASK = str(Path(sys.executable).with_name("flask"))


def child(emitting: bool, changes: int) -> None:
    from bench.webhooks import key_with_a_webhook, without_events
    from tenants import keys as keys_module

    with key_with_a_webhook() as (store, tenant_id, key_id, actor):
        if not emitting:
            keys_module.record_change = without_events(keys_module.record_change)
        for number in range(20):  # warm: statement caches, first-use imports
            store.update_key(tenant_id, key_id, actor, name=f"warm{number}")
        gc.collect()
        gc.freeze()

        def measured() -> None:
            for number in range(changes):
                store.update_key(tenant_id, key_id, actor, name=f"k{number}")

        sys.call_tracing(measured, ())


def measure(emitting: bool, changes: int, workdir: Path) -> float:
    instance = workdir / ("with" if emitting else "without")
    instance.mkdir()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        "LOOPWAVE_INSTANCE_PATH": str(instance),
        "LOOPWAVE_IGNORE_DOTENV": "1",
        "DATABASE_URL": f"sqlite:///{instance}/bench.db",
        "APP_ENV": "development",
        "SECRET_KEY": "bench-secret",
        "WEBHOOK_ALLOW_PRIVATE": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONHASHSEED": "0",
    }
    subprocess.run(
        [FLASK, "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    out = instance / "callgrind.out"
    command = [*callgrind_command(str(out)), __file__, "--child", str(int(emitting))]
    subprocess.run(
        [*command, "--changes", str(changes)], cwd=ROOT, env=env, check=True, capture_output=True
    )
    parts = sorted(instance.glob("callgrind.out*"))
    return sum(part_total(part) for part in parts) / changes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--child", type=int, choices=(0, 1))
    args = parser.parse_args()
    if args.child is not None:
        child(bool(args.child), args.changes)
        return
    with tempfile.TemporaryDirectory(prefix="lw-outbox-") as workdir:
        with_event = measure(True, args.changes, Path(workdir))
        without = measure(False, args.changes, Path(workdir))
    print(f"key change (rename), instructions each, {args.changes} changes, SQLite:")
    print(f"  with its event and delivery row: {with_event:,.0f}")
    print(f"  without (no event written):      {without:,.0f}")
    print(f"  the outbox write:                {with_event - without:,.0f}")


if __name__ == "__main__":
    main()
