"""`iap demo` (what `make demo` runs) does what the README and its own instructions say:
embedded PostgreSQL, gateway, logged-in agent, a psql line that works, a DROP that is held
and released with `iap approve --code $(iap demo-code)`, and a clean stop on Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest
import trio

from tests.helpers import IAP, StreamReader, run_psql

pytestmark = pytest.mark.e2e


async def test_demo_runs_as_its_instructions_say(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    tmp_path.chmod(0o755)  # the embedded server runs as its own system user when we are root
    demo = await trio.lowlevel.open_process(
        [*IAP, "demo", "--data", str(data), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert demo.stdout is not None and demo.stderr is not None
    out = StreamReader(demo.stdout)
    try:
        line = await out.wait_for(r"postgresql://demo@127\.0\.0\.1:(\d+)/shop\S*", timeout=120)
        port = int(line.group(1))
        await out.wait_for("Press Ctrl-C here to stop everything")
        assert "iap approve <ID> --code $(" in out.text

        selected = await run_psql(port, "shop", "-At", "-c", "SELECT count(*) FROM orders")
        assert selected.returncode == 0, selected.stderr.decode()
        assert selected.stdout.decode().strip() == "20"

        env = {**os.environ, "IAP_HOME": str(data / "home")}
        async with trio.open_nursery() as nursery:
            dropped: list[subprocess.CompletedProcess[bytes]] = []

            async def drop() -> None:
                dropped.append(await run_psql(port, "shop", "-c", "DROP TABLE orders CASCADE"))

            nursery.start_soon(drop)
            with trio.fail_after(30):
                while True:
                    listing = await trio.run_process(
                        [*IAP, "requests", "--json"], capture_stdout=True, env=env
                    )
                    pending = [r for r in json.loads(listing.stdout) if r["status"] == "pending"]
                    if pending:
                        break
                    await trio.sleep(0.2)
            code = await trio.run_process(
                [*IAP, "demo-code", "--data", str(data)], capture_stdout=True
            )
            approved = await trio.run_process(
                [*IAP, "approve", pending[0]["id"], "--code", code.stdout.decode().strip()],
                capture_stdout=True,
                capture_stderr=True,
                env=env,
                check=False,
            )
            assert approved.returncode == 0, approved.stderr.decode()
        assert dropped[0].returncode == 0, dropped[0].stderr.decode()
        assert "iap approve" in dropped[0].stderr.decode()
        assert "DROP TABLE" in dropped[0].stdout.decode()
    finally:
        demo.send_signal(signal.SIGINT)
        with trio.fail_after(60):
            code = await demo.wait()
        errors = (await demo.stderr.receive_some(1 << 20)).decode()
    assert code == 0, errors
    assert "demo stopped" in errors
    assert not re.search(r"Traceback", errors), errors
