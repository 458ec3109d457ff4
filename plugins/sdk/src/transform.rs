use arrow_array::RecordBatch;

use crate::raw::RawTransform;
use crate::{Context, Error, ipc};

/// What a plugin says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    pub name: String,
    pub version: String,
    pub description: String,
}

impl Info {
    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        description: impl Into<String>,
    ) -> Info {
        Info {
            name: name.into(),
            version: version.into(),
            description: description.into(),
        }
    }
}

/// A transform: state across the calls of one partition.
///
/// The host makes a fresh instance per partition and calls [`open`] once,
/// [`process`] once per input record batch (any number of times, inputs in
/// order), then [`finish`] once. Each call returns zero or more output
/// batches; all output batches of a partition must share one schema.
///
/// Export it with [`export_transform!`](crate::export_transform).
///
/// [`open`]: Transform::open
/// [`process`]: Transform::process
/// [`finish`]: Transform::finish
pub trait Transform: Sized + 'static {
    /// Name, version and description of the plugin.
    fn info() -> Info;

    /// Begins a partition: read the params, check the input schemas.
    fn open(ctx: &Context) -> Result<Self, Error>;

    /// One record batch of input number `input` (an index into
    /// [`Context::inputs`]). An input stream that holds a schema and no rows
    /// arrives as one empty batch.
    fn process(&mut self, input: usize, batch: RecordBatch) -> Result<Vec<RecordBatch>, Error>;

    /// No more input: returns the remaining output.
    fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
        Ok(Vec::new())
    }
}

/// A stateless transform: each input batch gives one output batch.
///
/// Export it with [`export_map!`](crate::export_map).
pub trait Map: Sized + 'static {
    /// Name, version and description of the plugin.
    fn info() -> Info;

    /// Begins a partition: read the params.
    fn open(ctx: &Context) -> Result<Self, Error>;

    /// Transforms one batch (of any input).
    fn map(&mut self, batch: RecordBatch) -> Result<RecordBatch, Error>;
}

/// The [`Transform`] a [`Map`] is.
pub struct MapTransform<M>(pub M);

impl<M: Map> Transform for MapTransform<M> {
    fn info() -> Info {
        M::info()
    }

    fn open(ctx: &Context) -> Result<Self, Error> {
        M::open(ctx).map(MapTransform)
    }

    fn process(&mut self, _input: usize, batch: RecordBatch) -> Result<Vec<RecordBatch>, Error> {
        Ok(vec![self.0.map(batch)?])
    }
}

/// The [`RawTransform`] a [`Transform`] is: decodes the input IPC streams and
/// encodes every output batch as its own IPC stream.
pub struct TransformAdapter<T> {
    inner: T,
    inputs: usize,
}

impl<T: Transform> TransformAdapter<T> {
    fn encode_all(batches: Vec<RecordBatch>) -> Result<Vec<Vec<u8>>, Error> {
        batches.iter().map(ipc::encode).collect()
    }
}

impl<T: Transform> RawTransform for TransformAdapter<T> {
    fn info() -> Info {
        T::info()
    }

    fn open(ctx: Context) -> Result<Self, Error> {
        Ok(TransformAdapter {
            inner: T::open(&ctx)?,
            inputs: ctx.inputs.len(),
        })
    }

    fn process(&mut self, input: u32, batch: Vec<u8>) -> Result<Vec<Vec<u8>>, Error> {
        let input = input as usize;
        if input >= self.inputs {
            return Err(Error::Failed(format!(
                "process got input {input}, but the partition has {} input(s)",
                self.inputs
            )));
        }
        let (schema, batches) = ipc::decode(&batch)?;
        drop(batch);
        let mut out = Vec::new();
        if batches.is_empty() {
            out.extend(self.inner.process(input, RecordBatch::new_empty(schema))?);
        }
        for batch in batches {
            out.extend(self.inner.process(input, batch)?);
        }
        Self::encode_all(out)
    }

    fn finish(&mut self) -> Result<Vec<Vec<u8>>, Error> {
        Self::encode_all(self.inner.finish()?)
    }
}
