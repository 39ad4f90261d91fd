"""Build the vendored brain-MR arrays from the MNI ICBM152 2009a template (run once, by a developer).

The template ships inside the ``nilearn`` wheel on PyPI. This script downloads that wheel with
``pip download --no-deps``, reads the T1, grey-matter and white-matter volumes with nibabel,
crops them to the brain, resamples every axial slice to 96 × 96 px and writes
``course_lib/data/mni_icbm152_axial.npz`` (uint8, a few MB). Run-time code never downloads:
it only reads that file.

    python scripts/build_brain_arrays.py [--nilearn-version 0.14.1] [--wheel PATH]

Needs nibabel and scipy (both in the ``dev`` extra) and pip with access to PyPI.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from scipy import ndimage

OUT = Path(__file__).resolve().parents[1] / "course_lib" / "data" / "mni_icbm152_axial.npz"
MEMBER = "nilearn/datasets/data/mni_icbm152_{}_tal_nlin_sym_09a_converted.nii.gz"
BASE_SIZE = 96  # in-plane pixels of the vendored slices (≈ 1.9 mm); the run-time sizes are 32 and 64
# Axial levels kept, in voxel indices of the 1-mm template (z = 0 is the most inferior brain
# voxel); the first and last few slices hold only slivers of tissue.
Z_FIRST, Z_LAST = 16, 148


def fetch_wheel(version: str, workdir: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", f"nilearn=={version}", "-d", str(workdir)],
        check=True,
    )
    return next(workdir.glob("nilearn-*.whl"))


def read_volumes(wheel: Path, workdir: Path) -> tuple[dict[str, np.ndarray], np.ndarray]:
    import nibabel as nib

    volumes, affine = {}, None
    with zipfile.ZipFile(wheel) as zf:
        for key in ("t1", "gm", "wm"):
            path = Path(zf.extract(MEMBER.format(key), workdir))
            image = nib.load(path)
            volumes[key] = np.asarray(image.dataobj, dtype=np.float32) / 255.0
            affine = image.affine
    return volumes, affine


def axial_slices(volume: np.ndarray, box: tuple[slice, slice], side: int) -> np.ndarray:
    """Crop every axial slice to the square ``box``, orient it (anterior up) and resample it."""
    crop = volume[box[0], box[1], Z_FIRST : Z_LAST + 1]  # (x, y, z)
    crop = np.transpose(crop, (2, 1, 0))[:, ::-1, :]  # (z, y, x) with anterior at the top row
    factor = BASE_SIZE / side
    # Anti-alias before shrinking (sigma ≈ half the shrink factor), then linear resampling.
    smooth = ndimage.gaussian_filter(crop, sigma=(0, 0.5 / factor, 0.5 / factor))
    return ndimage.zoom(smooth, (1, factor, factor), order=1, prefilter=False, grid_mode=True, mode="nearest")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nilearn-version", default="0.14.1")
    parser.add_argument("--wheel", type=Path, help="use an already downloaded nilearn wheel")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        wheel = args.wheel or fetch_wheel(args.nilearn_version, workdir)
        volumes, affine = read_volumes(wheel, workdir)

    brain = volumes["t1"] > 0  # the template is skull-stripped: background is exactly 0
    xs, ys, _ = np.nonzero(brain)
    centre = ((xs.min() + xs.max()) // 2, (ys.min() + ys.max()) // 2)
    side = int(max(xs.max() - xs.min(), ys.max() - ys.min())) + 5  # a small margin around the brain
    box = tuple(slice(c - side // 2, c - side // 2 + side) for c in centre)

    arrays = {key: axial_slices(vol, box, side) for key, vol in volumes.items()}
    out = {key: np.clip(np.rint(a * 255), 0, 255).astype(np.uint8) for key, a in arrays.items()}
    z_index = np.arange(Z_FIRST, Z_LAST + 1)
    out["z_mm"] = (affine[2, 2] * z_index + affine[2, 3]).astype(np.float32)
    out["pixel_mm"] = np.float32(side / BASE_SIZE)
    out["source"] = np.array(f"nilearn wheel {wheel.name}: " + ", ".join(MEMBER.format(k) for k in ("t1", "gm", "wm")))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB): {out['t1'].shape[0]} axial levels of "
          f"{BASE_SIZE}×{BASE_SIZE} px at {out['pixel_mm']:.2f} mm, z = {out['z_mm'][0]:.0f}…{out['z_mm'][-1]:.0f} mm")


if __name__ == "__main__":
    main()
