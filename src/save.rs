//! `s` in the TUI: the shown frame saved as text (the screen as you see it) and JSON (its
//! data: the table snapshot, counters, latency), next to each other in the working directory
//! as `slotscope-SCENARIO-YYYYMMDD-HHMMSSZ.{txt,json}` (UTC). Each file is written to a
//! temporary name and renamed, so a file that exists is whole.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;
use serde_json::{json, Value};
use slotscope_table::{SlotState, Snapshot};
use slotscope_views::{LatencyStats, LineHeat, Op, Percentiles, ThreadTable};

use crate::app::Model;

/// Version of the JSON document's shape. 2: latency summaries say `timed` (was `count`), each op
/// says what its `interval` and `run` measure, and open loop's service times are
/// `interval_service_time` / `run_service_time` (were `..._uncorrected`).
pub const SCREEN_SCHEMA_VERSION: u32 = 2;
/// Hottest lines listed in the JSON.
const HOT_LINES: usize = 16;
/// Next ids listed in the JSON.
const NEXT_IDS: usize = 16;

/// Saves the shown frame of `model` into `dir`; the paths written (text, then JSON).
pub fn save_screen(model: &Model, dir: &Path, now: SystemTime) -> Result<Vec<PathBuf>, String> {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    save_files(dir, &model.facts.scenario, secs, &screen_text(model), &screen_json(model, secs))
}

/// Writes `text` and `doc` as `slotscope-SCENARIO-STAMP.{txt,json}` into `dir`, each
/// atomically; the paths written (text, then JSON).
pub fn save_files(
    dir: &Path,
    scenario: &str,
    secs: u64,
    text: &str,
    doc: &Value,
) -> Result<Vec<PathBuf>, String> {
    let base = format!("slotscope-{}-{}", file_safe(scenario), utc_stamp(secs));
    let (txt, json) = free_names(dir, &base);
    let body = serde_json::to_string_pretty(doc).map_err(|e| e.to_string())? + "\n";
    write_atomically(&txt, text.as_bytes())?;
    write_atomically(&json, body.as_bytes())?;
    Ok(vec![txt, json])
}

/// `base.txt`/`base.json`, or with `-2`, `-3`, ... if either exists (two saves in a second).
fn free_names(dir: &Path, base: &str) -> (PathBuf, PathBuf) {
    let mut n = 1;
    loop {
        let stem = if n == 1 { base.to_owned() } else { format!("{base}-{n}") };
        let (t, j) = (dir.join(format!("{stem}.txt")), dir.join(format!("{stem}.json")));
        if !t.exists() && !j.exists() {
            return (t, j);
        }
        n += 1;
    }
}

fn file_safe(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect();
    if s.is_empty() {
        "run".to_owned()
    } else {
        s
    }
}

/// `YYYYMMDD-HHMMSSZ` of `secs` since the Unix epoch (UTC).
pub fn utc_stamp(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}{m:02}{d:02}-{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar (Howard
/// Hinnant's algorithm: eras of 400 years, years starting in March).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, u32::try_from(m).unwrap_or(1), u32::try_from(d).unwrap_or(1))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    crate::output::write_atomically(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// The screen as drawn now, as plain text (trailing spaces trimmed).
pub fn screen_text(model: &Model) -> String {
    let extras = model.extras();
    dashboard_text(&model.dashboard(&extras), model.area)
}

/// `dashboard` drawn in `area` (120x40 if empty), as plain text (trailing spaces trimmed).
pub fn dashboard_text(dashboard: &slotscope_views::Dashboard<'_>, area: Rect) -> String {
    let area = if area.is_empty() { Rect::new(0, 0, 120, 40) } else { area };
    let mut buf = Buffer::empty(area);
    dashboard.render(area, &mut buf);
    let mut out = String::new();
    for y in 0..area.height {
        let row: String = (0..area.width).map(|x| buf[(x, y)].symbol()).collect();
        out.push_str(row.trim_end());
        out.push('\n');
    }
    out
}

fn percentiles(p: &Percentiles) -> Value {
    json!({
        "timed": p.count, "p50_ns": p.p50, "p90_ns": p.p90, "p99_ns": p.p99,
        "p99_9_ns": p.p999, "p99_99_ns": p.p9999, "max_ns": p.max,
    })
}

pub(crate) fn latency(l: &LatencyStats) -> Value {
    let mut ops = serde_json::Map::new();
    for op in Op::ALL {
        let o = l.op(op);
        // The words of the TUI and the text: in open loop `interval` and `run` are corrected
        // from intended start, and the service times are beside them.
        let measures = if l.open_loop { "open loop, corrected from intended start" } else { "service time" };
        let mut v = json!({
            "measures": measures,
            "interval": percentiles(&o.interval),
            "run": percentiles(&o.run),
        });
        if l.open_loop {
            v["interval_service_time"] = percentiles(&o.interval_uncorrected);
            v["run_service_time"] = percentiles(&o.run_uncorrected);
        }
        ops.insert(op.name().to_owned(), v);
    }
    json!({
        "open_loop": l.open_loop,
        "corrected_for_coordinated_omission": l.open_loop,
        "timed_every": l.timed_every,
        "timer_cost_ns": l.timer_cost_ns,
        "ops": ops,
    })
}

pub(crate) fn threads(t: &ThreadTable) -> Value {
    let rows: Vec<Value> = t
        .rows
        .iter()
        .map(|r| {
            json!({
                "index": r.index, "group": t.group_name(r.group), "core": r.core,
                "ops_per_s": r.ops_per_s, "lookups": r.lookups, "inserts": r.inserts,
                "removes": r.removes, "hits": r.hits, "misses": r.misses,
                "ticket_skips": r.ticket_skips, "ring_retries": r.ring_retries,
                "full_refusals": r.full_refusals, "stale_rejections": r.stale_rejections,
                "violations": r.violations,
            })
        })
        .collect();
    Value::Array(rows)
}

pub(crate) fn heat(h: &LineHeat) -> Value {
    let mut hot: Vec<(usize, u32, u8)> = (0..h.slots.writes.len())
        .map(|l| (l, h.slots.writes(l), h.slots.writers(l)))
        .filter(|&(_, w, _)| w > 0)
        .collect();
    hot.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    hot.truncate(HOT_LINES);
    json!({
        "measured": h.measured,
        "interval_ns": h.interval_ns,
        "header_writes": h.header_writes,
        "header_writers": h.header_writers,
        "hottest_slot_lines": hot.iter().map(|&(l, w, n)| json!({"line": l, "writes": w, "writers": n}))
            .collect::<Vec<_>>(),
    })
}

pub(crate) fn table(s: &Snapshot) -> Value {
    let g = s.geometry();
    // One character a slot keeps a 2^20-slot table's states at 1 MiB of JSON.
    let states: String = s
        .states()
        .iter()
        .map(|st| match st {
            SlotState::Free => '.',
            SlotState::Reserved => 'r',
            SlotState::Occupied => 'o',
        })
        .collect();
    let generations: Vec<Option<u64>> = (0..g.capacity()).map(|i| s.generation(i)).collect();
    let next: Vec<Value> = s
        .next_ids(NEXT_IDS)
        .map(|(ticket, key)| match key {
            Some(k) => json!({
                "ticket": ticket, "id": g.id_of(k), "slot": k.slot(),
                "line": g.line_of_slot(k.slot()), "generation": k.generation(),
            }),
            None => json!({ "ticket": ticket, "id": null }),
        })
        .collect();
    json!({
        "capacity": g.capacity(),
        "layout": g.layout().name(),
        "line_bytes": g.line_bytes(),
        "slots_per_line": g.slots_per_line(),
        "lines": g.lines(),
        "variant": s.variant().name(),
        "count": s.count(),
        "alloc_cursor": s.alloc_cursor(),
        "free_cursor": s.free_cursor(),
        "occupied": s.occupied(),
        "free": s.free(),
        "reserved": s.reserved(),
        "states_legend": "one character per slot in slot order: o occupied, . free, r reserved",
        "states": states,
        "generations": generations,
        "next_ids": next,
    })
}

/// The shown frame's data as one JSON document.
pub fn screen_json(model: &Model, saved_unix_s: u64) -> Value {
    let f = model.shown();
    let h = &f.header;
    json!({
        "schema": "slotscope-screen",
        "schema_version": SCREEN_SCHEMA_VERSION,
        "tool_version": env!("CARGO_PKG_VERSION"),
        "saved_unix_s": saved_unix_s,
        "screen": model.view.screen.name(),
        "frozen": model.frozen.is_some(),
        "frames_before_newest": model.frozen.unwrap_or(0),
        "sample": f.seq,
        "run": {
            "scenario": h.scenario, "phase": h.phase,
            "elapsed_ns": u64::try_from(h.elapsed.as_nanos()).unwrap_or(u64::MAX),
            "duration_ns": h.duration.map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
            "ops_per_s": h.ops_per_s, "threads": h.threads, "len": h.len, "capacity": h.capacity,
            "backend": h.backend, "variant": h.variant.name(), "paused": h.paused,
            "violations": h.violations, "sampler_cost_pct_of_a_core": h.sampler_cost_pct,
        },
        "threads": threads(&f.threads),
        "latency": latency(&f.latency),
        "heat": heat(&f.heat),
        "table": f.snapshot.as_deref().map(table),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn utc_stamps_are_civil_dates() {
        assert_eq!(utc_stamp(0), "19700101-000000Z");
        // 2000-02-29 12:34:56 UTC (a leap day in a year divisible by 400).
        assert_eq!(utc_stamp(951_827_696), "20000229-123456Z");
        // 2024-12-31 23:59:59 UTC.
        assert_eq!(utc_stamp(1_735_689_599), "20241231-235959Z");
    }

    #[test]
    fn names_are_file_safe_and_never_clobber() {
        assert_eq!(file_safe("my scen/../x"), "my_scen____x");
        assert_eq!(file_safe(""), "run");
        let dir = tempfile::tempdir().unwrap();
        let (t, j) = free_names(dir.path(), "a");
        assert_eq!(t.file_name().unwrap(), "a.txt");
        fs::write(&j, "x").unwrap();
        let (t2, _) = free_names(dir.path(), "a");
        assert_eq!(t2.file_name().unwrap(), "a-2.txt", "an existing .json also takes the name");
    }

    #[test]
    fn atomic_writes_leave_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.txt");
        write_atomically(&p, b"hello").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "hello");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let bad = dir.path().join("no-such-dir").join("y.txt");
        let e = write_atomically(&bad, b"x").unwrap_err();
        assert!(e.contains("y.txt"), "{e}");
    }
}
