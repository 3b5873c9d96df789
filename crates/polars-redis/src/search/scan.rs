//! The scan builders' RediSearch methods: [`ScanOptions::with_search`]
//! sets the index as the key source of pattern scans, and `search_plan`
//! tells how a scan would use it.

use std::sync::Arc;

use super::plan::{explain, SearchOptions, SearchPlan, SearchSource};
use crate::error::Result;
use crate::net::runtime::runtime;
use crate::read::keys::KeySelection;
use crate::read::scan::{Plan, ScanBuilder, ScanOptions};

impl ScanOptions {
    /// Let a RediSearch index produce the keys (see [`SearchOptions`]).
    pub fn with_search(mut self, search: SearchOptions) -> Self {
        self.key_planner = Some(Arc::new(search));
        self
    }

    /// The search settings, when [`ScanOptions::with_search`] set some.
    fn search(&self) -> Option<&SearchOptions> {
        let planner = self.key_planner.as_deref()?;
        planner.as_any().downcast_ref()
    }
}

impl<K> ScanBuilder<K> {
    /// Let a RediSearch index produce the keys (see [`ScanOptions::with_search`]).
    pub fn with_search(mut self, search: SearchOptions) -> Self {
        self.options = self.options.with_search(search);
        self
    }
}

// `Plan` is crate-private on purpose, as for `build`.
#[allow(private_bounds)]
impl<K: Plan> ScanBuilder<K> {
    /// How the scan would use RediSearch (which index, which query), without reading data.
    pub fn search_plan(&self) -> Result<SearchPlan> {
        self.layout()?;
        let source = match self.options.search() {
            Some(search) => SearchSource::new(search, self.scan_facts()?)?,
            None => None,
        };
        let Some(source) = source else {
            return Ok(SearchPlan::off());
        };
        let pattern = match self.options.narrowed_selection() {
            (KeySelection::Pattern(pattern), _) => pattern,
            (KeySelection::Keys(_) | KeySelection::Query(_), _) => {
                return Ok(SearchPlan::keys_listed())
            }
        };
        runtime().block_on(explain(&source, &pattern))
    }
}
