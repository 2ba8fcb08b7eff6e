# SPDX-License-Identifier: BSD-3-Clause
from pathlib import Path

import pytest
import torch

# Tiny LSTMs run many times slower with OpenMP threads spinning on a shared machine.
torch.set_num_threads(1)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """The team's shared log data, beside the repository (skips when absent)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared log data not found at {SHARED_DATA}")
    return SHARED_DATA
