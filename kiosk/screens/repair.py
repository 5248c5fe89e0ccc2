"""Touch repair: a grid of categories with pictures -> common problems -> optional place and room
-> the same confirmation as the voice flow -> the ticket in very large digits.

Categories and problems come from assets/repair_catalog.json; each problem
carries its category, default urgency and the staff-facing summary.
"""

from __future__ import annotations

from kivy.properties import NumericProperty, OptionProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.screens import repair_request
from kiosk.screens.repair_catalog import Problem, shipped
from kiosk.screens.repair_request import Draft, RequestFlow
from kiosk.screens.steps import StepScreen, load_pager_kv
from kiosk.widgets import Painted

STEPS = ("category", "problem", "location", "room", "phone", "confirm", "sending", "ticket")
_INSTRUCTIONS = {"category": "repair.instr_category", "problem": "repair.instr_problem",
                 "location": "repair.instr_location", "room": "repair.instr_room", "phone": "request.instr_phone",
                 "confirm": "repair.instr_confirm", "sending": "request.sending", "ticket": "repair.instr_done"}


class PictureButton(ButtonBehavior, Painted, BoxLayout):
    """A big tile: a picture above its words (categories, problems, places)."""

    kind = StringProperty("")
    text = StringProperty("")
    value = StringProperty("")


class RepairScreen(RequestFlow, StepScreen):
    """Category -> problem -> place -> room -> phone -> confirm -> ticket."""

    name = "repair"
    title_key = "repair.title"
    step_instructions = _INSTRUCTIONS
    step = OptionProperty("category", options=STEPS)
    category = StringProperty("")
    columns = NumericProperty(3)

    def __init__(self, **kw) -> None:
        repair_request.load()
        load_pager_kv()
        super().__init__(**kw)
        self._problem: Problem | None = None
        self._location: str | None = None
        self._room: str | None = None
        self.set_instructions("repair.instr_category")

    def on_kv_post(self, base_widget) -> None:
        super().on_kv_post(base_widget)
        self.theme.bind(large_text=lambda *_a: self._fill_grids())
        self._fill_grids()

    def on_params(self, category: str | None = None, **_params) -> None:
        """go("repair", category="repair") opens that category's problems (voice falls back here)."""
        if category:
            self.choose_category(category)

    def reset(self) -> None:
        self.forget_request()
        self._problem = None
        self._location = None
        self._room = None
        self.category = ""
        self.step = "category"
        self._fill_grids()

    def on_language(self) -> None:
        self._fill_grids()
        self._describe()

    def show_demo_state(self) -> None:
        self.reset()

    # -- steps (kv and tiles) ----------------------------------------------------------
    def choose_category(self, code: str) -> None:
        try:
            shipped().category(code)
        except KeyError:
            return
        self.category = code
        self._fill_grids()
        self.step = "problem"

    def choose_problem(self, problem_id: str) -> None:
        self._problem = shipped().problem(problem_id)
        self.step = "location"

    def choose_location(self, location_id: str | None) -> None:
        """A place tile, or 跳过 (None)."""
        self._location = shipped().location(location_id).names["zh"] if location_id else None
        self.step = "room"

    def room_given(self, value: str) -> None:
        """The room (or 不填了): on to the call-back number the first time, else back to the card."""
        if self._draft is None:
            self._room = value or None
            self.step = "phone"
            return
        super().room_given(value)

    def phone_given(self, value: str) -> None:
        """The call-back number (or 不留电话): the first time this makes the confirmation card."""
        if self._problem is not None and self._draft is None:
            p = self._problem
            draft = Draft(channel="touch", category=p.category, urgency=p.urgency, summary=p.summary,
                          location=self._location, room=self._room, phone=value or None, tags=p.tags)
            self.show_draft(draft, speak=True)
            return
        super().phone_given(value)

    def retry(self) -> None:
        """不对，重选: back to the categories, nothing kept."""
        self.reset()

    def go_back(self) -> None:
        """返回 walks back through the steps before leaving the screen."""
        previous = {"problem": "category", "location": "problem", "room": "location", "phone": "room"}.get(self.step)
        if previous and self._draft is None:
            self.step = previous
        else:
            super().go_back()

    # -- grids -----------------------------------------------------------------------------
    def _resident_summary(self, draft: Draft) -> str:
        if self._problem is not None:
            return self._problem.name(self.app.lang)
        return draft.summary

    def _describe(self) -> None:
        super()._describe()
        if self._draft is not None and self._draft.location:
            for loc in shipped().locations:
                if loc.names["zh"] == self._draft.location:
                    self.draft_location = loc.name(self.app.lang)

    def _fill_grids(self) -> None:
        if "category_grid" not in self.ids:
            return
        lang = self.app.lang
        self.columns = 2 if self.theme.large_text else 3
        cat = shipped()
        self._fill(self.ids.category_grid, [(c.code, c.icon, c.name(lang)) for c in cat.categories],
                   self.choose_category)
        problems = cat.category(self.category).problems if self.category else ()
        self._fill(self.ids.problem_grid, [(p.id, p.icon, p.name(lang)) for p in problems], self.choose_problem)
        self._fill(self.ids.location_grid, [(loc.id, loc.icon, loc.name(lang)) for loc in cat.locations],
                   self.choose_location)

    def _fill(self, grid, tiles, action) -> None:
        widgets = []
        for value, picture, words in tiles:
            tile = PictureButton(kind=picture, text=words, value=value)
            tile.bind(on_release=lambda t: action(t.value))
            widgets.append(tile)
        grid.set_items(widgets)

