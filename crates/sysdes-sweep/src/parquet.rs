//! Parquet files of typed tables ([`crate::tidy::Table`]): `runs.parquet`
//! and `summary.parquet` of a sweep, and `sysdes run --format parquet`.
//!
//! Written with the `parquet` crate's low-level column writers (no Arrow,
//! no compression codecs: the files are small and every reader opens
//! uncompressed pages), one row group, every column optional. Types:
//! [`Column::UInt`] is INT64 with the unsigned 64-bit integer logical type
//! (pandas reads `uint64`), [`Column::Float`] DOUBLE, [`Column::Text`]
//! BYTE_ARRAY with the string logical type, [`Column::Bool`] BOOLEAN.
//! The bytes depend only on the table (no timestamps), so the same sweep
//! gives the same file. This module is native only, like the crate.

use std::sync::Arc;

use parquet::basic::{LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use crate::tidy::{Column, Table};

/// The file of `runs.csv`'s columns, typed.
pub const RUNS_PARQUET: &str = "runs.parquet";
/// The file of `summary.csv`'s columns, typed.
pub const SUMMARY_PARQUET: &str = "summary.parquet";

/// Why a table could not be written as Parquet (a bug rather than a user
/// mistake: the tables are built by this crate).
#[derive(Debug, thiserror::Error)]
#[error("cannot write Parquet: {0}")]
pub struct ParquetError(#[from] parquet::errors::ParquetError);

fn field(name: &str, column: &Column) -> Result<Type, ParquetError> {
    let (physical, logical) = match column {
        Column::UInt(_) => (PhysicalType::INT64, Some(LogicalType::integer(64, false))),
        Column::Float(_) => (PhysicalType::DOUBLE, None),
        Column::Text(_) => (PhysicalType::BYTE_ARRAY, Some(LogicalType::String)),
        Column::Bool(_) => (PhysicalType::BOOLEAN, None),
    };
    Ok(Type::primitive_type_builder(name, physical)
        .with_repetition(Repetition::OPTIONAL)
        .with_logical_type(logical)
        .build()?)
}

/// The values present and the definition levels (1 present, 0 null).
fn split<T: Clone, U>(values: &[Option<T>], convert: impl Fn(T) -> U) -> (Vec<U>, Vec<i16>) {
    let mut present = Vec::with_capacity(values.len());
    let mut levels = Vec::with_capacity(values.len());
    for v in values {
        match v {
            Some(x) => {
                present.push(convert(x.clone()));
                levels.push(1);
            }
            None => levels.push(0),
        }
    }
    (present, levels)
}

/// The table as the bytes of a Parquet file.
pub fn to_parquet(table: &Table) -> Result<Vec<u8>, ParquetError> {
    let fields = table
        .names
        .iter()
        .zip(&table.columns)
        .map(|(n, c)| field(n, c).map(Arc::new))
        .collect::<Result<Vec<_>, _>>()?;
    let schema = Arc::new(
        Type::group_type_builder("schema")
            .with_fields(fields)
            .build()?,
    );
    let properties = Arc::new(
        WriterProperties::builder()
            .set_created_by(format!("sysdes {}", env!("CARGO_PKG_VERSION")))
            .build(),
    );
    let mut bytes = Vec::new();
    let mut writer = SerializedFileWriter::new(&mut bytes, schema, properties)?;
    let mut group = writer.next_row_group()?;
    for column in &table.columns {
        let Some(mut out) = group.next_column()? else {
            break;
        };
        match column {
            Column::UInt(v) => {
                // Stored as INT64 bits; the logical type says unsigned.
                let (values, levels) = split(v, |x: u64| x as i64);
                out.typed::<Int64Type>()
                    .write_batch(&values, Some(&levels), None)?;
            }
            Column::Float(v) => {
                let (values, levels) = split(v, |x: f64| x);
                out.typed::<DoubleType>()
                    .write_batch(&values, Some(&levels), None)?;
            }
            Column::Text(v) => {
                let (values, levels) = split(v, |x: String| ByteArray::from(x.into_bytes()));
                out.typed::<ByteArrayType>()
                    .write_batch(&values, Some(&levels), None)?;
            }
            Column::Bool(v) => {
                let (values, levels) = split(v, |x: bool| x);
                out.typed::<BoolType>()
                    .write_batch(&values, Some(&levels), None)?;
            }
        }
        out.close()?;
    }
    group.close()?;
    writer.close()?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    #[test]
    fn a_table_reads_back_with_its_types_and_nulls() {
        let table = Table {
            names: vec!["n".into(), "x".into(), "s".into(), "b".into()],
            columns: vec![
                Column::UInt(vec![Some(u64::MAX), None]),
                Column::Float(vec![Some(0.5), None]),
                Column::Text(vec![None, Some("api".into())]),
                Column::Bool(vec![Some(true), None]),
            ],
        };
        let bytes = to_parquet(&table).expect("writes");
        assert_eq!(to_parquet(&table).expect("writes"), bytes, "same bytes");
        let path =
            std::env::temp_dir().join(format!("sysdes-parquet-{}.parquet", std::process::id()));
        std::fs::write(&path, &bytes).expect("write");
        let reader =
            SerializedFileReader::new(std::fs::File::open(&path).expect("open")).expect("reads");
        let rows: Vec<Vec<Field>> = reader
            .get_row_iter(None)
            .expect("rows")
            .map(|r| {
                r.expect("row")
                    .get_column_iter()
                    .map(|(_, f)| f.clone())
                    .collect()
            })
            .collect();
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            rows,
            [
                vec![
                    Field::ULong(u64::MAX),
                    Field::Double(0.5),
                    Field::Null,
                    Field::Bool(true)
                ],
                vec![
                    Field::Null,
                    Field::Null,
                    Field::Str("api".into()),
                    Field::Null
                ],
            ]
        );
    }
}
