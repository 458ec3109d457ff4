//! Arrow IPC stream bytes: how batches cross the plugin boundary.

use arrow::buffer::Buffer;
use arrow::error::ArrowError;
use arrow::ipc::reader::StreamDecoder;
use arrow::ipc::writer::StreamWriter;
use arrow::record_batch::RecordBatch;

/// One batch as a complete IPC stream: schema message, batch, end marker.
pub fn encode(batch: &RecordBatch) -> Result<Vec<u8>, ArrowError> {
    let mut out = Vec::with_capacity(batch.get_array_memory_size() + 1024);
    let mut writer = StreamWriter::try_new(&mut out, &batch.schema())?;
    writer.write(batch)?;
    writer.finish()?;
    drop(writer);
    Ok(out)
}

/// Every batch of one IPC stream, validated. The batches' buffers are
/// slices of `bytes` (no copy) wherever they are aligned.
pub fn decode(bytes: Vec<u8>) -> Result<Vec<RecordBatch>, ArrowError> {
    let mut buffer = Buffer::from_vec(bytes);
    let mut decoder = StreamDecoder::new();
    let mut batches = Vec::new();
    while let Some(batch) = decoder.decode(&mut buffer)? {
        batches.push(batch);
    }
    decoder.finish()?;
    if decoder.schema().is_none() {
        return Err(ArrowError::IpcError("the stream has no schema".into()));
    }
    Ok(batches)
}
