"""The one focus model of the app (README, "Keys and focus").

- A printable key typed in a text field goes into the field: Textual drops every binding whose key
  the focused Input or editable TextArea consumes (Screen._binding_chain), and no binding here is a
  priority binding on a printable key.
- Esc leaves a text field: focus goes to the screen's main list, or to the step's content
  (`leave_field`, an App priority binding active only while a field on a full screen has focus).
  On a dialog, Esc closes the dialog.
- A screen opens with focus on its home: its main list, else its first text field, else its content.
- When a dialog closes, Textual gives focus back to the widget that had it; when that widget is
  gone, hidden or disabled (a button hidden while its work ran), focus goes home instead of nowhere,
  so a key never lands on a global binding while the person believes a field has it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, ClassVar, TypeVar

from textual import events, on
from textual.containers import ScrollableContainer
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import DataTable, Input, ListView, OptionList, SelectionList, TextArea, Tree

LISTS = (DataTable, OptionList, SelectionList, ListView, Tree)
"""What counts as a screen's main list: Esc from a field and a screen's opening go there first."""

ResultType = TypeVar("ResultType")

CONTENT = "#step-body"
"""The step's scrolling content: where focus rests when a screen has no list."""


def is_text_field(widget: Widget | None) -> bool:
    """True for widgets that take printable keys as text."""
    if isinstance(widget, TextArea):
        return not widget.read_only
    return isinstance(widget, Input)


def _usable(widget: Widget, avoid: Collection[Widget] = ()) -> bool:
    return (
        widget not in avoid
        and widget.is_attached
        and widget.focusable
        and widget.visible
        # A view switched away (ContentSwitcher) hides its container, not its widgets: the Tune
        # dashboard's children table would otherwise be the form's home.
        and all(node.display for node in widget.ancestors_with_self if isinstance(node, Widget))
        and not any(node in avoid for node in widget.ancestors)
    )


def _first(screen: Screen[Any], kinds: tuple[type[Widget], ...], avoid: Collection[Widget]) -> Widget | None:
    for widget in screen.query("*"):
        if isinstance(widget, kinds) and _usable(widget, avoid):
            return widget
    return None


def main_list(screen: Screen[Any], avoid: Collection[Widget] = ()) -> Widget | None:
    return _first(screen, LISTS, avoid)


def content(screen: Screen[Any], avoid: Collection[Widget] = ()) -> Widget | None:
    try:
        body = screen.query_one(CONTENT)
    except NoMatches:
        return None
    if _usable(body, avoid):
        return body
    # A body that does not scroll itself (Tune's switched views) rests on the shown view's own
    # scrolling container, where ↑/↓/PgDn read it.
    for view in body.query(ScrollableContainer):
        if _usable(view, avoid):
            return view
    return None


def home_of(screen: Screen[Any], avoid: Collection[Widget] = ()) -> Widget | None:
    """Where a screen's focus starts: its focus_home(), main list, first field, or content."""
    selector = screen.focus_home() if isinstance(screen, FocusScreen) else ""
    if selector:
        for widget in screen.query(selector):
            if _usable(widget, avoid):
                return widget
    fields = [w for w in screen.query("Input, TextArea") if is_text_field(w) and _usable(w, avoid)]
    return main_list(screen, avoid) or (fields[0] if fields else None) or content(screen, avoid)


def rest_of(screen: Screen[Any], avoid: Collection[Widget] = ()) -> Widget | None:
    """Where focus rests outside fields: the main list, a home that is no field, the content."""
    home = home_of(screen, avoid)
    return main_list(screen, avoid) or (home if not is_text_field(home) else None) or content(screen, avoid)


def in_full_screen_field(screen: Screen[Any]) -> bool:
    """A text field on a full screen has focus (on a dialog, Esc closes the dialog instead)."""
    return not isinstance(screen, ModalScreen) and is_text_field(screen.focused)


class FocusScreen(Screen[ResultType]):
    """A full screen whose focus is never nowhere and never lands in a field by accident.

    FOCUS_HOME names a screen's home when the default (list, first field, content) is wrong.
    """

    FOCUS_HOME: ClassVar[str] = ""
    AUTO_FOCUS = ""  # Textual's own auto focus is replaced by go_home

    _parked: Widget | None = None
    """Where focus was put when it was lost; a dialog closing over it sends focus home instead."""
    _return_to: Widget | None = None
    """The field that had focus when it was parked: a dialog closing over the parked focus returns there."""

    def focus_home(self) -> str:
        """The selector of this screen's home (FOCUS_HOME); a screen whose home depends on what it
        shows overrides it."""
        return self.FOCUS_HOME

    def go_home(self) -> None:
        if self.is_attached and (target := home_of(self)) is not None:
            # As a returning focus: an Input keeps its text unselected, so a typed key adds to it
            # instead of replacing it.
            self.set_focus(target, from_app_focus=True)

    def leave_field(self) -> None:
        """Esc in a text field: focus goes to the main list or the content, where keys are keys."""
        self.set_focus(rest_of(self))

    def park(self, avoid: Collection[Widget] = ()) -> None:
        """Focus was lost (its widget disabled, hidden, removed, or the screen let go of it):
        rest on the list or content, never on a neighbouring field, never on nothing."""
        target = rest_of(self, avoid)
        field = self.focused
        self._return_to = field if is_text_field(field) and field not in avoid else None
        self._parked = target
        self.set_focus(target, scroll_visible=False)

    def _reset_focus(self, widget: Widget, avoiding: list[Widget] | None = None) -> None:
        # Textual moves a lost focus to the widget's neighbour in the focus chain, which is often
        # a field: a digit meant for the step bar would then be typed into it. (Private hook of
        # Screen, overridden only here.)
        if self.focused is widget:
            self.park([widget, *(avoiding or ())])

    def _home_if_lost(self) -> None:
        if not self.is_attached or not self.is_current:
            return
        focused = self.focused
        if focused is None or focused is self._parked or not _usable(focused):
            back = self._return_to
            if self.working() and focused is not None and _usable(focused):
                # Help opened while a copy runs: its keys (x cancels) stay live, not typed into a field.
                return
            if back is not None and _usable(back):
                self.set_focus(back, from_app_focus=True)  # the field whose Enter started it all
            else:
                self.go_home()

    def working(self) -> bool:
        """True while the work that parked focus runs: a dialog closing leaves focus where it rests."""
        return False

    def _lost(self, focused: Widget | None) -> None:
        if focused is None and self.is_current:
            self.call_after_refresh(self._park_if_lost)

    def _park_if_lost(self) -> None:
        if self.focused is None and self.is_attached and self.is_current:
            self.park()

    @on(events.Mount)
    def _watch_focus(self) -> None:
        self.watch(self, "focused", self._lost, init=False)
        self.call_after_refresh(self._home_if_lost)

    @on(events.ScreenResume)
    def _focus_home_if_lost(self) -> None:
        self.call_after_refresh(self._home_if_lost)
