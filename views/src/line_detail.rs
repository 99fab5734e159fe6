//! The detail of one slot-array line (Enter on the map): its slots with their states, keys and
//! generations, who wrote it in the last interval, and CAS failures when the probes count them.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;
use slotscope_table::{SlotState, Snapshot};

use crate::model::{LineActivity, LineHeat};
use crate::panel::{panel, put, put_right};
use crate::theme::Theme;
use crate::units::{Bytes, Si};

/// The line-detail panel.
#[derive(Clone, Copy, Debug)]
pub struct LineDetail<'a> {
    snapshot: &'a Snapshot,
    line: usize,
    heat: &'a LineHeat,
    activity: Option<&'a LineActivity>,
    theme: &'a Theme,
}

impl<'a> LineDetail<'a> {
    /// The detail of slot-array line `line` (clamped to the table). `activity` is used only if
    /// it describes this line.
    pub fn new(
        snapshot: &'a Snapshot,
        line: usize,
        heat: &'a LineHeat,
        activity: Option<&'a LineActivity>,
        theme: &'a Theme,
    ) -> Self {
        let line = line.min(snapshot.geometry().lines() - 1);
        LineDetail { snapshot, line, heat, activity: activity.filter(|a| a.line == line), theme }
    }
}

impl Widget for &LineDetail<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let t = self.theme;
        let gl = &t.glyphs;
        let g = self.snapshot.geometry();
        let lb = g.line_bytes();
        let start = self.line * lb;
        let block = panel(
            t,
            "Line detail",
            format!("line {} {} bytes {:#x}{}{:#x}", self.line, gl.dot, start, gl.dash, start + lb - 1),
        );
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        let (x0, right) = (inner.x + 1, inner.right());
        let mut y = inner.y;
        let bottom = inner.bottom();
        let next_row = |y: &mut u16| {
            let r = *y;
            *y += 1;
            (r < bottom).then_some(r)
        };

        // Summary.
        let slots = g.slots_of_line(self.line);
        let states = &self.snapshot.states()[slots.clone()];
        let count = |s: SlotState| states.iter().filter(|&&x| x == s).count();
        if let Some(r) = next_row(&mut y) {
            let mut x = put(buf, x0, r, right, "slots ", t.dim());
            x = put(buf, x, r, right, &format!("{}{}{}", slots.start, gl.dash, slots.end - 1), t.value());
            x = put(buf, x, r, right, &format!("  {} ", Bytes(lb as u64)), t.dim());
            x = put(buf, x, r, right, &format!("{}", count(SlotState::Occupied)), t.value());
            x = put(buf, x, r, right, " occupied ", t.dim());
            x = put(buf, x, r, right, &format!("{}", count(SlotState::Free)), t.value());
            x = put(buf, x, r, right, " free ", t.dim());
            let reserved = count(SlotState::Reserved);
            let style = if reserved > 0 { t.reserved() } else { t.value() };
            x = put(buf, x, r, right, &format!("{reserved}"), style);
            put(buf, x, r, right, " reserved", t.dim());
        }
        if let Some(r) = next_row(&mut y) {
            let mut x = put(buf, x0, r, right, "writes ", t.dim());
            if self.heat.measured {
                let w = self.heat.slots.writes(self.line);
                x = put(buf, x, r, right, &format!("{}", Si(f64::from(w))), t.value());
                if let Some(rate) = self.heat.per_second(u64::from(w)) {
                    x = put(buf, x, r, right, &format!(" ({}/s)", Si(rate)), t.dim());
                }
                let writers = self.heat.slots.writers(self.line);
                x = put(buf, x, r, right, "  writers ", t.dim());
                x = put(buf, x, r, right, &format!("{writers}"), t.value());
                if writers >= 2 {
                    put(buf, x + 1, r, right, &format!("{} shared line", gl.shared), t.shared());
                }
            } else {
                put(buf, x, r, right, "not measured (probes off)", t.dim());
            }
        }
        if let Some(a) = self.activity {
            if let Some(r) = next_row(&mut y) {
                let mut x = put(buf, x0, r, right, "by thread ", t.dim());
                let mut writers: [(u32, u32); 16] = [(0, 0); 16];
                let n = a.writers.len().min(writers.len());
                writers[..n].copy_from_slice(&a.writers[..n]);
                // Heaviest writer first.
                writers[..n].sort_unstable_by(|p, q| q.1.cmp(&p.1).then(p.0.cmp(&q.0)));
                for (i, (thread, w)) in writers[..n].iter().enumerate() {
                    if i > 0 {
                        x = put(buf, x, r, right, "  ", t.dim());
                    }
                    x = put(buf, x, r, right, &format!("T{thread}"), t.text());
                    x = put(buf, x, r, right, &format!(" {}", Si(f64::from(*w))), t.value());
                }
                if a.writers.len() > n {
                    put(buf, x, r, right, &format!("  +{} more", a.writers.len() - n), t.dim());
                }
            }
            if let Some(r) = next_row(&mut y) {
                let x = put(buf, x0, r, right, "CAS failures ", t.dim());
                match a.cas_failures {
                    Some(n) => {
                        let style = if n > 0 { t.warn() } else { t.value() };
                        put(buf, x, r, right, &format!("{n}"), style)
                    }
                    None => put(buf, x, r, right, "not counted", t.dim()),
                };
            }
        }
        let _ = next_row(&mut y);

        // One row per slot.
        let cols: [(&str, u16); 5] = [("slot", 8), ("state", 12), ("gen", 8), ("id", 12), ("index", 9)];
        // The index column only where it fits whole (a squeezed one runs into the ids).
        let shown = if x0 + cols.iter().map(|c| c.1).sum::<u16>() <= right { 5 } else { 4 };
        if let Some(r) = next_row(&mut y) {
            let mut x = x0;
            for (i, (name, w)) in cols.iter().take(shown).enumerate() {
                if i == 1 {
                    put(buf, x + 1, r, right, name, t.heading());
                } else {
                    put_right(buf, x, (x + w).min(right), r, name, t.heading());
                }
                x = x.saturating_add(*w);
            }
        }
        for s in slots {
            let Some(r) = next_row(&mut y) else { break };
            let info = self.snapshot.slot(s);
            let (glyph, gstyle, name) = match info.state {
                SlotState::Occupied => (gl.occupied, t.occupied(0), "occupied"),
                SlotState::Reserved => (gl.reserved, t.reserved(), "reserved"),
                SlotState::Free => (gl.free, t.free(0), "free"),
            };
            let mut x = x0;
            put_right(buf, x, (x + cols[0].1).min(right), r, &s.to_string(), t.text());
            x = x.saturating_add(cols[0].1);
            let nx = put(buf, x + 1, r, right, glyph, gstyle);
            put(buf, nx + 1, r, right, name, t.text());
            x = x.saturating_add(cols[1].1);
            let (gen, id) = match info.key {
                Some(k) => (k.generation().to_string(), g.id_of(k).to_string()),
                None => ("-".to_owned(), "in flight".to_owned()),
            };
            put_right(buf, x, (x + cols[2].1).min(right), r, &gen, t.value());
            x = x.saturating_add(cols[2].1);
            put_right(buf, x, (x + cols[3].1).min(right), r, &id, t.text());
            x = x.saturating_add(cols[3].1);
            if shown == 5 {
                put_right(buf, x, (x + cols[4].1).min(right), r, &g.index_of_slot(s).to_string(), t.dim());
            }
        }
        if y < bottom {
            put(
                buf,
                x0,
                bottom - 1,
                right,
                "gen = reuses of the slot; free slots show their next id",
                t.dim(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LineWrites;
    use slotscope_table::{Geometry, Layout};

    #[test]
    fn shows_each_slot_with_its_generation_and_writers() {
        let g = Geometry::new(16, Layout::Interleaved, 64).unwrap();
        let mut snap = Snapshot::fresh(g);
        snap.set_slot(9, SlotState::Occupied, Some(g.key(3, 9)));
        snap.set_slot(10, SlotState::Reserved, None);
        let heat = LineHeat {
            measured: true,
            interval_ns: 1_000_000_000,
            slots: LineWrites { writes: vec![0, 42], writers: vec![0, 2], ..LineWrites::default() },
            ..LineHeat::default()
        };
        let act = LineActivity { line: 1, writers: vec![(4, 12), (1, 30)], cas_failures: Some(3) };
        let theme = Theme::default();
        let d = LineDetail::new(&snap, 1, &heat, Some(&act), &theme);
        let mut buf = Buffer::empty(Rect::new(0, 0, 56, 17));
        (&d).render(buf.area, &mut buf);
        let rows: Vec<String> =
            (0..17).map(|y| (0..56).map(|x| buf[(x, y)].symbol()).collect::<String>()).collect();
        assert!(rows[0].contains("line 1 · bytes 0x40–0x7f"), "{}", rows[0]);
        assert!(rows[1].contains("slots 8–15"), "{}", rows[1]);
        assert!(rows[1].contains("1 occupied 6 free 1 reserved"), "{}", rows[1]);
        assert!(rows[2].contains("writes 42 (42/s)  writers 2 × shared line"), "{}", rows[2]);
        assert!(rows[3].contains("by thread T1 30  T4 12"), "heaviest first: {}", rows[3]);
        assert!(rows[4].contains("CAS failures 3"), "{}", rows[4]);
        // Slot 9 of 16, interleaved: index (9 & 7) << 1 | 9 >> 3 = 3, id 3 * 16 + 3 = 51.
        assert_eq!(
            rows[8].trim_end_matches(['│', ' ']),
            "│        9 █ occupied        3          51        3"
        );
        assert!(rows[9].contains("▒ reserved") && rows[9].contains("in flight"), "{}", rows[9]);
    }

    #[test]
    fn a_narrow_panel_drops_the_index_column_whole() {
        let g = Geometry::new(4096, Layout::Interleaved, 64).unwrap();
        let snap = Snapshot::fresh(g);
        let (heat, theme) = (LineHeat::default(), Theme::default());
        let mut buf = Buffer::empty(Rect::new(0, 0, 46, 12));
        (&LineDetail::new(&snap, 0, &heat, None, &theme)).render(buf.area, &mut buf);
        let rows: Vec<String> =
            (0..12).map(|y| (0..46).map(|x| buf[(x, y)].symbol()).collect::<String>()).collect();
        assert!(rows[4].trim_end_matches(['│', ' ']).ends_with(" id"), "{}", rows[4]);
        assert!(rows[5].trim_end_matches(['│', ' ']).ends_with(" 0"), "{}", rows[5]);
        assert!(!rows.iter().any(|r| r.contains("index")));
    }

    #[test]
    fn activity_of_another_line_is_ignored() {
        let g = Geometry::new(16, Layout::Linear, 64).unwrap();
        let snap = Snapshot::fresh(g);
        let heat = LineHeat::default();
        let act = LineActivity { line: 0, writers: vec![(1, 1)], cas_failures: None };
        let theme = Theme::default();
        let d = LineDetail::new(&snap, 1, &heat, Some(&act), &theme);
        assert!(d.activity.is_none());
        let clamped = LineDetail::new(&snap, 99, &heat, None, &theme);
        assert_eq!(clamped.line, 1);
    }
}
