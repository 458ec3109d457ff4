//! A dataset's columns as a Delta schema (Spark's JSON struct type), and
//! how the table's schema follows its partitions' schemas.
//!
//! Every column is nullable in the table: a partition written before a
//! column existed reads as null there, and a non-nullable column would
//! oblige every writer to enforce it. A column whose type differs between
//! partitions cannot be one Delta column: that is an [`SchemaConflict`],
//! and the table keeps its last version until the partitions agree.

use serde::{Deserialize, Serialize};
use strata_core::manifest::Column;

/// One field of a Delta struct type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    /// A primitive type name (`string`, `long`, `decimal(12,2)`, …); the
    /// nested types Strata never writes are kept as JSON.
    #[serde(rename = "type")]
    pub data_type: serde_json::Value,
    pub nullable: bool,
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// A Delta schema: `{"type": "struct", "fields": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StructType {
    #[serde(rename = "type")]
    pub kind: String,
    pub fields: Vec<Field>,
}

impl StructType {
    pub fn new(fields: Vec<Field>) -> StructType {
        StructType {
            kind: "struct".into(),
            fields,
        }
    }

    pub fn parse(schema_string: &str) -> Result<StructType, serde_json::Error> {
        serde_json::from_str(schema_string)
    }

    pub fn to_schema_string(&self) -> String {
        serde_json::to_string(self).expect("a schema always serialises")
    }

    /// Whether a column needs the `timestampNtz` table feature.
    pub fn has_timestamp_ntz(&self) -> bool {
        self.fields
            .iter()
            .any(|f| f.data_type.as_str() == Some("timestamp_ntz"))
    }
}

/// The Delta type of a contract type name; `None` for a name this host
/// does not know (a newer contract).
pub fn delta_type(contract: &str) -> Option<String> {
    Some(
        match contract {
            "bool" => "boolean",
            "int8" => "byte",
            "int16" | "uint8" => "short",
            "int32" | "uint16" => "integer",
            "int64" | "uint32" => "long",
            // What Spark reads a Parquet UINT_64 as.
            "uint64" => "decimal(20,0)",
            "float32" => "float",
            "float64" => "double",
            "utf8" => "string",
            "binary" => "binary",
            "date32" => "date",
            "timestamp-us-utc" => "timestamp",
            "timestamp-us" => "timestamp_ntz",
            other => {
                let inner = other.strip_prefix("decimal128(")?.strip_suffix(')')?;
                let (p, s) = inner.split_once(',')?;
                let (p, s): (u8, i8) = (p.trim().parse().ok()?, s.trim().parse().ok()?);
                if p == 0 || p > 38 || s < 0 || s as u8 > p {
                    return None;
                }
                return Some(format!("decimal({p},{s})"));
            }
        }
        .to_owned(),
    )
}

/// Partitions whose schemas cannot be one table schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaConflict {
    #[error(
        "column `{column}` is {first} but {found} in {partition}: a Delta column has one \
         type, so the table stays at its last version until the partitions agree \
         (recompute every partition with one plugin, or rename the column)"
    )]
    TypeChanged {
        column: String,
        first: String,
        found: String,
        partition: String,
    },
    #[error(
        "{partition} has a column `{column}`, the name of the table's partition column: \
         rename the column in the plugin"
    )]
    PartitionColumn { column: String, partition: String },
    #[error("column `{column}` of {partition} has type `{found}`, which Delta has no type for")]
    UnknownType {
        column: String,
        found: String,
        partition: String,
    },
}

/// The table schema for these partitions' columns: the current table's
/// columns first, in their order (a column no partition has any more
/// stays, read as null), then each new column as nullable in the order
/// the partitions name them. A column whose type every partition changed
/// takes the new type (no file of the new version has the old one, as
/// with Spark's `overwriteSchema`); partitions that disagree among
/// themselves are a conflict.
pub fn merge<'a>(
    current: Option<&StructType>,
    partitions: impl IntoIterator<Item = (&'a str, &'a [Column])>,
    partition_column: Option<&str>,
) -> Result<StructType, SchemaConflict> {
    // Name → (Delta type, the first partition that has it), in order.
    let mut seen: Vec<(String, String, &'a str)> = Vec::new();
    for (partition, columns) in partitions {
        for column in columns {
            if Some(column.name.as_str()) == partition_column {
                return Err(SchemaConflict::PartitionColumn {
                    column: column.name.clone(),
                    partition: partition.to_owned(),
                });
            }
            let Some(found) = delta_type(&column.data_type) else {
                return Err(SchemaConflict::UnknownType {
                    column: column.name.clone(),
                    found: column.data_type.clone(),
                    partition: partition.to_owned(),
                });
            };
            match seen.iter().find(|(name, ..)| *name == column.name) {
                Some((_, t, _)) if *t == found => {}
                Some((_, t, first)) => {
                    return Err(SchemaConflict::TypeChanged {
                        column: column.name.clone(),
                        first: format!("{t} in {first}"),
                        found,
                        partition: partition.to_owned(),
                    });
                }
                None => seen.push((column.name.clone(), found, partition)),
            }
        }
    }
    let mut merged = current.cloned().unwrap_or_else(|| StructType::new(vec![]));
    for (name, found, _) in seen {
        match merged.fields.iter_mut().find(|f| f.name == name) {
            Some(field) => field.data_type = serde_json::Value::String(found),
            None => merged.fields.push(Field {
                name,
                data_type: serde_json::Value::String(found),
                nullable: true,
                metadata: Default::default(),
            }),
        }
    }
    if let Some(name) = partition_column {
        // Last, as a glob reader puts it: without column mapping, readers
        // match columns by name, so moving it behind a new column is safe.
        let field = match merged.fields.iter().position(|f| f.name == name) {
            Some(i) => merged.fields.remove(i),
            None => Field {
                name: name.to_owned(),
                data_type: serde_json::Value::String("string".into()),
                nullable: true,
                metadata: Default::default(),
            },
        };
        merged.fields.push(field);
    }
    Ok(merged)
}

/// Sets the partition column's type (`date` for days, `string` otherwise).
pub fn set_partition_type(schema: &mut StructType, column: &str, data_type: &str) {
    if let Some(field) = schema.fields.iter_mut().find(|f| f.name == column)
        && field.data_type.as_str() != Some(data_type)
    {
        field.data_type = serde_json::Value::String(data_type.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, t: &str) -> Column {
        Column {
            name: name.into(),
            data_type: t.into(),
            nullable: false,
        }
    }

    #[test]
    fn contract_types_map_to_delta_types() {
        assert_eq!(delta_type("int64").as_deref(), Some("long"));
        assert_eq!(
            delta_type("decimal128(12,2)").as_deref(),
            Some("decimal(12,2)")
        );
        assert_eq!(delta_type("timestamp-us-utc").as_deref(), Some("timestamp"));
        assert_eq!(delta_type("decimal128(40,2)"), None);
        assert_eq!(delta_type("struct"), None);
    }

    #[test]
    fn a_new_column_is_appended_as_nullable_and_a_changed_type_conflicts() {
        let old = [col("id", "utf8"), col("amount", "int64")];
        let new = [
            col("id", "utf8"),
            col("amount", "int64"),
            col("fx", "float64"),
        ];
        let s = merge(
            None,
            [("date=1", &old[..]), ("date=2", &new[..])],
            Some("date"),
        )
        .unwrap();
        let names: Vec<_> = s.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["id", "amount", "fx", "date"]);
        // A column added later goes before the partition column.
        let more = [col("note", "utf8")];
        let grown = merge(Some(&s), [("date=3", &more[..])], Some("date")).unwrap();
        let names: Vec<_> = grown.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["id", "amount", "fx", "note", "date"]);
        assert!(s.fields.iter().all(|f| f.nullable));
        // A column the partitions lost stays in the table.
        let again = merge(Some(&s), [("date=3", &old[..])], Some("date")).unwrap();
        assert_eq!(again, s);
        // Every partition changed a type: the table takes it.
        let changed = [col("amount", "utf8")];
        let all_changed = merge(Some(&s), [("date=4", &changed[..])], Some("date")).unwrap();
        assert_eq!(all_changed.fields[1].data_type, "string");
        // Partitions that disagree cannot be one table.
        let err = merge(
            Some(&s),
            [("date=3", &old[..]), ("date=4", &changed[..])],
            Some("date"),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("column `amount` is long in date=3 but string in date=4"),
            "{err}"
        );
        let clash = [col("date", "utf8")];
        assert!(matches!(
            merge(None, [("date=5", &clash[..])], Some("date")),
            Err(SchemaConflict::PartitionColumn { .. })
        ));
    }
}
