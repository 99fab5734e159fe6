//! Where each worker runs: pin policies mapped onto the cores this process may use.
//!
//! - `none`: not pinned.
//! - `compact`: global thread i on the i-th core in compact order (one cache domain filled
//!   before the next), wrapping around when there are more threads than cores.
//! - `scatter`: global thread i on the i-th core in scatter order (one core of each domain in
//!   turn), wrapping likewise.
//! - a list: thread j of the group on `cores[j % len]`; every listed core must be available.
//!
//! With a spare core asked for, the last core in compact order is kept free of `compact` and
//! `scatter` workers (for the UI and the sampler); an explicit list is obeyed as given.

use crate::machine::topology::Topology;
use crate::scenario::spec::PinPolicy;

/// A pin request that cannot be met.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    /// A listed core is not one this process may run on.
    #[error(
        "core {core} is not available to this process (available: {})",
        .available.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
    )]
    CoreNotAvailable {
        /// The core asked for.
        core: usize,
        /// The cores that are available.
        available: Vec<usize>,
    },
    /// An empty core list.
    #[error("the core list is empty")]
    EmptyList,
}

/// The cores usable by workers, in the orders the policies use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorePlan {
    available: Vec<usize>,
    compact: Vec<usize>,
    scatter: Vec<usize>,
    spare: Option<usize>,
}

impl CorePlan {
    /// The plan over `topology`'s cores, keeping one spare core if asked and there are at
    /// least two.
    pub fn new(topology: &Topology, spare_core: bool) -> CorePlan {
        let available = topology.cores();
        let mut compact = topology.compact_order();
        let mut scatter = topology.scatter_order();
        let spare = if spare_core && compact.len() >= 2 { compact.pop() } else { None };
        if let Some(s) = spare {
            scatter.retain(|&c| c != s);
        }
        CorePlan { available, compact, scatter, spare }
    }

    /// Every core this process may use.
    pub fn available(&self) -> &[usize] {
        &self.available
    }

    /// The core kept free of workers, if any.
    pub fn spare(&self) -> Option<usize> {
        self.spare
    }

    /// How many cores `compact` / `scatter` workers spread over.
    pub fn worker_cores(&self) -> usize {
        self.compact.len()
    }

    /// Checks a policy without placing anyone.
    ///
    /// # Errors
    /// [`PinError`] for an empty list or a listed core that is not available.
    pub fn check(&self, policy: &PinPolicy) -> Result<(), PinError> {
        if let PinPolicy::Cores(list) = policy {
            if list.is_empty() {
                return Err(PinError::EmptyList);
            }
            if let Some(&core) = list.iter().find(|c| !self.available.contains(c)) {
                return Err(PinError::CoreNotAvailable { core, available: self.available.clone() });
            }
        }
        Ok(())
    }

    /// The core for global thread `global`, the `in_group`-th of its group; `None` when not
    /// pinned.
    ///
    /// # Errors
    /// As [`CorePlan::check`].
    pub fn core_for(
        &self,
        policy: &PinPolicy,
        global: usize,
        in_group: usize,
    ) -> Result<Option<usize>, PinError> {
        self.check(policy)?;
        Ok(match policy {
            PinPolicy::None => None,
            PinPolicy::Compact => pick(&self.compact, global),
            PinPolicy::Scatter => pick(&self.scatter, global),
            PinPolicy::Cores(list) => pick(list, in_group),
        })
    }
}

fn pick(order: &[usize], i: usize) -> Option<usize> {
    (!order.is_empty()).then(|| order[i % order.len()])
}

/// The cores this process may run on (its affinity mask), or `0 .. available_parallelism`
/// when that cannot be read.
pub fn available_cores() -> Vec<usize> {
    match core_affinity::get_core_ids() {
        Some(ids) if !ids.is_empty() => {
            let mut cores: Vec<usize> = ids.into_iter().map(|c| c.id).collect();
            cores.sort_unstable();
            cores
        }
        _ => (0..std::thread::available_parallelism().map_or(1, usize::from)).collect(),
    }
}

/// Pins the calling thread to `core`; false if the OS refused.
pub fn pin_current_thread(core: usize) -> bool {
    core_affinity::set_for_current(core_affinity::CoreId { id: core })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::topology::{CoreGroup, Grouping};

    fn two_sockets() -> Topology {
        Topology {
            grouping: Grouping::NumaL3,
            groups: vec![
                CoreGroup { node: Some(0), l3: Some(0), cores: vec![0, 1, 2, 3] },
                CoreGroup { node: Some(1), l3: Some(4), cores: vec![4, 5, 6, 7] },
            ],
        }
    }

    fn cores(plan: &CorePlan, policy: &PinPolicy, n: usize) -> Vec<Option<usize>> {
        (0..n).map(|i| plan.core_for(policy, i, i).unwrap()).collect()
    }

    #[test]
    fn compact_fills_a_domain_first_and_scatter_alternates() {
        let plan = CorePlan::new(&two_sockets(), false);
        let c = |v: &[usize]| v.iter().map(|&x| Some(x)).collect::<Vec<_>>();
        assert_eq!(cores(&plan, &PinPolicy::Compact, 5), c(&[0, 1, 2, 3, 4]));
        assert_eq!(cores(&plan, &PinPolicy::Scatter, 5), c(&[0, 4, 1, 5, 2]));
        assert_eq!(cores(&plan, &PinPolicy::None, 2), [None, None]);
    }

    #[test]
    fn more_threads_than_cores_wrap_around() {
        let plan = CorePlan::new(&Topology::single(&[0, 1]), false);
        assert_eq!(cores(&plan, &PinPolicy::Compact, 3), [Some(0), Some(1), Some(0)]);
    }

    #[test]
    fn list_maps_by_index_in_group_and_is_checked() {
        let plan = CorePlan::new(&two_sockets(), false);
        let list = PinPolicy::Cores(vec![6, 2]);
        // Global index does not matter for a list; the index in the group does.
        assert_eq!(plan.core_for(&list, 40, 0).unwrap(), Some(6));
        assert_eq!(plan.core_for(&list, 41, 1).unwrap(), Some(2));
        assert_eq!(plan.core_for(&list, 42, 2).unwrap(), Some(6));
        let bad = plan.core_for(&PinPolicy::Cores(vec![1, 9]), 0, 0).unwrap_err();
        assert_eq!(bad, PinError::CoreNotAvailable { core: 9, available: (0..8).collect() });
        assert_eq!(bad.to_string(), "core 9 is not available to this process (available: 0,1,2,3,4,5,6,7)");
        assert_eq!(plan.check(&PinPolicy::Cores(vec![])), Err(PinError::EmptyList));
    }

    #[test]
    fn spare_core_is_kept_free_except_by_lists() {
        let plan = CorePlan::new(&two_sockets(), true);
        assert_eq!(plan.spare(), Some(7));
        assert_eq!(plan.worker_cores(), 7);
        assert!(cores(&plan, &PinPolicy::Compact, 14).iter().all(|&c| c != Some(7)));
        assert!(cores(&plan, &PinPolicy::Scatter, 14).iter().all(|&c| c != Some(7)));
        assert_eq!(plan.core_for(&PinPolicy::Cores(vec![7]), 0, 0).unwrap(), Some(7));
        // One core: nothing to spare.
        assert_eq!(CorePlan::new(&Topology::single(&[0]), true).spare(), None);
    }

    #[test]
    fn this_machine_has_cores() {
        assert!(!available_cores().is_empty());
    }
}
