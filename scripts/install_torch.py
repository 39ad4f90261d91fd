"""Install the PyTorch the course is tested with, as a CPU build where that is a choice.

    python scripts/install_torch.py            # run with the environment's own Python

``make`` runs it into ``.venv`` before the course itself is installed. On Linux the plain package
index serves torch with its CUDA libraries (18 NVIDIA packages and triton, gigabytes); PyTorch's
own CPU index serves the same version without them. So on Linux this script first asks whether
that index answers (one request, a few seconds at most) and installs from it when it does, and
otherwise falls back at once to whatever pip finds (a mirror, a local wheel folder, PyPI). macOS
(CPU and Apple's MPS) and Windows (CPU) get the right build from the plain index.

``TORCH_INDEX_URL`` overrides the choice: a CUDA build from, e.g.,
``https://download.pytorch.org/whl/cu128``, or ``default`` for the plain index.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import urllib.request

TORCH = "torch==2.13.0"  # keep in step with pyproject.toml's dependencies
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PROBE_SECONDS = 5.0


def reachable(index: str, timeout: float = PROBE_SECONDS) -> bool:
    """Whether the index answers for torch within ``timeout`` seconds (no retries)."""
    try:
        with urllib.request.urlopen(f"{index}/torch/", timeout=timeout) as response:
            return response.status == 200
    except (OSError, ValueError):  # URLError, timeouts and refused connections are OSErrors
        return False


def choose_index(system: str, override: str | None, probe=reachable) -> tuple[str | None, str]:
    """The index to install torch from (None: pip's default) and a line saying why."""
    if override:
        if override == "default":
            return None, "TORCH_INDEX_URL=default: pip's default index"
        if not override.startswith(("https://", "http://", "file://")):
            raise SystemExit(f"TORCH_INDEX_URL must be an index URL or 'default', got {override!r}")
        return override.rstrip("/"), f"TORCH_INDEX_URL: {override}"
    if system != "Linux":
        return None, f"{system}: the default index serves the CPU{'/MPS' if system == 'Darwin' else ''} build"
    if probe(CPU_INDEX):
        return CPU_INDEX, f"Linux: PyTorch's CPU index ({CPU_INDEX})"
    return None, (f"Linux: {CPU_INDEX} is not reachable (one try, {PROBE_SECONDS:.0f} s limit); "
                  "installing what pip finds (a mirror or local wheels, or PyPI's CUDA build)")


def main() -> int:
    index, why = choose_index(platform.system(), os.environ.get("TORCH_INDEX_URL"))
    print(f"installing {TORCH} — {why}", flush=True)
    command = [sys.executable, "-m", "pip", "install", TORCH]
    if index:
        command += ["--index-url", index]
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
