"""Show a Plan (calls, parameters, diffs, undo) and ask for confirmation naming where it applies."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Collapsible, Input, Static

from services.plan import Action, Plan
from services.remedy import Face
from tui.context import wizard_of
from tui.dialog import Dialog


def render_plan(plan: Plan) -> Group:
    parts: list[object] = [Text(plan.title, style="bold")]
    if plan.empty:
        parts.append(Text("Nothing to do: the current state already matches.", style="green"))
    for n, action in enumerate(plan.actions, 1):
        parts.append(Text.assemble((f"{n}. ", "bold"), action.description))
        parts.append(Text(f"   {action.api_call()}", style="cyan"))
        if undo := action.undo_text(Face.TUI):
            parts.append(Text(f"   undo: {undo}", style="dim"))
        if action.diff:
            parts.append(Syntax(action.diff, "diff", theme="ansi_dark", background_color="default"))
    for w in plan.warnings:
        parts.append(Text(f"warning: {w}", style="yellow"))
    return Group(*parts)  # type: ignore[arg-type]


class RequestView(Collapsible):
    """The exact request an action sends, as JSON, folded until asked for (and only then
    highlighted: a plan of many requests opens as fast as one)."""

    def __init__(self, n: int, action: Action) -> None:
        self.request = action.request
        super().__init__(
            Static("", classes="plan-request-json"),
            title=f"{n}. {action.service}:{self.request.name} request (JSON)",
            collapsed=True,
            classes="plan-request",
        )

    def on_collapsible_expanded(self, event: Collapsible.Expanded) -> None:
        if event.collapsible is self:
            body = Syntax(
                self.request.to_json(), "json", theme="ansi_dark", background_color="default", word_wrap=True
            )
            self.query_one(".plan-request-json", Static).update(body)


class ConfirmPlanScreen(Dialog[bool]):
    """Returns True when the user confirms. With `typed` set, the user must type that word."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("a", "apply", "Apply"),
        # The plan scrolls from the moment it opens, whatever has focus (the typed word's field too).
        Binding("down", "scroll_plan('down')", "Scroll", key_display="↑↓ PgUp PgDn"),
        Binding("up", "scroll_plan('up')", "Scroll up", show=False),
        Binding("pagedown", "scroll_plan('page_down')", "Page down", show=False),
        Binding("pageup", "scroll_plan('page_up')", "Page up", show=False),
        Binding("home", "scroll_plan('home')", "Top", show=False),
        Binding("end", "scroll_plan('end')", "End", show=False),
    ]

    def __init__(
        self, plan: Plan, *, where: str | None = None, typed: str | None = None, warning: str = ""
    ) -> None:
        super().__init__()
        self.plan = plan
        self.where = where
        self.typed = typed
        self.warning = warning

    def compose(self) -> ComposeResult:
        if self.where is None:  # by default, say where the change lands: account, region, caller
            self.where = where_line(self.app)
        with Vertical(classes="dialog", id="confirm-dialog"):
            with VerticalScroll(id="plan-body"):
                yield Static(render_plan(self.plan), id="plan-text")
                for n, action in enumerate(self.plan.actions, 1):
                    yield RequestView(n, action)
            if self.warning:
                yield Static(Text(self.warning, style="bold red"), id="confirm-warning")
            if self.where:
                yield Static(Text(self.where), id="confirm-where")
            if self.typed:
                yield Static(Text(f"Type {self.typed} and press Enter to confirm:"))
                yield Input(id="confirm-typed", placeholder=self.typed)
                yield Static("", id="confirm-mismatch", classes="field-error")
            with Horizontal(classes="buttons"):
                yield Button("Apply (a)", id="apply", variant="warning", disabled=self.plan.empty)
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        if self.typed:
            self.query_one("#confirm-typed", Input).focus()
        else:
            self.query_one("#plan-body", VerticalScroll).focus()  # ↓ and PgDn read the plan at once
        self.call_after_refresh(self._say_if_it_scrolls)

    def _say_if_it_scrolls(self) -> None:
        body = self.query_one("#plan-body", VerticalScroll)
        if body.max_scroll_y > 0:
            body.border_subtitle = "more below: ↓ PgDn End"

    def action_scroll_plan(self, how: str) -> None:
        body = self.query_one("#plan-body", VerticalScroll)
        {
            "down": body.scroll_down,
            "up": body.scroll_up,
            "page_down": body.scroll_page_down,
            "page_up": body.scroll_page_up,
            "home": body.scroll_home,
            "end": body.scroll_end,
        }[how](animate=False)
        body.border_subtitle = "more below: ↓ PgDn End" if body.scroll_y < body.max_scroll_y else ""

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#confirm-mismatch", Static).update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_apply()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self.action_apply()
        else:
            self.dismiss(False)

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_apply(self) -> None:
        if self.plan.empty:
            return
        if self.typed:
            given = self.query_one("#confirm-typed", Input).value.strip()
            if given != self.typed:
                # Said under the field, and the dialog stays: a slip never closes it silently.
                what = f"'{given}' does not match" if given else "Nothing typed: it does not match"
                self.query_one("#confirm-mismatch", Static).update(Text(f"{what} {self.typed}."))
                # Back to the field with its text unselected: the next key corrects, not replaces.
                self.set_focus(self.query_one("#confirm-typed", Input), from_app_focus=True)
                return
        self.dismiss(True)


def where_line(app: App[Any]) -> str:
    """'account 1234 · eu-north-1 · as arn:...' for confirmations."""
    ident = wizard_of(app).identity
    if ident is None:
        return ""
    sandbox = " (SANDBOX)" if ident.sandbox else ""
    return f"This changes account {ident.account} in {ident.region}{sandbox}, acting as {ident.arn}."
