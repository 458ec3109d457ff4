//! Manifest schemas (`strata_core::manifest::Column`) and Arrow schemas,
//! through the contract's type names.

use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use strata_core::manifest::Column;
use strata_runtime::schema::{parse_type, type_name};

/// The manifest columns of an Arrow schema; a column whose type the
/// contract has no name for is an error naming it.
pub fn columns(schema: &Schema) -> Result<Vec<Column>, String> {
    schema
        .fields()
        .iter()
        .map(|f| {
            let name = type_name(f.data_type());
            match parse_type(&name) {
                Ok(_) => Ok(Column {
                    name: f.name().clone(),
                    data_type: name,
                    nullable: f.is_nullable(),
                }),
                Err(unknown) => Err(format!(
                    "column `{}` has type {}, which is outside the contract ({})",
                    f.name(),
                    f.data_type(),
                    unknown
                        .split_once(": ")
                        .map_or(unknown.as_str(), |(_, allowed)| allowed)
                )),
            }
        })
        .collect()
}

/// The Arrow schema of manifest columns.
pub fn to_arrow(columns: &[Column]) -> Result<SchemaRef, String> {
    let fields = columns
        .iter()
        .map(|c| {
            parse_type(&c.data_type)
                .map(|t| Field::new(&c.name, t, c.nullable))
                .map_err(|e| format!("column `{}`: {e}", c.name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::DataType;

    #[test]
    fn types_outside_the_contract_are_named() {
        let schema = Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("note", DataType::LargeUtf8, true),
        ]);
        let err = columns(&schema).unwrap_err();
        assert!(err.starts_with("column `note` has type LargeUtf8"), "{err}");
        let ok = columns(&Schema::new(vec![Field::new("id", DataType::Utf8, false)])).unwrap();
        assert_eq!(to_arrow(&ok).unwrap().field(0).data_type(), &DataType::Utf8);
    }
}
