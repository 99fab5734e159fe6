//! The scenarios that ship inside the binary. Each is also a file under `scenarios/` at the
//! root of the repository, which is what gets embedded: edit the file, rebuild.

use toml::de::{DeTable, DeValue};

/// A built-in scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Builtin {
    /// Its name (also its file stem and its `name` key).
    pub name: &'static str,
    /// The TOML text.
    pub source: &'static str,
}

impl Builtin {
    /// The one-line `description` of the scenario (empty if it has none).
    pub fn description(&self) -> String {
        let (doc, _) = DeTable::parse_recoverable(self.source);
        match doc.get_ref().get("description").map(|v| v.get_ref()) {
            Some(DeValue::String(s)) => s.to_string(),
            _ => String::new(),
        }
    }

    /// The path of its file in the repository, used as the origin in messages.
    pub fn origin(&self) -> String {
        format!("scenarios/{}.toml", self.name)
    }
}

/// The scenario the TUI runs when none is named.
pub const DEFAULT_SCENARIO: &str = "demo";

macro_rules! builtins {
    ($($name:literal),* $(,)?) => {
        /// Every built-in scenario, in the order `slotscope scenarios` lists them.
        pub const BUILTINS: &[Builtin] = &[
            $(Builtin { name: $name, source: include_str!(concat!("../../../scenarios/", $name, ".toml")) },)*
        ];
    };
}

builtins![
    "demo",
    "read-heavy",
    "churn",
    "false-sharing",
    "near-full",
    "stale-keys",
    "ring-race",
    "open-loop",
    "hot-keys"
];

/// The built-in scenario of that name.
pub fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// (name, description) of every built-in, for `slotscope scenarios`.
pub fn list() -> Vec<(&'static str, String)> {
    BUILTINS.iter().map(|b| (b.name, b.description())).collect()
}
