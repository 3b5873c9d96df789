//! The checks a write makes before anything is sent: the key and TTL
//! columns exist, every row has a key, no key repeats for one-row-per-key
//! types, every value can be formatted. What passes is a [`Job`], ready
//! for the engine.

use super::commands::Commands;
use super::conflict::{Expiry, IfExists};
use super::encode::{Encoder, GroupCtx, WriteKind};
use super::frame::{Frame, FrameCells, Groups, KeySource};
use super::options::{Ttl, WriteOptions};
use super::progress::WriteProgress;
use super::ttl::{check_ttl_type, expiries};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::net::budget::Pacer;
use crate::net::modules::Requirement;

/// A checked write, ready to send.
pub(crate) struct Job {
    pub(super) frame: Frame,
    pub(super) groups: Groups,
    pub(super) encoder: Box<dyn Encoder>,
    pub(super) expiries: Vec<Expiry>,
    pub(super) mode: IfExists,
    /// Retrying a key whose reply was lost leaves the same value.
    pub(super) idempotent: bool,
    pub(super) batch_size: usize,
    pub(super) parallelism: usize,
    /// The load budget every connection of the write shares: it sizes
    /// each batch (see [`Pacer::pipeline_len`]) and lets it through.
    pub(super) pacer: Arc<Pacer>,
    /// The module the type needs, checked on the first connection.
    pub(super) module: Option<Requirement>,
    /// Where the workers count the keys done, when the caller shows progress.
    pub(super) progress: Option<Arc<WriteProgress>>,
}

impl Job {
    /// Check the frame and key every row (nothing is sent).
    pub(crate) fn prepare<K: WriteKind>(
        options: &WriteOptions,
        kind: &K,
        frame: Frame,
    ) -> Result<Job> {
        let mut reserved = Vec::new();
        let (source, key_name) = match &options.key_column {
            Some(name) => {
                let column = frame.column(name, "key")?;
                reserved.push(column);
                (KeySource::Column(column), name.clone())
            }
            None => (KeySource::RowIndex, "row index".to_string()),
        };
        let ttl_column = match &options.ttl {
            Ttl::Column(name) => {
                let column = frame.column(name, "TTL")?;
                check_ttl_type(frame.data_type(column), name)?;
                frame.refuse_form(column, "the keys' expiry (the TTL column)")?;
                reserved.push(column);
                Some(column)
            }
            _ => None,
        };
        let encoder = kind.encoder(&frame, &reserved)?;
        let (groups, expiries) = {
            let cells = frame.cells()?;
            let groups = Groups::build(
                &frame,
                &cells,
                &source,
                &options.key_prefix,
                K::GROUPED,
                &key_name,
            )?;
            let expiries = expiries(&frame, &groups, &options.ttl, ttl_column)?;
            (groups, expiries)
        };
        let idempotent = match options.if_exists {
            IfExists::Replace => true,
            IfExists::Append => K::APPEND_IDEMPOTENT,
            IfExists::Fail | IfExists::Skip => false,
        };
        let job = Job {
            frame,
            groups,
            encoder,
            expiries,
            mode: options.if_exists,
            idempotent,
            batch_size: options.batch_size,
            parallelism: options.parallelism,
            pacer: Pacer::new(options.budget),
            module: kind.requirement(),
            progress: options.progress.clone(),
        };
        job.validate()?;
        Ok(job)
    }

    /// Check that the rows of every key encode.
    fn validate(&self) -> Result<()> {
        let cells = self.frame.cells()?;
        let mut scratch = Commands::default();
        for g in 0..self.groups.len() {
            self.encoder
                .validate(&self.group(&cells, g), &mut scratch)
                .map_err(|m| Error::InvalidArgument(format!("{m} (nothing was written)")))?;
        }
        Ok(())
    }

    /// The key of group `g`, its rows and everything needed to encode them.
    pub(super) fn group<'a>(&'a self, cells: &'a FrameCells<'a>, g: usize) -> GroupCtx<'a> {
        GroupCtx {
            frame: &self.frame,
            cells,
            key: self.groups.key(g),
            rows: self.groups.rows(g),
            mode: self.mode,
            expiry: self.expiries[g],
        }
    }
}
