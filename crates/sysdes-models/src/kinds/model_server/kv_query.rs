//! The typed query an LLM-aware balancer makes of a model server
//! (`kinds/load_balancer/llm_route.rs`): its KV blocks in use and its
//! waiting requests, read in place (two integers, nothing allocated).

use sysdes_kernel::ComponentId;

use crate::kinds::load_balancer::llm_route::KvLoad;
use crate::kinds::model_server::sim::ModelPolicy;
use crate::kinds::{Components, Resolved};

impl ModelPolicy {
    /// What an LLM-aware balancer reads: KV blocks in use over the slots
    /// and requests waiting (zero for a batching server, which the loader
    /// never puts behind such a balancer).
    #[inline]
    pub(crate) fn kv_load(&self) -> KvLoad {
        match self {
            ModelPolicy::Llm(m) => {
                let (used_blocks, waiting) = m.kv_state();
                KvLoad {
                    used_blocks,
                    waiting: waiting as u32,
                }
            }
            ModelPolicy::Batching(_) => KvLoad::default(),
        }
    }
}

impl Components {
    /// The KV load of component `id` if it is a model server (zero for
    /// any other kind, which the loader never puts behind an LLM-aware
    /// balancer).
    #[inline]
    pub(crate) fn kv_load(&self, id: ComponentId) -> KvLoad {
        match self.resolve(id) {
            Resolved::ModelServer(k) => self[k].kv_load(),
            _ => KvLoad::default(),
        }
    }
}
