"""The course's data: brain-MR slices from a vendored template, 2D toys, and a MedMNIST loader.

Nothing here downloads; everything is generated from files inside the package.
"""

from .brain import LEVEL_BANDS, brain_slices, level_ids, paired_brain_slices, t2_white_matter, unpaired_brain_slices
from .medmnist import load_medmnist_npz
from .toys import Toy2D, banana, grid_gaussians, ring_gaussians

__all__ = [
    "LEVEL_BANDS", "brain_slices", "level_ids", "paired_brain_slices", "unpaired_brain_slices", "t2_white_matter",
    "load_medmnist_npz", "Toy2D", "banana", "grid_gaussians", "ring_gaussians",
]
