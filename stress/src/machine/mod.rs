//! What the run ran on: CPU model, cores, cache and NUMA grouping.

pub mod pin;
pub mod topology;
pub mod watch;

use std::fs;
use std::path::Path;

use serde::Serialize;

use crate::machine::pin::available_cores;
use crate::machine::topology::{Grouping, Topology};

/// The machine, as reports describe it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MachineInfo {
    /// CPU model name from `/proc/cpuinfo` ("unknown" if it cannot be read).
    pub cpu_model: String,
    /// Logical cores the OS reports.
    pub logical_cores: usize,
    /// Cores this process may run on (its affinity mask).
    pub available_cores: Vec<usize>,
    /// What the cores were grouped by (for `scatter`).
    pub grouping: Grouping,
    /// The groups' cores.
    pub groups: Vec<Vec<usize>>,
    /// `std::env::consts::OS` and `ARCH`.
    pub os: String,
}

impl MachineInfo {
    /// This machine.
    pub fn detect() -> MachineInfo {
        let available = available_cores();
        let topology = Topology::detect(&available);
        let cpuinfo = fs::read_to_string(Path::new("/proc/cpuinfo")).unwrap_or_default();
        MachineInfo::from_parts(&cpuinfo, &available, &topology)
    }

    /// Built from the text of `/proc/cpuinfo`, the available cores and their topology.
    pub fn from_parts(cpuinfo: &str, available: &[usize], topology: &Topology) -> MachineInfo {
        let logical = std::thread::available_parallelism().map_or(available.len(), usize::from);
        MachineInfo {
            cpu_model: cpu_model(cpuinfo).unwrap_or_else(|| "unknown".to_owned()),
            logical_cores: logical.max(available.len()),
            available_cores: available.to_vec(),
            grouping: topology.grouping,
            groups: topology.groups.iter().map(|g| g.cores.clone()).collect(),
            os: format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
        }
    }
}

/// The CPU model in `/proc/cpuinfo` text: x86's `model name`, else ARM's `Hardware` or `CPU
/// part`-less `Model`.
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    let field = |name: &str| {
        cpuinfo.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == name && !value.trim().is_empty()).then(|| value.trim().to_owned())
        })
    };
    field("model name").or_else(|| field("Hardware")).or_else(|| field("Model"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_model_from_x86_and_arm_text() {
        let x86 =
            "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold\nflags\t: fpu\n";
        assert_eq!(cpu_model(x86).as_deref(), Some("Intel(R) Xeon(R) Gold"));
        let arm = "processor\t: 0\nBogoMIPS\t: 50.00\n\nHardware\t: BCM2835\nModel\t: Raspberry Pi 4\n";
        assert_eq!(cpu_model(arm).as_deref(), Some("BCM2835"));
        assert_eq!(cpu_model("processor : 0\n"), None);
    }

    #[test]
    fn from_parts_echoes_the_topology() {
        let t = Topology::single(&[0, 1]);
        let m = MachineInfo::from_parts("model name : Test CPU\n", &[0, 1], &t);
        assert_eq!(m.cpu_model, "Test CPU");
        assert_eq!(m.grouping, Grouping::Single);
        assert_eq!(m.groups, [vec![0, 1]]);
        assert!(m.logical_cores >= 2);
    }
}
