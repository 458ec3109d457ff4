//! Arrow IPC stream bytes, the way batches cross the plugin boundary.

use arrow_array::RecordBatch;
use arrow_buffer::Buffer;
use arrow_ipc::reader::StreamDecoder;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::SchemaRef;

use crate::Error;

/// Decodes one complete IPC stream: its schema and all its record batches,
/// whose buffers are slices of `bytes` (no copy) wherever they are aligned.
pub fn decode(bytes: Vec<u8>) -> Result<(SchemaRef, Vec<RecordBatch>), Error> {
    let invalid = |e: arrow_schema::ArrowError| {
        Error::Failed(format!("input is not a valid Arrow IPC stream: {e}"))
    };
    let mut buffer = Buffer::from_vec(bytes);
    let mut decoder = StreamDecoder::new();
    let mut batches = Vec::new();
    while let Some(batch) = decoder.decode(&mut buffer).map_err(invalid)? {
        batches.push(batch);
    }
    decoder.finish().map_err(invalid)?;
    let schema = decoder.schema().ok_or_else(|| {
        Error::Failed("input is not a valid Arrow IPC stream: it has no schema".to_string())
    })?;
    Ok((schema, batches))
}

/// Encodes one batch as a complete IPC stream (schema, batch, end marker),
/// uncompressed. The same batch always gives the same bytes.
pub fn encode(batch: &RecordBatch) -> Result<Vec<u8>, Error> {
    let mut writer = StreamWriter::try_new(Vec::new(), batch.schema_ref())?;
    writer.write(batch)?;
    writer.finish()?;
    Ok(writer.into_inner()?)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::RecordBatchOptions;
    use arrow_schema::Schema;

    use super::*;

    /// A plan that reads no column (a count of rows) gets batches of rows
    /// without columns: their row count must survive the boundary.
    #[test]
    fn a_batch_without_columns_keeps_its_rows() {
        let batch = RecordBatch::try_new_with_options(
            Arc::new(Schema::empty()),
            vec![],
            &RecordBatchOptions::new().with_row_count(Some(5)),
        )
        .unwrap();
        let (schema, batches) = decode(encode(&batch).unwrap()).unwrap();
        assert!(schema.fields().is_empty());
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].num_rows(), 5);
    }
}
