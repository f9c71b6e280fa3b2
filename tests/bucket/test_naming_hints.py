"""The naming hint's suggested name must itself pass the character rule."""

from __future__ import annotations

import pytest

from services.buckets import naming_problems


@pytest.mark.parametrize("name", ["Bad_Bucket", "MyBucket", "my_bucket", "Data$Set"])
def test_the_suggested_name_passes_the_character_rule(name: str) -> None:
    problem = next(p for p in naming_problems(name) if "contains" in p.message)
    suggestion = problem.hint.rsplit(": ", 1)[-1] if ": " in problem.hint else None
    if suggestion is not None:
        assert not [p for p in naming_problems(suggestion) if "contains" in p.message], problem.hint
