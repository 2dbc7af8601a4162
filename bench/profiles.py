"""Where the time goes in the slowest paths: py-spy samples, summarised as top frames.

    .venv/bin/pip install py-spy         (a tool of this script only, not a dependency)
    .venv/bin/python -m bench.profiles http|uow|import [--seconds 15]

Each profile samples one real process (``dashtam serve`` under 32 clients, the write path of
bench/unit_of_work.py, ``dashtam import`` of a 20,000-transaction OFX) with ``--idle`` so that
time spent waiting on the database shows, then prints, per function, the share of samples
with that function on the stack (inclusive) and at its top (self).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench.common import CLI, run_cli, server_env, throwaway_postgres
from bench.data import EMAIL, PASSWORD, write_ofx
from bench.http_reads import LIST_PATH, load, seed, servers

TOP = 25
KEEP_RAW: Path | None = None  # --keep: where the raw stacks are copied, to dig further


def _py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    return found


def summarise(raw: Path, *, under: str | None = None, top: int = TOP) -> str:
    """Inclusive and self shares of the collapsed stacks in ``raw`` (py-spy --format raw)."""
    if KEEP_RAW is not None:
        shutil.copy(raw, KEEP_RAW / raw.name)
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or (under is not None and under not in stack):
            continue
        count = int(count_text)
        frames = [_short(frame) for frame in stack.split(";")]
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
        packages[_package(stack.rsplit(";", 1)[-1])] += count
    if total == 0:
        return "no samples"
    lines = [f"{total} samples" + (f" under {under}" if under else "")]
    lines.append("inclusive:")
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in inclusive.most_common(top)]
    lines.append("self, by package:")
    lines += [f"  {n / total:6.1%}  {name}" for name, n in packages.most_common(12)]
    lines.append("self:")
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(lines)


def _package(frame: str) -> str:
    """The top package of a frame's file (py-spy prints paths from the import root);
    Dashtam's own frames by layer."""
    parts = Path(frame.partition(" (")[2].rsplit(":", 1)[0]).parts
    if not parts:
        return "?"
    if parts[0] == "dashtam" and len(parts) > 2:
        return f"dashtam.{parts[1]}"
    return parts[0] if len(parts) > 1 else f"{parts[0]} (top level)"


def _short(frame: str) -> str:
    """``function (path/to/module.py:12)`` -> ``function (module.py)``: lines split the counts."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(path).parts
    shown = "/".join(parts[-2:]) if parts else path
    return f"{name} ({shown})"


def _record(target: list[str], out: Path, seconds: float | None = None) -> list[str]:
    command = [_py_spy(), "record", "--idle", "--format", "raw", "--rate", "200", "-o", str(out)]
    if seconds is not None:
        command += ["--duration", str(int(seconds))]
    return command + target


async def profile_http(seconds: float) -> str:
    async with throwaway_postgres() as url:
        env = server_env(url)
        await seed(env, url, 2_000)
        async with servers(url, env, 1) as found:
            with tempfile.TemporaryDirectory() as folder:
                out = Path(folder) / "http.txt"
                pid = found.ours_pid
                spy = await asyncio.create_subprocess_exec(
                    *_record(["--pid", str(pid)], out, seconds)
                )
                await load(found.ours, LIST_PATH, seconds + 1, token=found.token)
                await spy.wait()
                # The event loop's thread; idle worker threads would otherwise swamp it.
                loop = summarise(out, under="Server.run")
                return loop + "\n\nthread pool:\n" + summarise(out, under="_worker", top=10)


async def profile_import() -> str:
    async with throwaway_postgres() as url:
        env = server_env(url)
        await asyncio.to_thread(run_cli, env, "db", "upgrade", "--url", url)
        await asyncio.to_thread(run_cli, env, "users", "create-admin", "--email", EMAIL,
                                "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
        with tempfile.TemporaryDirectory() as folder:
            file = write_ofx(Path(folder) / "statement.ofx", 20_000)
            out = Path(folder) / "import.txt"
            target = [sys.executable, "-c", CLI, "import", str(file), "--user", EMAIL]
            await asyncio.to_thread(
                subprocess.run, _record(["--", *target], out), env=env, check=True,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            return summarise(out)


def profile_uow() -> str:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "uow.txt"
        target = [sys.executable, "-m", "bench", "--only", "uow", "--quick", "--output",
                  str(Path(folder) / "uow.json")]  # fmt: skip
        subprocess.run(_record(["--", *target], out), check=True, stdout=subprocess.DEVNULL)
        return summarise(out, under="_ours")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profiles")
    parser.add_argument("path", choices=["http", "uow", "import"])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--keep", type=Path, help="copy the raw collapsed stacks here")
    args = parser.parse_args()
    global KEEP_RAW  # a command-line switch that summarise() reads
    KEEP_RAW = args.keep
    if args.path == "http":
        print(asyncio.run(profile_http(args.seconds)))
    elif args.path == "import":
        print(asyncio.run(profile_import()))
    else:
        print(profile_uow())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
