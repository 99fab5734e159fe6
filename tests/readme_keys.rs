//! README.md's key tables and the code's ([`CONTROLS`], [`REPLAY_CONTROLS`], which both TUIs
//! dispatch through) list the same keys: a key added, moved or dropped in one and not in the
//! other fails here.

use std::collections::BTreeSet;

use ratatui::crossterm::event::KeyCode;
use slotscope_views::controls::{Control, CONTROLS, REPLAY_CONTROLS};

const README: &str = include_str!("../README.md");

/// A key as README spells it.
fn name(code: KeyCode) -> String {
    match code {
        KeyCode::Char(' ') => "Space".to_owned(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::F(n) => format!("F{n}"),
        KeyCode::Tab => "Tab".to_owned(),
        KeyCode::BackTab => "Shift-Tab".to_owned(),
        KeyCode::Enter => "Enter".to_owned(),
        KeyCode::Esc => "Esc".to_owned(),
        KeyCode::Left => "Left".to_owned(),
        KeyCode::Right => "Right".to_owned(),
        KeyCode::Up => "Up".to_owned(),
        KeyCode::Down => "Down".to_owned(),
        KeyCode::PageUp => "PgUp".to_owned(),
        KeyCode::PageDown => "PgDn".to_owned(),
        KeyCode::Home => "Home".to_owned(),
        KeyCode::End => "End".to_owned(),
        other => format!("{other:?}"),
    }
}

/// Every key a table binds, and Ctrl-C (which quits everywhere, outside the tables).
fn bound(table: &[Control]) -> BTreeSet<String> {
    let mut keys: BTreeSet<String> = table.iter().flat_map(|c| c.binds).map(|(k, _)| name(*k)).collect();
    keys.insert("Ctrl-C".to_owned());
    // Ctrl- keys the app reads with their modifier (Ctrl-r), named in their row.
    keys.extend(table.iter().filter(|c| c.binds.is_empty()).map(|c| c.keys.to_owned()));
    keys
}

/// The keys of the first column of the table that follows the line `header` in README.
fn readme_keys(header: &str) -> BTreeSet<String> {
    let start = README.find(header).unwrap_or_else(|| panic!("README has no table `{header}`"));
    let mut keys = BTreeSet::new();
    for line in README[start..].lines().skip(2) {
        if !line.starts_with('|') {
            break;
        }
        let cell = line.trim_start_matches('|').split(" | ").next().unwrap_or("").trim();
        let cell = cell.replace("`1`-`8`", " 1 2 3 4 5 6 7 8 ");
        let mut rest = cell.as_str();
        while let Some(c) = rest.chars().next() {
            if c == '`' {
                let end = rest[1..].find('`').expect("closed backtick") + 1;
                let inner = &rest[1..end];
                if inner == "hjkl" {
                    keys.extend(["h", "j", "k", "l"].map(String::from));
                } else {
                    keys.insert(inner.to_owned());
                }
                rest = &rest[end + 1..];
            } else if c.is_alphanumeric() {
                let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '-')).unwrap_or(rest.len());
                match &rest[..end] {
                    "arrows" => keys.extend(["Left", "Right", "Up", "Down"].map(String::from)),
                    word => {
                        keys.insert(word.to_owned());
                    }
                }
                rest = &rest[end..];
            } else {
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    keys
}

#[test]
fn the_live_key_table_in_readme_is_the_code_s() {
    assert_eq!(readme_keys("| key | what it does |"), bound(CONTROLS), "README ### Keys vs CONTROLS");
}

#[test]
fn the_replay_key_table_in_readme_is_the_code_s() {
    assert_eq!(
        readme_keys("| key | in a replay |"),
        bound(REPLAY_CONTROLS),
        "README replay keys vs REPLAY_CONTROLS"
    );
}
