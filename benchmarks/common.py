"""What the benchmarks share: an empty, migrated database, and one filled with the demo registry."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
KECHUANG = [PYTHON, "-m", "kechuang.cli"]


def kechuang(url: str, *args: str, quiet: bool = False) -> None:
    """Run a `kechuang` command against the database at `url`."""
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([*KECHUANG, *args], env=env, check=True, cwd=ROOT, capture_output=quiet)


def fresh_database(url: str) -> None:
    """Drop and recreate the database (SQLite file or PostgreSQL database), then migrate it."""
    if url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    else:
        name = url.rsplit("/", 1)[1]
        for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
            subprocess.run(
                ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql], check=True
            )
    kechuang(url, "migrate", "-v0")


def demo_database(url: str, enterprises: int, seed: int | None = None) -> float:
    """A fresh database with the demo registry of `enterprises` and the demo accounts; the seconds the demo took."""
    fresh_database(url)
    started = time.perf_counter()
    kechuang(
        url,
        "demo",
        "--enterprises",
        str(enterprises),
        *(("--seed", str(seed)) if seed is not None else ()),
        quiet=True,
    )
    loaded = time.perf_counter() - started
    kechuang(url, "demo_accounts", quiet=True)
    return loaded
