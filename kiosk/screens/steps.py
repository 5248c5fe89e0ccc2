"""`Steps`: shows one of its `Step` children at a time (a screen's steps: enter -> opening -> opened).

A lightweight stand-in for an inner ScreenManager: no RelativeLayout (which
shifts ScrollViews nested in another screen) and no transition. Only the
current step is in the widget tree, so the accessibility walk and the tests
see exactly what is on screen. Widgets of hidden steps keep their ids.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from kiosk.screens.base import KioskScreen

_PAGER_KV = """
<PagerBar>:
    orientation: "vertical"
    size_hint_y: None
    height: root.bar_height(app.theme)
    spacing: app.theme.gap
    Label:
        id: page_label
        text: app.tr("steps.page", app.lang, page=root.grid.page + 1, pages=root.grid.pages) if root.grid else ""
        color: 0.08, 0.08, 0.08, 1
        font_size: app.theme.font_body
        bold: True
        size_hint_y: None
        height: self.font_size * 1.25
    BoxLayout:
        spacing: app.theme.gap
        SmallButton:
            id: previous_page
            can: root.grid is not None and root.grid.page > 0
            text: app.tr("steps.previous_page", app.lang) if self.can else ""
            icon: "back" if self.can else ""
            horizontal: True
            style: "secondary"
            size_hint_y: 1
            disabled: not self.can
            opacity: 1 if self.can else 0
            on_release: root.grid.previous_page()
        SmallButton:
            id: next_page
            can: root.grid is not None and root.grid.page + 1 < root.grid.pages
            text: app.tr("steps.next_page", app.lang) if self.can else ""
            horizontal: True
            style: "secondary"
            size_hint_y: 1
            disabled: not self.can
            opacity: 1 if self.can else 0
            on_release: root.grid.next_page()
"""
_kv_loaded = False


def load_pager_kv() -> None:
    """Define PagerBar once (the screens that use PagedGrid call this)."""
    global _kv_loaded
    if not _kv_loaded:
        _kv_loaded = True
        Builder.load_string(_PAGER_KV, filename="kiosk-screens-pager.kv")


def while_running(fn: Callable[..., Any]) -> Callable[..., Any]:
    """For callbacks posted to the UI thread (service results, timers): do nothing once the app
    has stopped (a result can arrive in the very frame the app stops)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if App.get_running_app() is None:
            return None
        return fn(*args, **kwargs)

    return wrapper


class StepScreen(KioskScreen):
    """A screen that shows one step at a time: its kv holds a `Steps` (id "steps") and the subclass
    defines `step` (an OptionProperty). The step on screen and the instructions follow `step`."""

    step_instructions: dict[str, str] = {}  # step -> strings key; unlisted steps keep what the screen set
    step_pages: dict[str, str] = {}         # steps that share one Step (e.g. idle/listening -> "mic")

    def on_kv_post(self, base_widget) -> None:
        super().on_kv_post(base_widget)
        self.ids.steps.current = self.step_pages.get(self.step, self.step)

    def on_step(self, _inst, value: str) -> None:
        if "steps" in self.ids:
            self.ids.steps.current = self.step_pages.get(value, value)
        key = self.step_instructions.get(value)
        if key:
            self.set_instructions(key)


class Step(BoxLayout):
    """One step's layout; `name` is what `Steps.current` selects."""

    name = StringProperty("")


class Steps(BoxLayout):
    """Holds named Step children and attaches only the `current` one."""

    current = StringProperty("")

    def __init__(self, **kw) -> None:
        self._steps: list[Step] = []
        super().__init__(**kw)

    def add_widget(self, widget, *args, **kwargs):
        if isinstance(widget, Step):
            # kv adds a child before it sets the child's name: decide when the name is known
            self._steps.append(widget)
            widget.bind(name=lambda *_a: self._refresh())
            self._refresh()
            return None
        return super().add_widget(widget, *args, **kwargs)

    @property
    def step_names(self) -> list[str]:
        return [s.name for s in self._steps]

    def step(self, name: str) -> Step:
        for s in self._steps:
            if s.name == name:
                return s
        raise KeyError(name)

    def on_current(self, _inst, _name: str) -> None:
        self._refresh()

    def _refresh(self) -> None:
        wanted = None
        for s in self._steps:
            if s.name and s.name == self.current:
                wanted = s
        if wanted is None and not self.current and self._steps and self._steps[0].name:
            wanted = self._steps[0]
        if wanted is None or wanted.parent is self:
            return
        for child in list(self.children):
            if isinstance(child, Step):
                super().remove_widget(child)
        super().add_widget(wanted)


class PagerBar(BoxLayout):
    """第 1 / 3 页 in words above big 上一页 and 下一页, under a PagedGrid."""

    grid = ObjectProperty(None, allownone=True)

    @staticmethod
    def bar_height(theme) -> float:
        """The bar's height: the page line and a row of buttons."""
        return theme.font_body * 1.25 + theme.gap + theme.button_height


class PagedGrid(BoxLayout):
    """A grid that shows as many items as fit and pages through the rest with two big buttons.

    Only taps (no scrolling or swiping): 上一页 / 下一页 appear when the items
    do not fit. `set_items(widgets)` replaces the items; rows are as tall as
    the tallest item.
    """

    cols = NumericProperty(1)
    page = NumericProperty(0)
    pages = NumericProperty(1)

    def __init__(self, **kw) -> None:
        self._items: list = []
        self.orientation = "vertical"
        super().__init__(**kw)
        self._grid = GridLayout(cols=int(self.cols), size_hint_y=None)
        self._bar = None
        super().add_widget(self._grid)
        super().add_widget(Widget())  # keeps the grid at the top and the page buttons at the bottom
        self.bind(size=self._schedule, cols=self._schedule, page=self._schedule)
        self._trigger = Clock.create_trigger(lambda _dt: self._layout_page(), -1)

    def set_items(self, widgets: list, keep_page: bool = False) -> None:
        """Show `widgets` from the first page (or stay on the page shown: a list refreshed in place)."""
        for w in self._items:
            w.unbind(height=self._schedule)
        self._items = list(widgets)
        for w in self._items:
            w.bind(height=self._schedule)   # wrapped text settles its height after layout
        if not keep_page:
            self.page = 0
        self._layout_page()

    @property
    def items(self) -> list:
        return list(self._items)

    def next_page(self) -> None:
        if self.page + 1 < self.pages:
            self.page += 1

    def previous_page(self) -> None:
        if self.page > 0:
            self.page -= 1

    def _schedule(self, *_args) -> None:
        self._trigger()

    def _gap(self) -> float:
        return App.get_running_app().theme.gap

    def _bar_height(self) -> float:
        return PagerBar.bar_height(App.get_running_app().theme)

    def _per_page(self, with_bar: bool) -> int:
        cols = max(1, int(self.cols))
        if not self._items:
            return 1
        gap = self._gap()
        col_w = (self.width - gap * (cols - 1)) / cols
        for w in self._items:            # measure every item at the width it will have
            if w.size_hint_x is not None and abs(w.width - col_w) > 0.5:
                w.width = col_w
        row_h = max(w.height for w in self._items)
        room = self.height - ((self._bar_height() + gap) if with_bar else 0)
        rows = max(1, int((room + gap) // (row_h + gap)))
        return rows * cols

    def _layout_page(self) -> None:
        per_page = self._per_page(with_bar=False)
        if len(self._items) > per_page:
            per_page = self._per_page(with_bar=True)
        self.pages = max(1, -(-len(self._items) // per_page))
        if self.page >= self.pages:
            self.page = self.pages - 1
            return
        gap = self._gap()
        grid = self._grid
        grid.cols = max(1, int(self.cols))
        grid.spacing = gap
        for w in self._items:
            if w.parent is not None:
                w.parent.remove_widget(w)
        grid.clear_widgets()
        shown = self._items[self.page * per_page:(self.page + 1) * per_page]
        for w in shown:
            grid.add_widget(w)
        rows = -(-len(shown) // grid.cols) if shown else 0
        grid.height = sum(
            max(w.height for w in shown[r * grid.cols:(r + 1) * grid.cols]) for r in range(rows)
        ) + gap * max(0, rows - 1)
        self._show_bar(self.pages > 1)

    def _show_bar(self, show: bool) -> None:
        if show and self._bar is None:
            self._bar = PagerBar(grid=self)
            super().add_widget(self._bar, index=0)
        elif not show and self._bar is not None:
            super().remove_widget(self._bar)
            self._bar = None


class Optional(BoxLayout):
    """Its children are on screen only while `shown` is true (out of the widget tree otherwise).

    Used instead of opacity 0 / height 0, so a hidden button is not a tiny
    touch target and the accessibility walk and the tests see what is shown.
    """

    shown = BooleanProperty(False)

    def __init__(self, **kw) -> None:
        self._kept: list = []
        kw.setdefault("orientation", "vertical")
        kw.setdefault("size_hint_y", None)
        super().__init__(**kw)
        self.bind(minimum_height=self._fit, shown=self._apply)
        self._fit()

    def add_widget(self, widget, *args, **kwargs):
        self._kept.append(widget)
        if self.shown:
            return super().add_widget(widget, *args, **kwargs)
        return None

    def _apply(self, *_args) -> None:
        for w in self._kept:
            if self.shown and w.parent is None:
                super().add_widget(w)
            elif not self.shown and w.parent is self:
                super().remove_widget(w)
        self._fit()

    def _fit(self, *_args) -> None:
        self.height = self.minimum_height if self.shown else 0
