"""Where a console form may send the person once done: its own pages, never another site."""

import pytest

from hazardloop_console.api.cases import console_path


@pytest.mark.parametrize("path", ["/console/decisions", "/console/decisions?page=2&lang=en", "/console/tasks"])
def test_a_console_page_is_a_place_to_return_to(path):
    assert console_path(path) == path


@pytest.mark.parametrize(
    "path",
    [None, "", "https://evil.example/console/x", "//evil.example/console/x", "/\\evil.example", "/signout", "/console",
     "javascript:alert(1)", "/console/x\r\nSet-Cookie: a=b", "/console/x#top", "/console/" + "x" * 500, ["/console/tasks"]],
)
def test_anything_else_is_ignored(path):
    assert console_path(path) is None
