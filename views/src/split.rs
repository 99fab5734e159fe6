//! The A/B split: two tables under the same load, their occupancy maps side by side (one
//! cursor for both: the same line number in each), the line's explanation for each side when
//! asked, and a table of deltas (throughput, p99 per operation, contention) below.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;
use slotscope_table::Snapshot;

use crate::explain::ExplainPanel;
use crate::mapgrid::MapGrid;
use crate::model::{Delta, Explanation, LineHeat};
use crate::occupancy::OccupancyMap;
use crate::panel::{panel, put, put_right};
use crate::state::ViewState;
use crate::theme::Theme;

/// One side of the split.
#[derive(Clone, Copy, Debug)]
pub struct SplitSide<'a> {
    /// Its name in the map's title ("A · linear").
    pub name: &'a str,
    /// Its table, once scanned.
    pub snapshot: Option<&'a Snapshot>,
    /// Its write heat.
    pub heat: &'a LineHeat,
    /// The selected line explained, when the detail is open.
    pub explanation: Option<&'a Explanation>,
}

/// Where the parts of the split go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SplitRegions {
    /// Side A's map.
    pub map_a: Rect,
    /// Side B's map.
    pub map_b: Rect,
    /// The explanations (when the detail is open), A then B.
    pub explain: Option<(Rect, Rect)>,
    /// The deltas table.
    pub deltas: Rect,
}

/// The split view (the body of the dashboard screen while two tables run).
#[derive(Clone, Copy, Debug)]
pub struct SplitView<'a> {
    a: SplitSide<'a>,
    b: SplitSide<'a>,
    deltas: &'a [Delta],
    state: &'a ViewState,
    wide: bool,
    theme: &'a Theme,
}

impl<'a> SplitView<'a> {
    /// Sides `a` and `b`, with `deltas` between them.
    pub fn new(
        a: SplitSide<'a>,
        b: SplitSide<'a>,
        deltas: &'a [Delta],
        state: &'a ViewState,
        theme: &'a Theme,
    ) -> Self {
        SplitView { a, b, deltas, state, wide: false, theme }
    }

    /// Presenter mode: wide, bold glyphs.
    #[must_use]
    pub fn wide(mut self, wide: bool) -> Self {
        self.wide = wide;
        self
    }

    /// Where everything goes in `area`.
    pub fn regions(&self, area: Rect) -> SplitRegions {
        let want = u16::try_from(self.deltas.len() + 3).unwrap_or(u16::MAX);
        let dh = want.min(area.height / 3).max(3.min(area.height));
        let deltas = Rect { y: area.bottom() - dh, height: dh, ..area };
        let maps = Rect { height: area.height - dh, ..area };
        let explain_open =
            self.state.detail_open && (self.a.explanation.is_some() || self.b.explanation.is_some());
        let (maps, explain) = if explain_open {
            let eh = (maps.height / 2).max(maps.height.min(10));
            let top = Rect { height: maps.height - eh, ..maps };
            let low = Rect { y: top.bottom(), height: eh, ..maps };
            let (l, r) = halves(low);
            (top, Some((l, r)))
        } else {
            (maps, None)
        };
        let (map_a, map_b) = halves(maps);
        SplitRegions { map_a, map_b, explain, deltas }
    }

    fn map(&self, side: &SplitSide<'a>, snap: &'a Snapshot) -> OccupancyMap<'a> {
        OccupancyMap::new(snap, side.heat, &self.state.map, self.theme).name(side.name).wide(self.wide)
    }

    /// Side A's map grid in `area` (the body), for the cursor and zoom keys (both maps have
    /// the same geometry when both tables have the same capacity).
    pub fn map_grid(&self, area: Rect) -> Option<MapGrid> {
        let snap = self.a.snapshot?;
        Some(self.map(&self.a, snap).grid(self.regions(area).map_a))
    }
}

fn halves(r: Rect) -> (Rect, Rect) {
    let w = r.width / 2;
    (Rect { width: w, ..r }, Rect { x: r.x + w, width: r.width - w, ..r })
}

impl Widget for &SplitView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let t = self.theme;
        let r = self.regions(area);
        let next = if self.state.show_next_ids { self.state.next_ids } else { 0 };
        for (side, map_area) in [(&self.a, r.map_a), (&self.b, r.map_b)] {
            match side.snapshot {
                Some(snap) => (&self.map(side, snap).next_ids(next)).render(map_area, buf),
                None => {
                    let block = panel(t, side.name, String::new());
                    let inner = block.inner(map_area);
                    block.render(map_area, buf);
                    let y = inner.y + inner.height / 2;
                    if y < inner.bottom() {
                        put(
                            buf,
                            inner.x + 1,
                            y,
                            inner.right(),
                            "starting: waiting for its first sample",
                            t.dim(),
                        );
                    }
                }
            }
        }
        if let Some((ea, eb)) = r.explain {
            for (side, rect) in [(&self.a, ea), (&self.b, eb)] {
                if let Some(e) = side.explanation {
                    (&ExplainPanel::new(e, t)).render(rect, buf);
                }
            }
        }
        self.render_deltas(r.deltas, buf);
    }
}

impl SplitView<'_> {
    fn render_deltas(&self, area: Rect, buf: &mut Buffer) {
        let t = self.theme;
        let block =
            panel(t, "A against B", "same load: same seed and threads, the tables take turns".to_owned());
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        let (x0, right) = (inner.x + 1, inner.right());
        let width = usize::from(right.saturating_sub(x0 + 1));
        // Columns sized to their widest value; where the intervals do not fit, the sides show
        // their medians and B vs A its ratio's interval, then only the words.
        let label_w = self.deltas.iter().map(|d| d.label.chars().count()).max().unwrap_or(0).max(6);
        let len = |s: &str| s.chars().count();
        let fits = |short_sides: bool, short_change: bool| {
            let side = |s: &str| len(if short_sides { median_of(s) } else { s });
            let wa = self.deltas.iter().map(|d| side(&d.a)).max().unwrap_or(0).max(len(self.a.name));
            let wb = self.deltas.iter().map(|d| side(&d.b)).max().unwrap_or(0).max(len(self.b.name));
            let wc = self.deltas.iter().map(|d| len(&change_text(d, short_change))).max().unwrap_or(0).max(6);
            (label_w + wa + wb + wc + 6 <= width).then_some((wa, wb, wc))
        };
        let (short_sides, short_change, (wa, wb, wc)) = fits(false, false)
            .map(|w| (false, false, w))
            .or_else(|| fits(true, false).map(|w| (true, false, w)))
            .or_else(|| fits(true, true).map(|w| (true, true, w)))
            .unwrap_or((true, true, (width / 4, width / 4, width / 4)));
        // Spare width goes between the columns.
        let spare = width.saturating_sub(label_w + wa + wb + wc) / 3;
        let at = |w: usize| u16::try_from(w).unwrap_or(u16::MAX);
        let ca = x0 + at(label_w + spare + wa);
        let cb = ca + at(spare + wb);
        let cc = (cb + at(spare + wc)).min(right);
        let mut y = inner.y;
        put_right(buf, ca - at(wa), ca, y, self.a.name, t.heading());
        put_right(buf, cb - at(wb), cb, y, self.b.name, t.heading());
        put_right(buf, cc.saturating_sub(at(wc)), cc, y, "B vs A", t.heading());
        y += 1;
        for d in self.deltas {
            if y >= inner.bottom() {
                break;
            }
            let side = |s: &'_ str| if short_sides { median_of(s).to_owned() } else { s.to_owned() };
            put(buf, x0, y, x0 + at(label_w), &d.label, t.dim());
            put_right(buf, ca - at(wa), ca, y, &side(&d.a), t.value());
            put_right(buf, cb - at(wb), cb, y, &side(&d.b), t.value());
            let style = match d.b_better {
                Some(true) => t.good(),
                Some(false) => t.warn(),
                None => t.dim(),
            };
            put_right(buf, cc.saturating_sub(at(wc)), cc, y, &change_text(d, short_change), style);
            y += 1;
        }
    }
}

/// A side's value without its interval ("8.21M [7.90M-8.40M]" -> "8.21M").
fn median_of(s: &str) -> &str {
    s.split_once(" [").map_or(s, |(m, _)| m)
}

/// B vs A as shown: the change and the mark ("+13% [+8, +18] better"); `short` leaves the
/// interval out ("+13% better", "+1% within noise").
fn change_text(d: &Delta, short: bool) -> String {
    let mark = match d.b_better {
        Some(true) => " better",
        Some(false) => " worse",
        None => "",
    };
    let change = if short {
        match d.change.split_once(" [") {
            Some((head, tail)) => {
                let words = tail.split_once("] ").map_or("", |(_, w)| w);
                if words.is_empty() {
                    head.to_owned()
                } else {
                    format!("{head} {words}")
                }
            }
            None => d.change.clone(),
        }
    } else {
        d.change.clone()
    };
    format!("{change}{mark}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use slotscope_table::{Geometry, Layout};

    #[test]
    fn regions_share_the_width_and_keep_the_deltas() {
        let snap = Snapshot::fresh(Geometry::new(64, Layout::Linear, 64).unwrap());
        let heat = LineHeat::default();
        let side = |name| SplitSide { name, snapshot: Some(&snap), heat: &heat, explanation: None };
        let deltas = vec![Delta::default(); 4];
        let (state, theme) = (ViewState::default(), Theme::default());
        let v = SplitView::new(side("A"), side("B"), &deltas, &state, &theme);
        let r = v.regions(Rect::new(0, 1, 100, 30));
        assert_eq!((r.map_a.width, r.map_b.x, r.map_b.width), (50, 50, 50));
        assert_eq!((r.deltas.y, r.deltas.height), (24, 7));
        assert_eq!(r.map_a.height, 23);
        assert!(r.explain.is_none());
        assert!(v.map_grid(Rect::new(0, 1, 100, 30)).is_some());
    }
}
