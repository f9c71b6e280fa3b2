"""The naming hint's suggested name must itself pass the character rule."""

from __future__ import annotations

import pytest

from services.buckets.naming import NamingProblem, naming_problems


def charset_problems(name: str) -> list[NamingProblem]:
    return [p for p in naming_problems(name) if p.rule.id == "charset"]


# The suggestion is pinned, not parsed out when present: a hint that stopped suggesting a name
# (or suggested another) must fail here rather than pass with nothing checked.
@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("Bad_Bucket", "bad-bucket"),
        ("MyBucket", "mybucket"),
        ("my_bucket", "my-bucket"),
        ("Data$Set", "data-set"),
    ],
)
def test_the_suggested_name_passes_the_character_rule(name: str, suggestion: str) -> None:
    problems = charset_problems(name)
    assert len(problems) == 1, naming_problems(name)
    assert problems[0].hint.endswith(f": {suggestion}"), problems[0].hint
    assert charset_problems(suggestion) == []
