"""The notebook's sign-in URL dialog: one unbroken line, Copy takes it whole, `o` opens a real one."""

from __future__ import annotations

from textual.app import App
from textual.containers import HorizontalScroll

from screens.notebook_live import NotebookUrlScreen
from tests.support import eventually
from tests.ui_text import shown

URL = (
    "https://nb-ui.notebook.eu-north-1.sagemaker.aws?authToken="
    + "eyJhbGciOiJkaXIiLCJlbmMiOiJBMTI4R0NNIn0." * 8
    + "END-OF-TOKEN"
)


class Host(App[None]):
    """Records what the dialog asks the app to open, instead of starting a browser."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    def open_url(self, url: str, *, new_tab: bool = True) -> None:
        self.opened.append(url)


def footer_keys(app: App[None]) -> dict[str, str]:
    return {
        key: active.binding.description
        for key, active in app.screen.active_bindings.items()
        if active.binding.show
    }


async def test_url_is_one_unbroken_line_copied_whole_and_opened_with_o():
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(NotebookUrlScreen("nb-ui", URL, sandbox=False))
        await pilot.pause()
        url = app.screen.query_one("#nb-url")
        assert url.region.height == 1  # never wrapped mid-token
        assert url.region.width >= len(URL)  # the whole URL, on that one line
        assert shown(url).replace("\n", "") == URL
        scroll = app.screen.query_one("#nb-url-scroll", HorizontalScroll)
        assert scroll.max_scroll_x > 0  # longer than the dialog: it scrolls sideways instead
        assert footer_keys(app)["o"] == "Open in browser"
        await pilot.press("tab", "tab", "tab")  # Copy → Open → Close → round to the URL line above them
        assert app.focused is scroll
        await pilot.press("right", "right")
        await eventually(pilot, lambda: scroll.scroll_x > 0)
        await pilot.press("c")
        assert app.clipboard == URL
        await pilot.press("o")
        assert app.opened == [URL]
        await pilot.press("escape")
        assert not isinstance(app.screen, NotebookUrlScreen)


async def test_sandbox_url_is_not_opened_and_o_is_not_offered():
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(NotebookUrlScreen("nb-ui", URL, sandbox=True))
        await pilot.pause()
        assert "o" not in footer_keys(app)
        assert "opens nothing" in shown(app.screen.query_one(".warning-text"))
        assert "o opens" not in shown(app.screen.query_one("#nb-url-keys"))
        await pilot.press("o")
        assert app.opened == []
        await pilot.press("c")
        assert app.clipboard == URL
