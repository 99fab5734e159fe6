//! Threads: which worker runs on which core, grouped by cache domain (the groups
//! `--pin scatter` spreads over), cores shared by two threads flagged, and the live controls.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

use crate::generations::draw_hbar;
use crate::model::{ThreadTable, Topology};
use crate::panel::{panel, put};
use crate::plot::{col, fit_columns, table_head, table_row, Align};
use crate::theme::Theme;
use crate::units::Si;

/// The threads view.
#[derive(Clone, Copy, Debug)]
pub struct ThreadsView<'a> {
    threads: &'a ThreadTable,
    topology: &'a Topology,
    theme: &'a Theme,
}

impl<'a> ThreadsView<'a> {
    /// Where `threads` run on `topology`'s cores.
    pub fn new(threads: &'a ThreadTable, topology: &'a Topology, theme: &'a Theme) -> Self {
        ThreadsView { threads, topology, theme }
    }

    /// Draws the core chips of every domain from `y`; returns the next free row.
    fn domains(&self, buf: &mut Buffer, x0: u16, mut y: u16, right: u16, bottom: u16) -> u16 {
        let t = self.theme;
        let any_unpinned = self.threads.rows.iter().any(|r| r.core.is_none());
        let name_w = self.topology.domains.iter().map(|d| d.name.chars().count()).max().unwrap_or(0);
        let name_w = if any_unpinned { name_w.max("unpinned".len()) } else { name_w };
        let name_w = u16::try_from(name_w + 2).unwrap_or(u16::MAX).min(right.saturating_sub(x0) / 3);
        for d in &self.topology.domains {
            if y >= bottom {
                return y;
            }
            put(buf, x0, y, x0 + name_w, &d.name, t.heading());
            let mut x = x0 + name_w;
            for &core in &d.cores {
                let mut on: Vec<u32> =
                    self.threads.rows.iter().filter(|r| r.core == Some(core)).map(|r| r.index).collect();
                on.sort_unstable();
                let mut body = format!("{core}:");
                if on.is_empty() {
                    body.push_str(if self.topology.ui_core == Some(core) { " UI" } else { " -" });
                }
                for i in &on {
                    body.push_str(&format!(" T{i}"));
                }
                // What the core does: its threads' ops/s together.
                let rate: f64 =
                    self.threads.rows.iter().filter(|r| r.core == Some(core)).map(|r| r.ops_per_s).sum();
                if !on.is_empty() {
                    body.push_str(&format!(" {}/s", Si(rate)));
                }
                let crowded = on.len() >= 2;
                if crowded {
                    body.push(' ');
                    body.push_str(t.glyphs.warn);
                }
                let chip = format!("[{body}]");
                let w = u16::try_from(chip.chars().count()).unwrap_or(u16::MAX);
                if x + w > right {
                    y += 1;
                    if y >= bottom {
                        return y;
                    }
                    x = x0 + name_w;
                }
                let style = if crowded {
                    t.warn()
                } else if on.is_empty() {
                    t.dim()
                } else {
                    t.value()
                };
                put(buf, x, y, right, &chip, style);
                x += w + 1;
            }
            y += 1;
        }
        let unpinned: Vec<String> =
            self.threads.rows.iter().filter(|r| r.core.is_none()).map(|r| format!("T{}", r.index)).collect();
        if !unpinned.is_empty() && y < bottom {
            put(buf, x0, y, x0 + name_w, "unpinned", t.heading());
            put(buf, x0 + name_w, y, right, &unpinned.join(" "), t.text());
            y += 1;
        }
        y
    }
}

impl Widget for &ThreadsView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.is_empty() {
            return;
        }
        let t = self.theme;
        let block =
            panel(t, "Threads", "1 chip = 1 core, the threads pinned to it and their ops/s".to_owned());
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        let (x0, right, bottom) = (inner.x + 1, inner.right().saturating_sub(1), inner.bottom());
        let mut y = self.domains(buf, x0, inner.y, right, bottom.saturating_sub(1));
        y += 1;
        // The group and domain columns fit their longest names ("L3 of core 12" is whole).
        let widest = |names: &mut dyn Iterator<Item = usize>, least: u16| {
            u16::try_from(names.max().unwrap_or(0)).unwrap_or(u16::MAX).max(least)
        };
        let group_w = widest(&mut self.threads.groups.iter().map(|g| g.chars().count()), 10);
        let domain_w = widest(&mut self.topology.domains.iter().map(|d| d.name.chars().count()), 10);
        let cols = [
            col("thread", 6, Align::Left, 0),
            col("group", group_w, Align::Left, 2),
            col("core", 5, Align::Right, 0),
            col("domain", domain_w, Align::Left, 3),
            col("ops/s", 7, Align::Right, 0),
            col("", 20, Align::Left, 4),
        ];
        let mask = fit_columns(&cols, right.saturating_sub(x0));
        if y + 1 < bottom {
            table_head(buf, x0, y, right, &cols, mask, t.heading());
            y += 1;
        }
        let peak = self.threads.rows.iter().map(|r| r.ops_per_s).fold(0.0, f64::max);
        for r in &self.threads.rows {
            if y + 1 >= bottom {
                break;
            }
            let domain = r.core.and_then(|c| self.topology.domain_of(c)).map_or("-", |d| d.name.as_str());
            table_row(buf, x0, y, right, &cols, mask, |i| match i {
                0 => (format!("T{}", r.index), t.value()),
                1 => (self.threads.group_name(r.group).to_owned(), t.text()),
                2 => (r.core.map_or("-".to_owned(), |c| c.to_string()), t.text()),
                3 => (domain.to_owned(), t.dim()),
                4 => (Si(r.ops_per_s).to_string(), t.value()),
                _ => (String::new(), t.dim()),
            });
            if mask & (1 << 5) != 0 && peak > 0.0 {
                let bx = x0 + cols[..5].iter().map(|c| c.width + 1).sum::<u16>();
                // Thousandths are plenty for a 20-cell bar.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let (v, p) = ((r.ops_per_s * 1000.0) as u64, (peak * 1000.0) as u64);
                draw_hbar(buf, bx, y, cols[5].width.min(right.saturating_sub(bx)), v, p, t.chart(), t);
            }
            y += 1;
        }
        // The live controls, on the last row.
        let y = bottom - 1;
        if y > inner.y {
            let mut x = x0;
            for (key, what) in [("[", "remove a thread"), ("]", "add a thread"), ("P", "pause / resume")] {
                x = put(buf, x, y, right, &format!(" {key} "), t.key());
                x = put(buf, x, y, right, &format!(" {what}   "), t.key_action());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CoreDomain, ThreadRow};

    #[test]
    fn chips_show_threads_per_core_and_flag_crowded_cores() {
        let threads = ThreadTable {
            groups: vec!["g".into()],
            rows: vec![
                ThreadRow { index: 0, core: Some(0), ops_per_s: 2.0, ..ThreadRow::default() },
                ThreadRow { index: 1, core: Some(1), ops_per_s: 1.0, ..ThreadRow::default() },
                ThreadRow { index: 2, core: Some(1), ..ThreadRow::default() },
                ThreadRow { index: 3, core: None, ..ThreadRow::default() },
            ],
        };
        let topo = Topology {
            domains: vec![
                CoreDomain { name: "L3 #0".into(), cores: vec![0, 1] },
                CoreDomain { name: "L3 #1".into(), cores: vec![2, 3] },
            ],
            ui_core: Some(3),
        };
        let t = Theme::default();
        let mut buf = Buffer::empty(Rect::new(0, 0, 60, 14));
        (&ThreadsView::new(&threads, &topo, &t)).render(buf.area, &mut buf);
        let rows: Vec<String> = (0..14).map(|y| (0..60).map(|x| buf[(x, y)].symbol()).collect()).collect();
        assert!(rows[1].starts_with("│ L3 #0     [0: T0 2/s] [1: T1 T2 1/s ⚠]"), "{}", rows[1]);
        assert!(rows[2].starts_with("│ L3 #1     [2: -] [3: UI]"), "{}", rows[2]);
        assert!(rows[3].starts_with("│ unpinned  T3"), "{}", rows[3]);
        assert!(rows[6].starts_with("│ T0     g              0 L3 #0"), "{}", rows[6]);
        assert!(rows[9].starts_with("│ T3     g              - -"), "{}", rows[9]);
        assert!(rows[12].contains(" [  remove a thread"), "{}", rows[12]);
        assert_eq!(buf[(25, 1)].fg, t.warn().fg.unwrap(), "the crowded core");
        // Long domain names stay whole in the table.
        let topo = Topology {
            domains: vec![CoreDomain { name: "L3 of core 0".into(), cores: vec![0, 1] }],
            ui_core: None,
        };
        let mut buf = Buffer::empty(Rect::new(0, 0, 60, 14));
        (&ThreadsView::new(&threads, &topo, &t)).render(buf.area, &mut buf);
        let rows: Vec<String> = (0..14).map(|y| (0..60).map(|x| buf[(x, y)].symbol()).collect()).collect();
        assert!(rows.iter().any(|r| r.starts_with("│ T0     g              0 L3 of core 0 ")), "{rows:#?}");
    }
}
