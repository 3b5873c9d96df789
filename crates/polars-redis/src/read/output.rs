//! What a running scan hands out: a blocking iterator or an async stream
//! of Arrow record batches.

use std::pin::Pin;
use std::task::{Context, Poll};

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, SchemaRef};
use tokio::sync::mpsc;

use crate::error::Result;
use crate::read::engine::{Fetcher, ScanJob};
use crate::read::warnings::{ScanWarning, WarningSlot};

/// A blocking iterator of record batches; [`ArrowReader`] wraps it as an
/// Arrow [`RecordBatchReader`].
///
/// Dropping it stops the scan. Do not iterate it from inside an async
/// context: use [`RecordBatchStream`] there.
pub struct RecordBatchIter {
    rx: mpsc::Receiver<Result<RecordBatch>>,
    schema: SchemaRef,
    warnings: WarningSlot,
}

impl RecordBatchIter {
    pub(crate) fn spawn<F: Fetcher>(job: ScanJob<F>, schema: SchemaRef) -> Self {
        let warnings = job.checks.slot.clone();
        let rx = job.spawn(crate::net::runtime::runtime().handle());
        RecordBatchIter {
            rx,
            schema,
            warnings,
        }
    }

    /// Batches produced by some other task.
    pub(crate) fn from_receiver(
        rx: mpsc::Receiver<Result<RecordBatch>>,
        schema: SchemaRef,
    ) -> Self {
        RecordBatchIter {
            rx,
            schema,
            warnings: WarningSlot::default(),
        }
    }

    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// What the scan warns about (see [`ScanWarning`]): complete once the
    /// iterator has returned `None` after the last batch; a scan stopped
    /// early (a row limit reached, an error) gives none.
    pub fn warnings(&self) -> Vec<ScanWarning> {
        self.warnings.get()
    }
}

impl Iterator for RecordBatchIter {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        self.rx.blocking_recv()
    }
}

/// Adapts the iterator to Arrow's reader item type (`ArrowError`).
pub struct ArrowReader(pub RecordBatchIter);

impl Iterator for ArrowReader {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0
            .next()
            .map(|r| r.map_err(|e| ArrowError::ExternalError(Box::new(e))))
    }
}

impl RecordBatchReader for ArrowReader {
    fn schema(&self) -> SchemaRef {
        self.0.schema.clone()
    }
}

/// An async stream of record batches; dropping it stops the scan.
pub struct RecordBatchStream {
    rx: mpsc::Receiver<Result<RecordBatch>>,
    schema: SchemaRef,
    warnings: WarningSlot,
}

impl RecordBatchStream {
    pub(crate) fn spawn<F: Fetcher>(job: ScanJob<F>, schema: SchemaRef) -> Self {
        let warnings = job.checks.slot.clone();
        let rx = job.spawn(&tokio::runtime::Handle::current());
        RecordBatchStream {
            rx,
            schema,
            warnings,
        }
    }

    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// What the scan warns about (see [`ScanWarning`]): complete once the
    /// stream has ended after the last batch.
    pub fn warnings(&self) -> Vec<ScanWarning> {
        self.warnings.get()
    }

    /// The next batch, or `None` at the end.
    pub async fn next_batch(&mut self) -> Option<Result<RecordBatch>> {
        self.rx.recv().await
    }
}

impl futures_core::Stream for RecordBatchStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}
