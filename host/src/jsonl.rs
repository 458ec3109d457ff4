//! JSON lines: the data format for plugins written in languages without an
//! Arrow library in WebAssembly. The host converts Arrow batches to JSON
//! lines for the plugin and the plugin's lines back, by its declared schema.

use arrow::datatypes::SchemaRef;
use arrow::json::reader::ReaderBuilder;
use arrow::json::writer::LineDelimitedWriter;
use arrow::record_batch::RecordBatch;

/// One batch as JSON lines, one object per row.
pub fn encode(batch: &RecordBatch) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut writer = LineDelimitedWriter::new(&mut out);
    writer.write(batch).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

/// JSON lines read by `schema`. An error names the first line that does not
/// fit and why.
pub fn decode(bytes: &[u8], schema: SchemaRef) -> Result<Vec<RecordBatch>, String> {
    let read = |bytes: &[u8]| -> Result<Vec<RecordBatch>, arrow::error::ArrowError> {
        ReaderBuilder::new(schema.clone())
            .with_strict_mode(true)
            .build(bytes)?
            .collect()
    };
    match read(bytes) {
        Ok(batches) => Ok(batches),
        Err(whole) => {
            for (index, line) in bytes.split(|b| *b == b'\n').enumerate() {
                if let Err(e) = read(line) {
                    return Err(format!("JSON line {}: {e}", index + 1));
                }
            }
            Err(format!("JSON lines: {whole}"))
        }
    }
}
