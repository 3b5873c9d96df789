//! The one Tokio runtime of the process, created on first use and reused.

use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};

/// The shared multi-threaded runtime that drives all I/O of the blocking API.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(2, 8);
        Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("polars-redis-io")
            .enable_io()
            .enable_time()
            .build()
            .expect("failed to start the polars-redis Tokio runtime")
    })
}
