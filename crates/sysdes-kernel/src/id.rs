//! Dense identifiers for simulated components.

/// A dense index naming one simulated component.
///
/// Names are resolved to ids once, when a simulation is assembled; the event
/// loop then indexes vectors with them and never hashes a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ComponentId(pub u32);

impl ComponentId {
    /// The id as a vector index.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
