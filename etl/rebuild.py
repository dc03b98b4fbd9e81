"""Rebuild the warehouse from targets.yaml and the archive of accepted uploads.

The archive holds each accepted file under its sha256 plus a JSON sidecar (bureau, user, time);
replaying them in their original order reproduces every current value and every revision.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from pathlib import Path

from etl.load import load_bytes
from monitor import db
from monitor.targets import TargetsConfig


def manifest(archive: Path) -> list[dict]:
    entries = [json.loads(p.read_text(encoding="utf-8")) for p in archive.glob("*.json")]
    return sorted(entries, key=lambda e: (e["submitted_at"], e["submission_id"]))


def rebuild(
    path: Path,
    cfg: TargetsConfig,
    *,
    progress: Callable[[int, int, str], None] | None = None,
) -> int:
    """Replay the archive into a fresh file, then swap it in atomically. Returns files replayed."""
    archive = db.archive_dir(path)
    entries = manifest(archive) if archive.exists() else []
    fresh = path.with_name(path.name + ".rebuild")
    for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
        leftover.unlink(missing_ok=True)
    dataset = None
    if path.exists():
        with db.connect(path, read_only=True) as old:
            dataset = db.get_meta(old, "dataset")
    con = db.connect(fresh)
    try:
        db.sync_reference(con, cfg)
        if dataset:
            db.set_meta(con, "dataset", dataset)
        for i, e in enumerate(entries):
            data = (archive / e["archive_name"]).read_bytes()
            res = load_bytes(
                e["file_name"],
                data,
                cfg,
                e["bureau_id"],
                e["user"],
                con,
                archive=None,
                today=dt.date.fromisoformat(e["today"]),
                submitted_at=dt.datetime.fromisoformat(e["submitted_at"]),
                reason=e.get("reason"),
            )
            if not res.ok:
                raise RuntimeError(f"archived file {e['file_name']} no longer loads: {res.problems[0].zh()}")
            if progress:
                progress(i + 1, len(entries), e["file_name"])
        db.audit(con, "system", "rebuild", {"files": len(entries)})
        con.execute("checkpoint")
    finally:
        con.close()
    os.replace(fresh, path)
    return len(entries)
