//! Which cores share a last-level cache or a NUMA node, read from Linux's `/sys`.
//!
//! - L3 domains: `sys/devices/system/cpu/cpuN/cache/indexK/shared_cpu_list` of the index whose
//!   `level` is 3 (`index3` when there is no `level` file).
//! - NUMA nodes: `sys/devices/system/node/nodeM/cpulist`.
//!
//! Everything is read under a root directory (`/` normally, a temp dir in tests). Missing files
//! are not errors: the topology falls back to one group and says so.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::Path;

use serde::Serialize;

/// What the cores were grouped by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grouping {
    /// By shared L3 cache.
    L3,
    /// By NUMA node (no L3 information).
    Numa,
    /// By NUMA node, then by L3 within it.
    NumaL3,
    /// Nothing found: one group of all cores.
    Single,
}

impl Grouping {
    /// The name reports print.
    pub const fn name(self) -> &'static str {
        match self {
            Grouping::L3 => "l3",
            Grouping::Numa => "numa",
            Grouping::NumaL3 => "numa+l3",
            Grouping::Single => "single",
        }
    }
}

impl fmt::Display for Grouping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Cores that share a domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CoreGroup {
    /// The NUMA node, when known.
    pub node: Option<usize>,
    /// The lowest-numbered core sharing this L3 (an id for the cache), when known.
    pub l3: Option<usize>,
    /// The cores, ascending.
    pub cores: Vec<usize>,
}

/// The available cores, grouped by cache / NUMA domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Topology {
    /// What the groups are.
    pub grouping: Grouping,
    /// Groups in order of their first core.
    pub groups: Vec<CoreGroup>,
}

/// A malformed CPU list (e.g. `"0-3,x"`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad CPU list `{given}`: {reason}")]
pub struct CpuListError {
    /// The text.
    pub given: String,
    /// What is wrong.
    pub reason: String,
}

/// Parses Linux's CPU list format: `0-3,8,10-11` (whitespace around items ignored). The result
/// is ascending and without duplicates.
///
/// # Errors
/// [`CpuListError`] for anything but numbers, `a-b` ranges with `a <= b`, and commas.
pub fn parse_cpu_list(text: &str) -> Result<Vec<usize>, CpuListError> {
    let err = |reason: String| CpuListError { given: text.to_owned(), reason };
    let mut cores = Vec::new();
    for item in text.trim().split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let number =
            |s: &str| s.trim().parse::<usize>().map_err(|_| err(format!("`{s}` is not a core number")));
        match item.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (number(a)?, number(b)?);
                if a > b {
                    return Err(err(format!("range `{item}` runs backwards")));
                }
                cores.extend(a..=b);
            }
            None => cores.push(number(item)?),
        }
    }
    cores.sort_unstable();
    cores.dedup();
    Ok(cores)
}

/// The L3 domain id (its lowest core) of `core`, if the files say.
fn l3_of(root: &Path, core: usize) -> Option<usize> {
    let cache = root.join(format!("sys/devices/system/cpu/cpu{core}/cache"));
    let mut fallback = None;
    for entry in fs::read_dir(&cache).ok()?.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with("index") {
            continue;
        }
        let shared = || {
            fs::read_to_string(entry.path().join("shared_cpu_list"))
                .ok()
                .and_then(|t| parse_cpu_list(&t).ok())
                .and_then(|cores| cores.first().copied())
        };
        match fs::read_to_string(entry.path().join("level")) {
            Ok(level) if level.trim() == "3" => return shared(),
            Ok(_) => {}
            Err(_) if name == "index3" => fallback = shared(),
            Err(_) => {}
        }
    }
    fallback
}

/// Core -> NUMA node, from the node directories.
fn numa_nodes(root: &Path) -> BTreeMap<usize, usize> {
    let mut map = BTreeMap::new();
    let Ok(dir) = fs::read_dir(root.join("sys/devices/system/node")) else { return map };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(node) = name.to_str().and_then(|n| n.strip_prefix("node")).and_then(|n| n.parse().ok())
        else {
            continue;
        };
        let Ok(text) = fs::read_to_string(entry.path().join("cpulist")) else { continue };
        for core in parse_cpu_list(&text).unwrap_or_default() {
            map.insert(core, node);
        }
    }
    map
}

/// The pairs of `cores` that are SMT siblings (two hardware threads of one physical core), by
/// `sys/devices/system/cpu/cpuN/topology/thread_siblings_list` under `root`; a core without
/// the file has no known sibling. Two threads on siblings share the L1 and L2, so a line they
/// both write never travels: false sharing does not show between them.
pub fn smt_sibling_pairs(root: &Path, cores: &[usize]) -> Vec<(usize, usize)> {
    let mut cores = cores.to_vec();
    cores.sort_unstable();
    cores.dedup();
    let mut out = Vec::new();
    for (i, &a) in cores.iter().enumerate() {
        let path = root.join(format!("sys/devices/system/cpu/cpu{a}/topology/thread_siblings_list"));
        let Ok(text) = fs::read_to_string(path) else { continue };
        let siblings = parse_cpu_list(text.trim()).unwrap_or_default();
        out.extend(cores[i + 1..].iter().filter(|b| siblings.contains(b)).map(|&b| (a, b)));
    }
    out
}

impl Topology {
    /// Groups `available` cores by what the files under `root` say.
    pub fn read(root: &Path, available: &[usize]) -> Topology {
        let mut cores: Vec<usize> = available.to_vec();
        cores.sort_unstable();
        cores.dedup();
        let l3: Vec<Option<usize>> = cores.iter().map(|&c| l3_of(root, c)).collect();
        let nodes = numa_nodes(root);
        let node: Vec<Option<usize>> = cores.iter().map(|c| nodes.get(c).copied()).collect();

        let have_l3 = !cores.is_empty() && l3.iter().all(Option::is_some);
        let distinct_nodes = {
            let mut n: Vec<usize> = node.iter().flatten().copied().collect();
            n.sort_unstable();
            n.dedup();
            n.len()
        };
        let have_numa = !cores.is_empty() && node.iter().all(Option::is_some) && distinct_nodes > 1;
        let grouping = match (have_numa, have_l3) {
            (true, true) => Grouping::NumaL3,
            (true, false) => Grouping::Numa,
            (false, true) => Grouping::L3,
            (false, false) => Grouping::Single,
        };

        let mut groups: BTreeMap<(Option<usize>, Option<usize>), Vec<usize>> = BTreeMap::new();
        for (i, &core) in cores.iter().enumerate() {
            let key = match grouping {
                Grouping::NumaL3 => (node[i], l3[i]),
                Grouping::Numa => (node[i], None),
                Grouping::L3 => (None, l3[i]),
                Grouping::Single => (None, None),
            };
            groups.entry(key).or_default().push(core);
        }
        let mut groups: Vec<CoreGroup> =
            groups.into_iter().map(|((node, l3), cores)| CoreGroup { node, l3, cores }).collect();
        groups.sort_by_key(|g| g.cores.first().copied());
        Topology { grouping, groups }
    }

    /// This machine's topology over `available` cores (root `/`).
    pub fn detect(available: &[usize]) -> Topology {
        Topology::read(Path::new("/"), available)
    }

    /// One group of all `available` cores.
    pub fn single(available: &[usize]) -> Topology {
        let mut cores = available.to_vec();
        cores.sort_unstable();
        cores.dedup();
        Topology { grouping: Grouping::Single, groups: vec![CoreGroup { node: None, l3: None, cores }] }
    }

    /// Every core, group after group (compact order).
    pub fn compact_order(&self) -> Vec<usize> {
        self.groups.iter().flat_map(|g| g.cores.iter().copied()).collect()
    }

    /// One core of each group in turn (scatter order): the first of each group, then the
    /// second of each, and so on, skipping groups that ran out.
    pub fn scatter_order(&self) -> Vec<usize> {
        let longest = self.groups.iter().map(|g| g.cores.len()).max().unwrap_or(0);
        (0..longest).flat_map(|i| self.groups.iter().filter_map(move |g| g.cores.get(i).copied())).collect()
    }

    /// All cores, ascending.
    pub fn cores(&self) -> Vec<usize> {
        let mut all = self.compact_order();
        all.sort_unstable();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_parse() {
        assert_eq!(parse_cpu_list("0-3,8,10-11\n").unwrap(), [0, 1, 2, 3, 8, 10, 11]);
        assert_eq!(parse_cpu_list(" 5 ").unwrap(), [5]);
        assert_eq!(parse_cpu_list("3,1,1-2").unwrap(), [1, 2, 3]);
        assert_eq!(parse_cpu_list("").unwrap(), Vec::<usize>::new());
        assert!(parse_cpu_list("0-x").unwrap_err().to_string().contains("`x` is not a core number"));
        assert!(parse_cpu_list("4-2").unwrap_err().to_string().contains("runs backwards"));
    }

    /// A fake `/sys` with two sockets (NUMA nodes), each with one L3 over four cores.
    fn fake_sys(with_numa: bool, with_level: bool) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for core in 0..8usize {
            let l3 = if core < 4 { "0-3" } else { "4-7" };
            let cache = dir.path().join(format!("sys/devices/system/cpu/cpu{core}/cache"));
            for (index, level, shared) in [
                ("index0", "1", core.to_string()),
                ("index2", "2", core.to_string()),
                ("index3", "3", l3.into()),
            ] {
                let d = cache.join(index);
                fs::create_dir_all(&d).unwrap();
                fs::write(d.join("shared_cpu_list"), format!("{shared}\n")).unwrap();
                if with_level {
                    fs::write(d.join("level"), format!("{level}\n")).unwrap();
                }
            }
        }
        if with_numa {
            for (node, list) in [(0, "0-3"), (1, "4-7")] {
                let d = dir.path().join(format!("sys/devices/system/node/node{node}"));
                fs::create_dir_all(&d).unwrap();
                fs::write(d.join("cpulist"), list).unwrap();
            }
            fs::write(dir.path().join("sys/devices/system/node/possible"), "0-1").unwrap();
        }
        dir
    }

    #[test]
    fn reads_l3_and_numa_groups() {
        let sys = fake_sys(true, true);
        let t = Topology::read(sys.path(), &[0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(t.grouping, Grouping::NumaL3);
        assert_eq!(t.groups.len(), 2);
        assert_eq!(t.groups[0], CoreGroup { node: Some(0), l3: Some(0), cores: vec![0, 1, 2, 3] });
        assert_eq!(t.groups[1], CoreGroup { node: Some(1), l3: Some(4), cores: vec![4, 5, 6, 7] });
        assert_eq!(t.scatter_order(), [0, 4, 1, 5, 2, 6, 3, 7]);
        assert_eq!(t.compact_order(), [0, 1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn l3_alone_without_level_files_uses_index3() {
        let sys = fake_sys(false, false);
        let t = Topology::read(sys.path(), &[1, 2, 5]);
        assert_eq!(t.grouping, Grouping::L3);
        let cores: Vec<&[usize]> = t.groups.iter().map(|g| g.cores.as_slice()).collect();
        assert_eq!(cores, [&[1, 2][..], &[5][..]]);
    }

    #[test]
    fn nothing_found_is_one_group() {
        let empty = tempfile::tempdir().unwrap();
        let t = Topology::read(empty.path(), &[3, 0, 1]);
        assert_eq!(t, Topology::single(&[0, 1, 3]));
        assert_eq!(t.grouping.name(), "single");
    }

    #[test]
    fn uneven_groups_scatter_skips_exhausted_ones() {
        let t = Topology {
            grouping: Grouping::L3,
            groups: vec![
                CoreGroup { node: None, l3: Some(0), cores: vec![0, 1, 2] },
                CoreGroup { node: None, l3: Some(3), cores: vec![3] },
            ],
        };
        assert_eq!(t.scatter_order(), [0, 3, 1, 2]);
    }

    #[test]
    fn smt_siblings_are_read_from_sys() {
        let dir = std::env::temp_dir().join(format!("slotscope-smt-{}", std::process::id()));
        for (cpu, list) in [(0, "0,2"), (1, "1,3"), (2, "0,2"), (3, "1,3")] {
            let d = dir.join(format!("sys/devices/system/cpu/cpu{cpu}/topology"));
            fs::create_dir_all(&d).unwrap();
            fs::write(d.join("thread_siblings_list"), format!("{list}\n")).unwrap();
        }
        assert_eq!(smt_sibling_pairs(&dir, &[0, 1]), []);
        assert_eq!(smt_sibling_pairs(&dir, &[2, 0, 1]), [(0, 2)]);
        assert_eq!(smt_sibling_pairs(&dir, &[0, 1, 2, 3]), [(0, 2), (1, 3)]);
        assert_eq!(smt_sibling_pairs(&dir, &[7, 8]), [], "no files: no known siblings");
        let _ = fs::remove_dir_all(&dir);
    }
}
