//! Reading RedisJSON documents: one row per document, `JSON.GET` per key,
//! pipelined, the reply text read straight into the column builders.
//!
//! Columns come from the document root (`$` unless told otherwise): a schema
//! field `name` reads member `name` of the root object. A column can instead
//! read its own JSONPath (`with_column_path`). Two ways to fetch:
//!
//! * document: `JSON.GET key <root>`, the whole root object, whose members
//!   are matched to the columns while it is read;
//! * paths: `JSON.GET key <root>.a <root>.b ...`, only the needed values.
//!
//! With one path the reply is the array of its matches (`[...]`), with
//! several an object keyed by path (`{"$.a":[...],"$.b":[...]}`, in no fixed
//! order). No match (`[]`) is null. A path column whose dtype is a `List`
//! and whose path can match several values (wildcards, filters, slices,
//! recursive descent) gets all matches as its list; any other column takes
//! its single match, and several matches are a parse error.
//!
//! `JSON.GET` per key (never `JSON.MGET`, which answers nil for a key of
//! another type) tells a missing key (nil: no row) from a key of another
//! type (an error reply).

mod fetcher;
mod path;
pub(crate) mod value;

use crate::error::{Error, Result};
use crate::net::config::ConnectionConfig;
use crate::net::modules::{Module, Requirement};
use crate::read::scan::{FetchContext, Plan, ScanBuilder};
use crate::read::warnings::{DeclaredField, FieldCheck, FieldNames};
use crate::types::{Field, IndexOn};
use fetcher::{JsonFetcher, RequestPlan, Source, REDIS_TYPE};
use path::{check_path, is_definite, member_path};

/// Builds a scan of RedisJSON documents, one row per document.
///
/// ```no_run
/// use polars_redis::{ConnectionConfig, Field, FieldType, JsonScanBuilder};
///
/// let config = ConnectionConfig::from_url("redis://localhost:6379")?;
/// let schema = vec![
///     Field::new("name", FieldType::Utf8),
///     Field::new("tags", FieldType::List(Box::new(FieldType::Utf8))),
///     Field::new("city", FieldType::Utf8),
/// ];
/// let reader = JsonScanBuilder::new(config, schema)
///     .with_pattern("user:*")
///     .with_column_path("city", "$.address.city")
///     .build()?;
/// for batch in reader {
///     println!("{} rows", batch?.num_rows());
/// }
/// # Ok::<(), polars_redis::Error>(())
/// ```
pub type JsonScanBuilder = ScanBuilder<JsonKind>;

/// The settings of a [`JsonScanBuilder`].
#[derive(Clone, Debug)]
pub struct JsonKind {
    schema: Vec<Field>,
    root: String,
    column_paths: Vec<(String, String)>,
    fetch: JsonFetch,
}

/// How the values are fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonFetch {
    /// The whole root object when at least half of the root-relative schema
    /// fields are needed, else one JSONPath per needed field.
    Auto,
    /// Always the whole root object (one path for the server to evaluate).
    Document,
    /// Always one JSONPath per needed field (only they cross the wire).
    Paths,
}

impl JsonScanBuilder {
    /// A scan of every JSON document (pattern `*`) with these value fields,
    /// read from the members of the document root `$`.
    pub fn new(config: ConnectionConfig, schema: Vec<Field>) -> Self {
        let kind = JsonKind {
            schema,
            root: "$".into(),
            column_paths: Vec::new(),
            fetch: JsonFetch::Auto,
        };
        ScanBuilder::with_kind(config, kind)
    }

    /// The JSONPath of the object whose members the schema fields are
    /// (default `$`). It must select at most one value per document.
    pub fn with_root_path(mut self, path: impl Into<String>) -> Self {
        self.kind.root = path.into();
        self
    }

    /// Read schema field `column` from its own JSONPath (from the document,
    /// not the root path), e.g. `("city", "$.address.city")`.
    pub fn with_column_path(mut self, column: impl Into<String>, path: impl Into<String>) -> Self {
        let column = column.into();
        let paths = &mut self.kind.column_paths;
        paths.retain(|(c, _)| *c != column);
        paths.push((column, path.into()));
        self
    }

    /// Choose how values are fetched. Default [`JsonFetch::Auto`].
    pub fn with_fetch(mut self, fetch: JsonFetch) -> Self {
        self.kind.fetch = fetch;
        self
    }
}

impl JsonKind {
    fn column_path(&self, column: &str) -> Option<&str> {
        self.column_paths
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, p)| p.as_str())
    }
}

impl Plan for JsonKind {
    type Fetcher = JsonFetcher;
    const REDIS_TYPE: &'static str = REDIS_TYPE;
    const MODULE: Option<Requirement> = Some(Requirement::new(
        Module::Json,
        "reading JSON (scan_json / read_json / iter_json)",
    ));

    fn index_on(&self) -> Option<IndexOn> {
        Some(IndexOn::Json)
    }

    /// The column's own path, or its member of the root object, in the
    /// spellings `FT.CREATE ... ON JSON` identifiers commonly take.
    fn index_identifiers(&self, column: &str) -> Vec<String> {
        if let Some((_, path)) = self.column_paths.iter().find(|(c, _)| c == column) {
            return vec![path.clone()];
        }
        let root = self.root.trim_end_matches('.');
        vec![
            format!("{root}.{column}"),
            format!("{root}[\"{column}\"]"),
            format!("{root}['{column}']"),
        ]
    }

    fn fields(&self) -> Result<Vec<Field>> {
        check_path("path", &self.root)?;
        if !is_definite(&self.root) {
            return Err(Error::InvalidArgument(format!(
                "path `{}` can select several values per document; the root path must \
                 select one object (use a column path with a List dtype to collect matches)",
                self.root
            )));
        }
        for (column, path) in &self.column_paths {
            if !self.schema.iter().any(|f| &f.name == column) {
                return Err(Error::InvalidArgument(format!(
                    "paths: column `{column}` is not in the schema (give its dtype there)"
                )));
            }
            check_path(&format!("paths[`{column}`]"), path)?;
        }
        Ok(self.schema.clone())
    }

    /// Root members by name; columns with their own path by the path,
    /// which is "not found" when it gave null in every document.
    fn field_check(&self) -> Option<FieldCheck> {
        let fields = self.schema.iter().map(|f| match self.column_path(&f.name) {
            Some(path) => DeclaredField {
                column: f.name.clone(),
                field: path.to_string(),
                what: "path",
                named: false,
            },
            None => DeclaredField::named(&f.name, "field"),
        });
        Some(FieldCheck {
            fields: fields.collect(),
            names: FieldNames::JsonMembers(self.root.clone()),
        })
    }

    fn fetcher(&self, context: FetchContext) -> Result<JsonFetcher> {
        let FetchContext {
            layout,
            wrong_type_is_error,
            ..
        } = context;
        let root_fields = self
            .schema
            .iter()
            .filter(|f| self.column_path(&f.name).is_none())
            .count();
        let needed_root = layout
            .fields
            .iter()
            .filter(|f| self.column_path(&f.name).is_none())
            .count();
        let whole_document = needed_root > 0
            && match self.fetch {
                JsonFetch::Document => true,
                JsonFetch::Paths => false,
                JsonFetch::Auto => needed_root * 2 >= root_fields,
            };
        let mut plan = RequestPlan::default();
        let root = whole_document.then(|| plan.request(&self.root));
        let mut sources = Vec::with_capacity(layout.fields.len());
        for field in &layout.fields {
            sources.push(match self.column_path(&field.name) {
                Some(path) => Source::Path {
                    request: plan.request(path),
                    definite: is_definite(path),
                },
                None if whole_document => Source::Member,
                None => Source::Path {
                    request: plan.request(&member_path(&self.root, &field.name)),
                    definite: true,
                },
            });
        }
        Ok(JsonFetcher::new(
            layout,
            plan,
            root.map(|r| (r, self.root.clone())),
            sources,
            wrong_type_is_error,
        ))
    }
}
