//! Download progress: sources report it, their caller shows it.
//!
//! A source that downloads (an OCI registry, later a warg one) prints
//! nothing: it tells a [`Progress`] the caller gave it, when it has one,
//! how each download goes. The command line draws a bar on a terminal; a
//! loader may log, count or ignore; with no [`Progress`] (the default of
//! every source) nothing is reported.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use warg_depsolve_registry::progress::{Download, Progress};
//!
//! /// Remembers each download's last count.
//! #[derive(Default)]
//! struct Log(Arc<Mutex<Vec<String>>>);
//!
//! struct Entry(Arc<Mutex<Vec<String>>>, String, u64);
//!
//! impl Progress for Log {
//!     fn download(&self, registry: &str, item: &str, _total: Option<u64>) -> Box<dyn Download> {
//!         Box::new(Entry(self.0.clone(), format!("{item} from {registry}"), 0))
//!     }
//! }
//!
//! impl Download for Entry {
//!     fn received(&mut self, bytes: u64) {
//!         self.2 = bytes;
//!     }
//!     fn finish(self: Box<Self>) {
//!         self.0.lock().unwrap().push(format!("{}: {} bytes", self.1, self.2));
//!     }
//!     fn abandon(self: Box<Self>) {}
//! }
//!
//! let log = Log::default();
//! let mut download = log.download("ghcr.io", "acme:kv@1.0.0", Some(3));
//! download.received(3);
//! download.finish();
//! assert_eq!(*log.0.lock().unwrap(), ["acme:kv@1.0.0 from ghcr.io: 3 bytes"]);
//! ```

/// Where a source reports its downloads. Shared by the source's threads,
/// so it is `Send + Sync`; each download gets a [`Download`] of its own.
pub trait Progress: Send + Sync {
    /// A download of `item` (`acme:kv@1.2.0`, or `acme:kv` when the version
    /// is not known) from the registry named `registry` begins; `total` is
    /// its size in bytes when the registry said it.
    fn download(&self, registry: &str, item: &str, total: Option<u64>) -> Box<dyn Download>;
}

/// One download in progress. A source calls [`Download::received`] as
/// bytes arrive, then exactly one of [`Download::finish`] and
/// [`Download::abandon`].
pub trait Download: Send {
    /// `bytes` have arrived so far (a running total, not an increment).
    fn received(&mut self, bytes: u64);
    /// Every byte arrived. A bar is cleared away: the download is done.
    fn finish(self: Box<Self>);
    /// The download stopped short (a timeout, a broken connection, a
    /// digest mismatch; the source may try again with a new
    /// [`Progress::download`]). A bar is left where it stopped.
    fn abandon(self: Box<Self>);
}
