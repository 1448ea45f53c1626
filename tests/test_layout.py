"""Test files need unique basenames: the test folders are not packages (tests import their
siblings and conftest by plain name), so two `test_config.py` files would collide."""

from collections import Counter

from conftest import REPO


def test_test_file_basenames_are_unique():
    names = Counter(path.name for path in (REPO / "tests").rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
