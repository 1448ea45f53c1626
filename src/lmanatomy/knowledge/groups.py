"""The words of the study and their groups (Ariyama et al. 2025, Table 2 and Figs 3–5).

The order matters: it is the row and column order of the 38×38 matrices, grouped, as in the
paper's figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lmanatomy.errors import ConfigError

PAPER_GROUPS: dict[str, list[str]] = {
    "animals": ["Cat", "Dog", "Fox", "Ant", "Bat", "Rat", "Hen", "Wolf"],
    "colors": ["Blue", "Red", "Green", "Black", "White", "Brown", "Gray"],
    "countries": [
        "Canada",
        "Germany",
        "Brazil",
        "France",
        "England",
        "India",
        "China",
        "Mexico",
        "Russia",
        "Iran",
        "Japan",
        "Israel",
        "Australia",
        "Spain",
    ],
    "languages": [
        "English",
        "Spanish",
        "French",
        "Chinese",
        "Japanese",
        "German",
        "Russian",
        "Italian",
        "Portuguese",
    ],
}
# Table 2 of the paper (hits / comparisons × 100, with the released code's denominator).


def ordered_words(groups: Mapping[str, Sequence[str]]) -> list[str]:
    """All words, group after group, in config order."""
    return [word for members in groups.values() for word in members]


def group_of(groups: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """word → its group; a word in two groups is a config error."""
    owner: dict[str, str] = {}
    for group, members in groups.items():
        if len(members) < 2:
            raise ConfigError(
                f"knowledge.groups.{group}",
                "a group needs at least two words (its mean distance is over the others)",
            )
        for word in members:
            if word in owner:
                raise ConfigError(
                    f"knowledge.groups.{group}", f"word '{word}' is also in group '{owner[word]}'"
                )
            owner[word] = group
    return owner
