//! Scan hashes and print how many rows arrived and how fast.
//!
//! ```text
//! cargo run --release --example scan_hashes -- redis://127.0.0.1:6379 'user:*' name:String age:Int64
//! ```

use std::time::Instant;

use polars_redis::{ConnectionConfig, Field, FieldType, HashScanBuilder, TimeUnit};

fn parse_field(spec: &str) -> Result<Field, String> {
    let (name, dtype) = spec
        .split_once(':')
        .ok_or_else(|| format!("expected name:Type, got {spec}"))?;
    let field_type = match dtype {
        "String" => FieldType::Utf8,
        "Int64" => FieldType::Int64,
        "Float64" => FieldType::Float64,
        "Boolean" => FieldType::Boolean,
        "Datetime" => {
            FieldType::datetime(TimeUnit::Millisecond, None).map_err(|e| e.to_string())?
        }
        other => return Err(format!("unsupported type {other} in this example")),
    };
    Ok(Field::new(name, field_type))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let pattern = args.next().unwrap_or_else(|| "*".into());
    let schema = args
        .map(|s| parse_field(&s))
        .collect::<Result<Vec<_>, _>>()?;
    let started = Instant::now();
    let reader = HashScanBuilder::new(ConnectionConfig::from_url(&url)?, schema)
        .with_pattern(pattern)
        .build()?;
    let mut rows = 0;
    for batch in reader {
        rows += batch?.num_rows();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{rows} rows in {seconds:.3} s ({:.0} rows/s)",
        rows as f64 / seconds
    );
    Ok(())
}
