//! The whole screen: header bar, the body (the dashboard or one full-screen view), the controls
//! footer, and the help overlay on top. Below the minimum size, only the "too small" message.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

use crate::charts::ChartsView;
use crate::chrome::{ControlsFooter, HeaderBar, HelpOverlay, Status, TabBar, TooSmall};
use crate::contention::ContentionView;
use crate::controls::{CONTROLS, REPLAY_CONTROLS};
use crate::explain::ExplainPanel;
use crate::free_list::FreeList;
use crate::generations::{GenerationHistogram, GenerationMap, GenerationStats};
use crate::latency::LatencyView;
use crate::line_detail::LineDetail;
use crate::mapgrid::MapGrid;
use crate::model::{Delta, Explanation, Figure, Inputs, Narration};
use crate::narration::NarrationPanel;
use crate::occupancy::OccupancyMap;
use crate::panel::{panel, NeedsTable};
use crate::presenter::{presenter_regions, FiguresPanel};
use crate::replay::{ReplayBar, ReplayInfo, REPLAY_ROWS};
use crate::split::{SplitSide, SplitView};
use crate::state::{Screen, ViewState};
use crate::theme::Theme;
use crate::threads::ThreadsView;

/// The smallest terminal the dashboard draws in; below it, [`TooSmall`] says so.
pub const MIN_WIDTH: u16 = 60;
/// See [`MIN_WIDTH`].
pub const MIN_HEIGHT: u16 = 16;

/// Every screen of the app, composed: draw it with `frame.render_widget(&dashboard, area)`.
#[derive(Clone, Copy, Debug)]
pub struct Dashboard<'a> {
    inputs: Inputs<'a>,
    state: &'a ViewState,
    theme: &'a Theme,
    status: Option<Status<'a>>,
    narration: Option<&'a Narration>,
    explanation: Option<&'a Explanation>,
    split: Option<(SplitSide<'a>, SplitSide<'a>, &'a [Delta])>,
    present: bool,
    figures: &'a [Figure],
    replay: Option<&'a ReplayInfo>,
    notes: &'a [String],
}

/// Where each part of a screen goes (computed by [`Dashboard::regions`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Regions {
    /// The header bar.
    pub header: Rect,
    /// The tab bar naming the views, on terminals where it fits ([`TabBar::fits`]).
    pub tabs: Option<Rect>,
    /// The controls footer.
    pub footer: Rect,
    /// The occupancy or generations map, on screens that show one.
    pub map: Option<Rect>,
    /// The line-detail panel, when open.
    pub detail: Option<Rect>,
    /// Other panels of the body: (which, where).
    pub panels: [Option<(Panel, Rect)>; 3],
    /// The explanation of the selected line (in the detail's place, above it).
    pub explain: Option<Rect>,
    /// A lesson's narration.
    pub narration: Option<Rect>,
    /// The A/B split (the dashboard's body while two tables run).
    pub split: Option<Rect>,
    /// Presenter mode's numbers.
    pub figures: Option<Rect>,
    /// The replay bar, when replaying a trace.
    pub replay: Option<Rect>,
    /// Charts under the map, where the map leaves rows spare (a tall dashboard).
    pub charts: Option<Rect>,
}

/// Spare rows under the dashboard's map that make room for charts there.
const SPARE_FOR_CHARTS: u16 = 14;

/// A panel of the body other than the map and the detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    /// The free list (compact on the dashboard).
    FreeList,
    /// Contention (compact on the dashboard).
    Contention,
    /// Latency (compact on the dashboard).
    Latency,
    /// The generations histogram.
    Histogram,
    /// The threads view.
    Threads,
    /// The charts (view 8).
    Charts,
    /// "This view needs our table" for backends without snapshots.
    NeedsTable,
}

impl<'a> Dashboard<'a> {
    /// The screen for `inputs` in `state`, styled by `theme`.
    pub fn new(inputs: Inputs<'a>, state: &'a ViewState, theme: &'a Theme) -> Self {
        Dashboard {
            inputs,
            state,
            theme,
            status: None,
            narration: None,
            explanation: None,
            split: None,
            present: false,
            figures: &[],
            replay: None,
            notes: &[],
        }
    }

    /// Draws a replay of a trace: the REPLAY badge in the header, the replay bar above the
    /// footer, and the replay's keys in the footer and the help.
    #[must_use]
    pub fn replay(mut self, replay: Option<&'a ReplayInfo>) -> Self {
        self.replay = replay;
        self
    }

    /// Explanations the help shows first (where a replay's figures come from).
    #[must_use]
    pub fn help_notes(mut self, notes: &'a [String]) -> Self {
        self.notes = notes;
        self
    }

    /// A lesson's narration, drawn under every screen (large, beside the map, in presenter
    /// mode).
    #[must_use]
    pub fn narration(mut self, narration: Option<&'a Narration>) -> Self {
        self.narration = narration;
        self
    }

    /// The selected line explained in plain words: shown above its detail when Enter opens it.
    #[must_use]
    pub fn explanation(mut self, explanation: Option<&'a Explanation>) -> Self {
        self.explanation = explanation;
        self
    }

    /// The A/B split: the dashboard screen shows both sides and their deltas.
    #[must_use]
    pub fn split(mut self, split: Option<(SplitSide<'a>, SplitSide<'a>, &'a [Delta])>) -> Self {
        self.split = split;
        self
    }

    /// Presenter mode: every screen keeps a right-hand column for the narration and `figures`
    /// (in block type); the dashboard shows only the map beside it, large.
    #[must_use]
    pub fn present(mut self, present: bool, figures: &'a [Figure]) -> Self {
        self.present = present;
        self.figures = figures;
        self
    }

    /// The rows the narration wants in presenter mode's column (`None` without a lesson).
    fn narration_rows(&self, body: Rect, map_width: Option<u16>) -> Option<u16> {
        let n = self.narration?;
        let w = crate::presenter::words_width(body, map_width);
        Some(NarrationPanel::new(n, self.theme).large(true).height(w))
    }

    fn split_view(&self) -> Option<SplitView<'a>> {
        let (a, b, deltas) = self.split?;
        Some(SplitView::new(a, b, deltas, self.state, self.theme).wide(self.present))
    }

    /// A status message for the footer (see [`ControlsFooter::status`]).
    #[must_use]
    pub fn status(mut self, status: Option<Status<'a>>) -> Self {
        self.status = status;
        self
    }

    /// The help overlay as this screen draws it (its keys and notes), e.g. to know how far
    /// it scrolls.
    pub fn help(&self) -> HelpOverlay<'a> {
        let controls = if self.replay.is_some() { REPLAY_CONTROLS } else { CONTROLS };
        HelpOverlay::new(self.theme).controls(controls).notes(self.notes).scroll(self.state.help_scroll)
    }

    /// Whether `area` is big enough (else the too-small message is drawn).
    pub fn fits(area: Rect) -> bool {
        area.width >= MIN_WIDTH && area.height >= MIN_HEIGHT
    }

    /// Where everything goes in `area`.
    pub fn regions(&self, area: Rect) -> Regions {
        let hh = HeaderBar::height(self.inputs.header).min(area.height);
        let header = Rect { height: hh, ..area };
        let footer = Rect { y: area.bottom().saturating_sub(1), height: 1.min(area.height - hh), ..area };
        let body = Rect { y: area.y + hh, height: area.height.saturating_sub(hh + footer.height), ..area };
        let mut r = Regions { header, footer, ..Regions::default() };
        let presenting = self.present && self.state.screen == Screen::Dashboard;
        let body = if TabBar::fits(area) && !presenting && body.height > 1 {
            r.tabs = Some(Rect { height: 1, ..body });
            Rect { y: body.y + 1, height: body.height - 1, ..body }
        } else {
            body
        };
        let body = match self.replay {
            Some(_) => {
                let rows = REPLAY_ROWS.min(body.height);
                r.replay = Some(Rect { y: body.bottom() - rows, height: rows, ..body });
                Rect { height: body.height - rows, ..body }
            }
            None => body,
        };
        let has_snap = self.inputs.snapshot.is_some();
        let detail = self.state.detail_open && has_snap;
        let body = match self.narration {
            Some(n) if !self.present => {
                let want = NarrationPanel::new(n, self.theme).height(body.width);
                // The words come first in a lesson: up to 55% of the body, at least 7 rows.
                let cap = (body.height * 11 / 20).max(7.min(body.height));
                let h = want.min(cap);
                r.narration = Some(Rect { y: body.bottom() - h, height: h, ..body });
                Rect { height: body.height - h, ..body }
            }
            _ => body,
        };
        if presenting {
            let map_width = self.inputs.snapshot.filter(|_| self.split.is_none()).map(|snap| {
                // Every slot, two columns wide: as many groups a row as the rows require.
                let g = snap.geometry();
                let rows = usize::from(body.height.saturating_sub(3)).max(1);
                let units = g.lines().div_ceil(rows);
                let label = crate::units::digits(g.lines() - 1) + 1;
                let w = label + units * (g.slots_per_line() * 2 + 2) + 2;
                u16::try_from(w).unwrap_or(u16::MAX)
            });
            let p =
                presenter_regions(body, self.narration_rows(body, map_width), self.figures.len(), map_width);
            r.narration = p.narration;
            r.figures = Some(p.figures);
            if self.split.is_some() {
                r.split = Some(p.map);
            } else if has_snap {
                r.map = Some(p.map);
                if detail {
                    r.explain = self.explanation.map(|_| p.figures);
                    r.figures = r.explain.is_none().then_some(p.figures);
                }
            } else {
                r.panels[0] = Some((Panel::NeedsTable, p.map));
            }
            return r;
        }
        // Presenter mode on the other screens: the screen on the left, the words and the
        // numbers in the same right-hand column as on the dashboard.
        let body = if self.present {
            let p = presenter_regions(body, self.narration_rows(body, None), self.figures.len(), None);
            r.narration = p.narration;
            r.figures = Some(p.figures);
            p.map
        } else {
            body
        };
        if self.state.screen == Screen::Dashboard && self.split.is_some() {
            r.split = Some(body);
            return r;
        }
        match self.state.screen {
            Screen::Dashboard if !has_snap => {
                // No map: the note on top, then contention and latency in full, side by side
                // when wide, else stacked.
                let note = Rect { height: 4.min(body.height), ..body };
                let rest = Rect { y: note.bottom(), height: body.height - note.height, ..body };
                let (a, b) = if rest.width >= 140 {
                    let w = rest.width * 9 / 20;
                    (Rect { width: w, ..rest }, Rect { x: rest.x + w, width: rest.width - w, ..rest })
                } else {
                    let h = rest.height / 2;
                    (Rect { height: h, ..rest }, Rect { y: rest.y + h, height: rest.height - h, ..rest })
                };
                r.panels = [
                    Some((Panel::NeedsTable, note)),
                    Some((Panel::Contention, a)),
                    Some((Panel::Latency, b)),
                ];
            }
            Screen::Dashboard => {
                let rw = (body.width * 2 / 5).clamp(34.min(body.width), 64);
                let map = Rect { width: body.width - rw, ..body };
                let right = Rect { x: map.right(), width: rw, ..body };
                r.map = Some(map);
                // Rows the map does not need (the whole table drawn, two legend rows, the
                // border) go to charts under it when there are enough for them.
                if let (Some(snap), false) = (self.inputs.snapshot, self.present || detail) {
                    let grid =
                        OccupancyMap::new(snap, self.inputs.heat, &self.state.map, self.theme).grid(map);
                    let needed = u16::try_from(grid.total_rows).unwrap_or(u16::MAX).saturating_add(4);
                    let spare = map.height.saturating_sub(needed);
                    if spare >= SPARE_FOR_CHARTS {
                        r.map = Some(Rect { height: map.height - spare, ..map });
                        r.charts = Some(Rect { y: map.bottom() - spare, height: spare, ..map });
                    }
                }
                if detail {
                    r.detail = Some(right);
                } else {
                    // Contention gets what its rows need; any height left over goes to the
                    // free list, which lists more next ids with it.
                    let lh = 8.min(right.height);
                    let fh = 6.min(right.height - lh);
                    let threads = u16::try_from(self.inputs.threads.rows.len()).unwrap_or(u16::MAX);
                    let ch = threads.saturating_add(6).min(right.height - lh - fh);
                    let fh = right.height - lh - ch;
                    r.panels = [
                        Some((Panel::FreeList, Rect { height: fh, ..right })),
                        Some((Panel::Contention, Rect { y: right.y + fh, height: ch, ..right })),
                        Some((Panel::Latency, Rect { y: right.y + fh + ch, height: lh, ..right })),
                    ];
                }
            }
            s if s.needs_snapshot() && !has_snap => r.panels[0] = Some((Panel::NeedsTable, body)),
            Screen::Occupancy | Screen::Generations => {
                let side = if self.state.screen == Screen::Generations || detail {
                    let want = if detail { 58 } else { 40 };
                    if body.width >= want + 40 {
                        want
                    } else {
                        0
                    }
                } else {
                    0
                };
                let map = Rect { width: body.width - side, ..body };
                r.map = Some(map);
                let right = Rect { x: map.right(), width: side, ..body };
                if side > 0 {
                    if detail {
                        r.detail = Some(right);
                    } else {
                        r.panels[0] = Some((Panel::Histogram, right));
                    }
                } else if detail {
                    // Narrow: the detail takes the lower part of the map.
                    let h = (body.height / 2).max(body.height.min(12));
                    let map = Rect { height: body.height - h, ..body };
                    r.map = Some(map);
                    r.detail = Some(Rect { y: map.bottom(), height: h, ..body });
                }
            }
            Screen::FreeList => r.panels[0] = Some((Panel::FreeList, body)),
            Screen::Contention => {
                // The header line's explanation beside the contention view.
                match self.explanation.filter(|_| self.state.detail_open) {
                    Some(_) if body.width >= 100 => {
                        let ew = (body.width * 2 / 5).min(60);
                        r.panels[0] = Some((Panel::Contention, Rect { width: body.width - ew, ..body }));
                        r.explain = Some(Rect { x: body.right() - ew, width: ew, ..body });
                    }
                    Some(_) => {
                        let eh = body.height / 2;
                        r.panels[0] = Some((Panel::Contention, Rect { height: body.height - eh, ..body }));
                        r.explain = Some(Rect { y: body.bottom() - eh, height: eh, ..body });
                    }
                    None => r.panels[0] = Some((Panel::Contention, body)),
                }
            }
            Screen::Latency => r.panels[0] = Some((Panel::Latency, body)),
            Screen::Threads => r.panels[0] = Some((Panel::Threads, body)),
            Screen::Charts => r.panels[0] = Some((Panel::Charts, body)),
        }
        // The explanation goes on top of the detail; the slots below it if there is room.
        if let (Some(d), Some(e)) = (r.detail, self.explanation) {
            let want = ExplainPanel::new(e, self.theme).height(d.width);
            if d.height >= want + 8 {
                r.explain = Some(Rect { height: want, ..d });
                r.detail = Some(Rect { y: d.y + want, height: d.height - want, ..d });
            } else {
                r.explain = Some(d);
                r.detail = None;
            }
        }
        r
    }

    /// The map's grid in a terminal of `area` (as drawn), for the app to step the zoom from
    /// `Fit` and to move the cursor by rows; `None` on screens without a map.
    pub fn map_grid(&self, area: Rect) -> Option<MapGrid> {
        if !Dashboard::fits(area) {
            return None;
        }
        if self.state.screen == Screen::Dashboard && self.split.is_some() {
            let r = self.regions(area);
            return self.split_view().zip(r.split).and_then(|(v, s)| v.map_grid(s));
        }
        let snap = self.inputs.snapshot?;
        let r = self.regions(area);
        if let (Some(split), Some(view)) = (r.split, self.split_view()) {
            return view.map_grid(split);
        }
        let map = r.map?;
        let wide = self.present && self.state.screen == Screen::Dashboard;
        Some(match self.state.screen {
            Screen::Generations => GenerationMap::new(snap, &self.state.map, self.theme).grid(map),
            _ => OccupancyMap::new(snap, self.inputs.heat, &self.state.map, self.theme).wide(wide).grid(map),
        })
    }

    fn render_panel(&self, which: Panel, area: Rect, buf: &mut Buffer, gens: Option<&GenerationStats>) {
        let (i, t) = (&self.inputs, self.theme);
        let compact = self.state.screen == Screen::Dashboard && i.snapshot.is_some();
        match which {
            Panel::FreeList => {
                if let Some(s) = i.snapshot {
                    let next = if compact { self.state.next_ids } else { crate::state::MAX_NEXT_IDS };
                    (&FreeList::new(s, i.heat, t).compact(compact).next_ids(next)).render(area, buf);
                }
            }
            Panel::Contention => {
                let view = ContentionView::new(i.threads, i.heat, i.timeline, t)
                    .sort(self.state.sort_key())
                    .selected(self.state.hot_selected.filter(|_| self.state.screen == Screen::Contention));
                (&view.compact(compact).hot_lines(i.snapshot.is_some())).render(area, buf);
            }
            Panel::Latency => {
                (&LatencyView::new(i.latency, i.timeline, t).compact(compact)).render(area, buf)
            }
            Panel::Histogram => {
                if let Some(s) = i.snapshot {
                    let h = GenerationHistogram::new(s, t);
                    (&gens.map_or(h, |g| h.with_stats(g))).render(area, buf);
                }
            }
            Panel::Threads => (&ThreadsView::new(i.threads, i.topology, t)).render(area, buf),
            Panel::Charts => (&ChartsView::new(i, self.state, t)).render(area, buf),
            Panel::NeedsTable => {
                let what = match self.state.screen {
                    Screen::Generations => "Generations",
                    Screen::FreeList => "The free list",
                    Screen::Dashboard => "The occupancy map",
                    _ => "Occupancy",
                };
                let block = panel(t, self.state.screen.name(), String::new());
                let inner = block.inner(area);
                block.render(area, buf);
                let unscanned = i.header.geometry.map(|g| g.capacity());
                (&NeedsTable { what, backend: &i.header.backend, unscanned, theme: t }).render(inner, buf);
            }
        }
    }
}

impl Widget for &Dashboard<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let t = self.theme;
        if !Dashboard::fits(area) {
            (&TooSmall::new((MIN_WIDTH, MIN_HEIGHT), t)).render(area, buf);
            return;
        }
        let i = &self.inputs;
        let r = self.regions(area);
        // One pass for both generation widgets.
        let gens =
            (self.state.screen == Screen::Generations).then(|| i.snapshot.map(GenerationStats::of)).flatten();
        (&HeaderBar::new(i.header, t).replay(self.replay)).render(r.header, buf);
        if let Some(tabs) = r.tabs {
            (&TabBar::new(self.state.screen, t)).render(tabs, buf);
        }
        if let (Some(map), Some(snap)) = (r.map, i.snapshot) {
            if self.state.screen == Screen::Generations {
                let m = GenerationMap::new(snap, &self.state.map, t);
                (&gens.as_ref().map_or(m, |g| m.with_stats(g))).render(map, buf);
            } else {
                let next = if self.state.show_next_ids { self.state.next_ids } else { 0 };
                let wide = self.present && self.state.screen == Screen::Dashboard;
                (&OccupancyMap::new(snap, i.heat, &self.state.map, t).next_ids(next).wide(wide))
                    .render(map, buf);
            }
        }
        if let (Some(s), Some(view)) = (r.split, self.split_view()) {
            (&view).render(s, buf);
        }
        if let (Some(d), Some(snap)) = (r.detail, i.snapshot) {
            (&LineDetail::new(snap, self.state.map.cursor_line, i.heat, i.line_activity, t)).render(d, buf);
        }
        if let (Some(e), Some(x)) = (r.explain, self.explanation) {
            (&ExplainPanel::new(x, t)).render(e, buf);
        }
        if let (Some(n), Some(x)) = (r.narration, self.narration) {
            let large = self.present;
            (&NarrationPanel::new(x, t).large(large)).render(n, buf);
        }
        if let Some(f) = r.figures {
            (&FiguresPanel::new(self.figures, t)).render(f, buf);
        }
        for (which, area) in r.panels.iter().flatten() {
            self.render_panel(*which, *area, buf, gens.as_ref());
        }
        if let Some(c) = r.charts {
            (&ChartsView::new(i, self.state, t).compact(true)).render(c, buf);
        }
        let controls = if self.replay.is_some() { REPLAY_CONTROLS } else { CONTROLS };
        let frozen = self.replay.map_or(i.header.frozen, |r| !r.playing);
        (&ControlsFooter::new(self.state, frozen, t)
            .controls(controls)
            .map_available(i.snapshot.is_some())
            .lesson(self.narration.is_some())
            .ended(i.header.ended)
            .status(self.status))
            .render(r.footer, buf);
        if let (Some(info), Some(bar)) = (self.replay, r.replay) {
            (&ReplayBar::new(info, t)).render(bar, buf);
        }
        if self.state.help_open {
            (&self.help()).render(area, buf);
        }
    }
}
