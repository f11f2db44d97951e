//! A sweep laid out as numbered runs: every (point, replication) pair gets a
//! stable `run_index = point * replications + replication` and a seed.

use sysdes_kernel::stable_hash;
use sysdes_models::ModelSpec;
use sysdes_scenario::{
    LoadOptions, LoadedScenario, ScenarioError, SeedMode, SweepDefinition, load_point,
};

/// One run of a sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunId {
    /// `point * replications + replication`.
    pub run_index: u64,
    /// The point (combination of values), from 0.
    pub point: usize,
    /// The replication at that point, from 0.
    pub replication: u32,
    /// The root seed of the run.
    pub seed: u64,
}

/// The seed of a run.
///
/// With [`SeedMode::Common`] replication 0 keeps the scenario's seed (so a
/// one-replication sweep matches `sysdes run` at the same values) and
/// replication `r > 0` gets a seed hashed from `(seed, r)`: the same at
/// every point, which is what common random numbers means. With
/// [`SeedMode::Independent`] the seed is hashed from `(seed, run_index)`.
pub fn run_seed(base: u64, mode: SeedMode, replication: u32, run_index: u64) -> u64 {
    match mode {
        SeedMode::Common if replication == 0 => base,
        SeedMode::Common => {
            stable_hash(format!("sysdes-sweep:{base}:replication:{replication}").as_bytes())
        }
        SeedMode::Independent => {
            stable_hash(format!("sysdes-sweep:{base}:run:{run_index}").as_bytes())
        }
    }
}

/// A sweep ready to run: the model of every point, loaded and validated.
#[derive(Clone, Debug)]
pub struct SweepPlan {
    /// The scenario as loaded (before the sweep's values).
    pub base: LoadedScenario,
    /// The `--set` overrides the sweep was loaded with.
    pub overrides: Vec<String>,
    /// The sweep definition.
    pub definition: SweepDefinition,
    /// The model of each point, seed not yet set.
    pub points: Vec<ModelSpec>,
    /// The declared costs of each point (empty where none).
    pub costs: Vec<sysdes_cost::CostSpec>,
    /// The `expect:` targets of each point (empty where none): every run
    /// is checked against them (`targets_met`, `targets_missed`).
    pub targets: Vec<Vec<sysdes_models::expect_spec::Target>>,
}

impl SweepPlan {
    /// Loads every point of `definition` on top of `base`; any invalid value
    /// is reported (with its position in the `sweep:` block) before anything runs.
    pub fn new(
        base: LoadedScenario,
        options: &LoadOptions,
        definition: SweepDefinition,
    ) -> Result<SweepPlan, ScenarioError> {
        let n = definition.point_count();
        let mut points = Vec::with_capacity(n);
        let mut costs = Vec::with_capacity(n);
        let mut targets = Vec::with_capacity(n);
        for p in 0..n {
            let point = load_point(&base, options, &definition, p)?;
            points.push(point.spec);
            costs.push(point.cost);
            targets.push(point.expect);
        }
        Ok(SweepPlan {
            base,
            overrides: options.overrides.clone(),
            definition,
            points,
            costs,
            targets,
        })
    }

    /// Number of runs: points × replications.
    pub fn run_count(&self) -> u64 {
        self.points.len() as u64 * u64::from(self.definition.replications.max(1))
    }

    /// The run with index `run_index`, if it exists.
    pub fn run(&self, run_index: u64) -> Option<RunId> {
        if run_index >= self.run_count() {
            return None;
        }
        let k = u64::from(self.definition.replications.max(1));
        let point = usize::try_from(run_index / k).ok()?;
        let replication = u32::try_from(run_index % k).ok()?;
        Some(RunId {
            run_index,
            point,
            replication,
            seed: run_seed(
                self.base.spec.seed,
                self.definition.seeds,
                replication,
                run_index,
            ),
        })
    }

    /// The model of run `run`, with its seed.
    pub fn spec(&self, run: &RunId) -> Option<ModelSpec> {
        self.points.get(run.point).map(|spec| {
            let mut spec = spec.clone();
            spec.seed = run.seed;
            spec
        })
    }

    /// `(path, value text)` of each varied path at `point`.
    pub fn params(&self, point: usize) -> Vec<(String, String)> {
        self.definition
            .choice(point)
            .iter()
            .zip(&self.definition.vary)
            .map(|(&i, v)| {
                (
                    v.path.clone(),
                    v.values.get(i).map(|x| x.text.clone()).unwrap_or_default(),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_seeds_repeat_across_points() {
        assert_eq!(run_seed(7, SeedMode::Common, 0, 40), 7);
        assert_eq!(
            run_seed(7, SeedMode::Common, 3, 3),
            run_seed(7, SeedMode::Common, 3, 43)
        );
        assert_ne!(
            run_seed(7, SeedMode::Independent, 3, 3),
            run_seed(7, SeedMode::Independent, 3, 43)
        );
        assert_ne!(
            run_seed(7, SeedMode::Common, 1, 1),
            run_seed(8, SeedMode::Common, 1, 1)
        );
    }
}
