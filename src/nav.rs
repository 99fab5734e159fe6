//! What the live TUI and the replay share of their keys and mouse: switching views, the
//! detail panel, the map's cursor and zoom, the next ids, mouse capture and colours. Both
//! models implement [`Navigable`]; their `update` hands every [`Action`] here first and keeps
//! only its own (steering workers, moving through a trace).

use ratatui::crossterm::event::{MouseEvent, MouseEventKind};
use ratatui::layout::Rect;
use slotscope_views::controls::Action;
use slotscope_views::state::{CHART_WINDOWS, SORT_KEYS};
use slotscope_views::{MapGrid, Move, Palette, Screen, TabBar, Theme, ViewState, Zoom};

/// Map rows one mouse-wheel notch scrolls.
pub const WHEEL_ROWS: usize = 3;

/// A model the shared keys work on.
pub trait Navigable {
    /// The view state (screen, map, panels).
    fn view_mut(&mut self) -> &mut ViewState;
    /// The colours and glyphs.
    fn theme_mut(&mut self) -> &mut Theme;
    /// The shown map's grid, if the screen has a map.
    fn grid(&self) -> Option<MapGrid>;
    /// Whether the shown frame has a table snapshot (our table).
    fn has_table(&self) -> bool;
    /// Whose backend the shown frame is, for "the map needs the slotscope table; ...": e.g.
    /// `this backend is ptab`.
    fn backend_phrase(&self) -> String;
    /// Whether Enter opens a detail here (a map, or what else the model explains).
    fn can_detail(&self) -> bool {
        self.grid().is_some()
    }
    /// Where the tab bar is drawn, if it is.
    fn tab_bar(&self) -> Option<Rect>;
    /// The shown frame's hottest slot lines, hottest first (the contention view's ranks).
    fn hot_lines(&self) -> Vec<usize>;
    /// Whether mouse capture is on.
    fn mouse(&self) -> bool;
    /// Turns mouse capture on or off (the model asks its loop to).
    fn set_mouse(&mut self, on: bool);
    /// A status message.
    fn say(&mut self, text: String);
}

/// Carries out `action` if it is one of the shared ones; false if it is the model's own.
pub fn navigate(m: &mut impl Navigable, action: Action) -> bool {
    match action {
        Action::Help => {
            let v = m.view_mut();
            v.help_open = true;
            v.help_scroll = 0;
        }
        Action::NextView => {
            let v = m.view_mut();
            v.screen = v.screen.next();
        }
        Action::PrevView => {
            let v = m.view_mut();
            v.screen = v.screen.prev();
        }
        Action::View(s) => m.view_mut().screen = s,
        Action::SortNext | Action::SortPrev => {
            let v = m.view_mut();
            let n = SORT_KEYS.len();
            v.sort = if action == Action::SortNext { (v.sort + 1) % n } else { (v.sort + n - 1) % n };
            let key = v.sort_key();
            m.say(if key == SORT_KEYS[0] {
                "threads in their own order (< > sort by a column)".to_owned()
            } else {
                match slotscope_views::terms::define(key) {
                    Some(what) => format!("sorted by {key}, largest first. {key}: {what}"),
                    None => format!("threads sorted by {key}, largest first (< > another column)"),
                }
            });
        }
        Action::Move(mv) if m.view_mut().screen == Screen::Contention => select_hot(m, mv),
        Action::Detail
            if m.view_mut().screen == Screen::Contention && m.view_mut().hot_selected.is_some() =>
        {
            open_hot_line(m);
        }
        Action::Detail => {
            if m.can_detail() {
                m.view_mut().detail_open = true;
            } else {
                no_map(m);
            }
        }
        Action::Back => {
            let v = m.view_mut();
            if v.detail_open {
                v.detail_open = false;
            } else {
                v.screen = slotscope_views::Screen::Dashboard;
            }
        }
        Action::Move(mv) => move_cursor(m, mv),
        Action::ZoomIn if m.view_mut().screen == Screen::Charts => chart_window(m, -1),
        Action::ZoomOut if m.view_mut().screen == Screen::Charts => chart_window(m, 1),
        Action::ZoomIn => zoom(m, Zoom::zoom_in),
        Action::ZoomOut => zoom(m, Zoom::zoom_out),
        Action::Fit => zoom(m, |_| Zoom::Fit),
        Action::NextIds => {
            if m.has_table() {
                let v = m.view_mut();
                v.show_next_ids = !v.show_next_ids;
            } else {
                no_map(m);
            }
        }
        Action::Mouse => {
            let on = !m.mouse();
            m.set_mouse(on);
            m.say(
                if on {
                    "mouse on: the wheel scrolls the map, a click selects a line (m turns it off)"
                } else {
                    "mouse off: the terminal selects text again"
                }
                .to_owned(),
            );
        }
        Action::Colours => {
            let theme = m.theme_mut();
            theme.palette = theme.palette.next();
            let p = theme.palette;
            m.say(match p {
                Palette::Mono => "colours: mono (no colour; glyphs carry the meaning)".to_owned(),
                Palette::Cvd => "colours: cvd (colour-blind safe)".to_owned(),
                _ => format!("colours: {p}"),
            });
        }
        _ => return false,
    }
    true
}

/// The wheel scrolls the map, a click selects a line (while mouse capture is on and the help
/// is closed).
pub fn on_mouse(m: &mut impl Navigable, e: MouseEvent) {
    if !m.mouse() || m.view_mut().help_open {
        return;
    }
    match e.kind {
        MouseEventKind::ScrollUp => (0..WHEEL_ROWS).for_each(|_| move_cursor(m, Move::Up)),
        MouseEventKind::ScrollDown => (0..WHEEL_ROWS).for_each(|_| move_cursor(m, Move::Down)),
        MouseEventKind::Down(_) => {
            if let Some(bar) = m.tab_bar().filter(|b| b.y == e.row) {
                if let Some(s) = TabBar::screen_at(bar, e.column) {
                    m.view_mut().screen = s;
                }
            } else if let Some(line) = m.grid().and_then(|g| g.line_at(e.column, e.row)) {
                m.view_mut().map.cursor_line = line;
            }
        }
        _ => {}
    }
}

/// Says why there is no map to act on.
pub fn no_map(m: &mut impl Navigable) {
    if m.has_table() {
        m.say("no map on this screen: 1 (dashboard), 2 (occupancy) or 3 (generations) have one".to_owned());
    } else {
        let backend = m.backend_phrase();
        m.say(format!("the map needs the slotscope table; {backend}"));
    }
}

/// `j`/`k` on the contention view: the selection walks the hottest lines, above the first
/// of them back to the header line.
fn select_hot(m: &mut impl Navigable, mv: Move) {
    let hot = m.hot_lines();
    let ranked = hot.len();
    let v = m.view_mut();
    v.hot_selected = match (mv, v.hot_selected) {
        (Move::Down | Move::Right, None) if ranked > 0 => Some(0),
        (Move::Down | Move::Right, Some(r)) => Some((r + 1).min(ranked.saturating_sub(1))),
        (Move::Up | Move::Left, Some(0)) | (Move::Home, _) => None,
        (Move::Up | Move::Left, Some(r)) => Some(r - 1),
        (Move::End | Move::PageDown, _) if ranked > 0 => Some(ranked - 1),
        (_, keep) => keep,
    };
    let said = match m.view_mut().hot_selected {
        None => "the header line: Enter explains it".to_owned(),
        Some(r) => match hot.get(r) {
            Some(line) => format!("hottest #{}: slot line {line}; Enter opens it on the map", r + 1),
            None => "no hot line there".to_owned(),
        },
    };
    m.say(said);
}

/// Enter on a selected hottest line: the occupancy map, that line selected, its detail open.
fn open_hot_line(m: &mut impl Navigable) {
    let rank = m.view_mut().hot_selected.unwrap_or(0);
    match m.hot_lines().get(rank).copied() {
        Some(line) if m.has_table() => {
            let v = m.view_mut();
            v.screen = Screen::Occupancy;
            v.map.cursor_line = line;
            v.detail_open = true;
            m.say(format!("slot line {line}, hottest #{}: Esc closes the detail, 5 goes back", rank + 1));
        }
        _ => no_map(m),
    }
}

/// Steps the charts' time window `by` (negative: narrower) and says what it is now.
fn chart_window(m: &mut impl Navigable, by: isize) {
    let v = m.view_mut();
    let last = CHART_WINDOWS.len() - 1;
    let i = v.chart_window.saturating_add_signed(by).min(last);
    v.chart_window = i;
    let secs = CHART_WINDOWS[i].as_secs();
    let edge = match i {
        0 => " (the narrowest)",
        _ if i == last => " (the widest)",
        _ => "",
    };
    let span = if secs >= 60 { format!("{} min", secs / 60) } else { format!("{secs} s") };
    m.say(format!("charts: the last {span}{edge}"));
}

fn zoom(m: &mut impl Navigable, step: impl Fn(Zoom) -> Zoom) {
    match m.grid() {
        Some(grid) => m.view_mut().map.zoom = step(grid.zoom),
        None => no_map(m),
    }
}

fn move_cursor(m: &mut impl Navigable, mv: Move) {
    if let Some(grid) = m.grid() {
        let v = m.view_mut();
        v.map.cursor_line = grid.moved(v.map.cursor_line, mv);
    }
}
