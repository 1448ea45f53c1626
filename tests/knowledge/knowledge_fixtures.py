"""Fixtures shared by the knowledge tests (import them into a test module to use them)."""

import pytest


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models: one torch thread is faster, and on a shared machine far more predictable."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
