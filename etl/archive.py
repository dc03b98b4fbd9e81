"""The raw-file archive: every accepted report kept by its sha256, with a JSON sidecar per submission.

Apart from the load itself because `rebuild` and `migrate` depend on its layout, not on how a load runs:
the archive and its sidecars are enough to replay the warehouse without it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from monitor import db


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_name(file_name: str) -> str:
    """Only the base name is kept: a name like '../../etc/x.csv' never reaches the filesystem."""
    base = os.path.basename(file_name.replace("\\", "/")).strip()
    # a NUL or a line break in a name would end up in the log, the CLI output and the messages
    base = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", "_", base)
    return base[:200] if base not in ("", ".", "..") else "upload"


def archive_file(path: Path, digest: str, file_name: str, data: bytes) -> str:
    """The raw file under its sha256 (and known suffix), written durably once; returns its name."""
    suffix = (
        Path(file_name).suffix.lower() if Path(file_name).suffix.lower() in (".xlsx", ".csv", ".xlsm", ".txt") else ""
    )
    name = f"{digest}{suffix}"
    target = path / name
    if not target.exists():
        db.private_dir(path)
        db.write_private(target, data)  # durable (fsync) before the load commits
    return name


def write_manifest(path: Path, entry: dict) -> Path:
    """A sidecar per accepted upload so `rebuild` can replay the archive without the warehouse.

    Written durably inside the load's transaction, before its commit; `rebuild` replays only the
    sidecars of submissions the warehouse holds (see etl/rebuild.py)."""
    side = path / f"{entry['sha256']}.{entry['submission_id']}.json"
    db.private_dir(path)
    db.write_private(side, json.dumps(entry, ensure_ascii=False, default=str, indent=1).encode("utf-8"))
    return side
