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

/// How a plugin wants its inputs fed, returned by [`Transform::plan`]:
/// per input, the columns it reads and whether its partitions must come
/// in order. An input it says nothing about is read whole and in order.
///
/// ```ignore
/// Plan::new().columns(0, ["currency", "amount"]).unordered(0)
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    inputs: Vec<InputPlan>,
}

/// How one input is fed; see [`Plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputPlan {
    /// The columns read; `None`: every column.
    pub columns: Option<Vec<String>>,
    /// Whether the input's partitions must come oldest first.
    pub ordered: bool,
}

impl Default for InputPlan {
    fn default() -> Self {
        InputPlan {
            columns: None,
            ordered: true,
        }
    }
}

impl Plan {
    /// Every input whole and in order (what a plugin that says nothing gets).
    pub fn new() -> Plan {
        Plan::default()
    }

    /// Input number `input` is read for these columns only: the host
    /// reads no others and hands batches with just these, in the input's
    /// column order. A column the input does not have fails the partition.
    pub fn columns<S: Into<String>>(
        mut self,
        input: usize,
        columns: impl IntoIterator<Item = S>,
    ) -> Plan {
        self.entry(input).columns = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// Input number `input`'s partitions may come in any order (each
    /// partition's batches still come together and in order), which lets
    /// the host read them as suits it: for a window whose result does not
    /// depend on the order its days arrive in.
    pub fn unordered(mut self, input: usize) -> Plan {
        self.entry(input).ordered = false;
        self
    }

    /// The plan per input, up to the last one it says something about.
    pub fn inputs(&self) -> &[InputPlan] {
        &self.inputs
    }

    fn entry(&mut self, input: usize) -> &mut InputPlan {
        if self.inputs.len() <= input {
            self.inputs.resize(input + 1, InputPlan::default());
        }
        &mut self.inputs[input]
    }
}

/// A transform: state across the calls of one partition.
///
/// The host makes a fresh instance per partition and calls [`open`] once
/// (then [`plan`]), [`process`] once per input record batch, then
/// [`finish`] once and [`drain`] until it returns `None`. Each call returns
/// zero or more output batches, which the host writes out as they come;
/// all output batches of a partition must share one schema.
///
/// Export it with [`export_transform!`](crate::export_transform).
///
/// [`open`]: Transform::open
/// [`plan`]: Transform::plan
/// [`process`]: Transform::process
/// [`finish`]: Transform::finish
/// [`drain`]: Transform::drain
pub trait Transform: Sized + 'static {
    /// Name, version and description of the plugin.
    fn info() -> Info;

    /// Begins a partition: read the params, check the input schemas.
    fn open(ctx: &Context) -> Result<Self, Error>;

    /// How to feed the inputs, asked once after [`Transform::open`]: the
    /// columns this plugin reads and whether it needs order. Default:
    /// every column of every input, in order.
    fn plan(&self, ctx: &Context) -> Plan {
        let _ = ctx;
        Plan::new()
    }

    /// One record batch of input number `input` (an index into
    /// [`Context::inputs`]) from its partition number `partition` (an index
    /// into that input's [`Input::partitions`](crate::Input::partitions)).
    /// One partition's batches come together; the partitions come oldest
    /// first unless the plan said [`Plan::unordered`]. An input stream that
    /// holds a schema and no rows arrives as one empty batch.
    fn process(
        &mut self,
        input: usize,
        partition: usize,
        batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error>;

    /// No more input: returns output, all of it or a first part.
    fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
        Ok(Vec::new())
    }

    /// After [`Transform::finish`], called until it returns `None`: the
    /// next output batch. For output too large to hold at once (build each
    /// batch as it is asked for). Default: nothing more.
    fn drain(&mut self) -> Result<Option<RecordBatch>, Error> {
        Ok(None)
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

    /// The columns to read and whether order matters, as
    /// [`Transform::plan`]. Default: every column, in order.
    fn plan(&self, ctx: &Context) -> Plan {
        let _ = ctx;
        Plan::new()
    }

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

    fn plan(&self, ctx: &Context) -> Plan {
        self.0.plan(ctx)
    }

    fn process(
        &mut self,
        _input: usize,
        _partition: usize,
        batch: RecordBatch,
    ) -> Result<Vec<RecordBatch>, Error> {
        Ok(vec![self.0.map(batch)?])
    }
}

/// The [`RawTransform`] a [`Transform`] is: decodes the input IPC streams and
/// encodes every output batch as its own IPC stream.
pub struct TransformAdapter<T> {
    inner: T,
    plan: Plan,
    inputs: usize,
    finished: bool,
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
        let inner = T::open(&ctx)?;
        let plan = inner.plan(&ctx);
        Ok(TransformAdapter {
            inner,
            plan,
            inputs: ctx.inputs.len(),
            finished: false,
        })
    }

    fn plan(&self) -> Plan {
        self.plan.clone()
    }

    fn process(
        &mut self,
        input: u32,
        partition: u32,
        batch: Vec<u8>,
    ) -> Result<Vec<Vec<u8>>, Error> {
        let input = input as usize;
        if input >= self.inputs {
            return Err(Error::Failed(format!(
                "process got input {input}, but the partition has {} input(s)",
                self.inputs
            )));
        }
        let partition = partition as usize;
        let (schema, batches) = ipc::decode(batch)?;
        let mut out = Vec::new();
        if batches.is_empty() {
            out.extend(
                self.inner
                    .process(input, partition, RecordBatch::new_empty(schema))?,
            );
        }
        for batch in batches {
            out.extend(self.inner.process(input, partition, batch)?);
        }
        Self::encode_all(out)
    }

    /// The first call: `finish`, unless it has nothing, then `drain`; every
    /// later call one batch of `drain`, until it has none.
    fn finish(&mut self) -> Result<Vec<Vec<u8>>, Error> {
        if !self.finished {
            self.finished = true;
            let out = self.inner.finish()?;
            if !out.is_empty() {
                return Self::encode_all(out);
            }
        }
        match self.inner.drain()? {
            Some(batch) => Ok(vec![ipc::encode(&batch)?]),
            None => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Array, Int64Array};

    use super::*;
    use crate::{Input, Params};

    fn context() -> Context {
        Context {
            dataset: "silver/t".into(),
            partition: "date=2025-02-18".into(),
            period_start: String::new(),
            period_end: String::new(),
            params: Params::default(),
            inputs: vec![Input {
                dataset: "bronze/t".into(),
                schema: Arc::new(arrow_schema::Schema::empty()),
                partitions: vec!["date=2025-02-17".into(), "date=2025-02-18".into()],
            }],
        }
    }

    fn one(n: i64) -> RecordBatch {
        RecordBatch::try_from_iter([("n", Arc::new(Int64Array::from(vec![n])) as _)]).unwrap()
    }

    /// `finish` gives `first`, then `drain` counts down from `left`.
    struct Countdown {
        first: Vec<RecordBatch>,
        left: i64,
    }

    impl Transform for Countdown {
        fn info() -> Info {
            Info::new("countdown", "0.1.0", "")
        }
        fn open(_ctx: &Context) -> Result<Self, Error> {
            Ok(Countdown {
                first: Vec::new(),
                left: 0,
            })
        }
        fn plan(&self, _ctx: &Context) -> Plan {
            Plan::new().columns(0, ["b", "a"]).unordered(0)
        }
        fn process(
            &mut self,
            _input: usize,
            partition: usize,
            batch: RecordBatch,
        ) -> Result<Vec<RecordBatch>, Error> {
            Ok(vec![one(partition as i64), batch])
        }
        fn finish(&mut self) -> Result<Vec<RecordBatch>, Error> {
            Ok(std::mem::take(&mut self.first))
        }
        fn drain(&mut self) -> Result<Option<RecordBatch>, Error> {
            self.left -= 1;
            Ok((self.left >= 0).then(|| one(self.left)))
        }
    }

    fn values(bytes: &[Vec<u8>]) -> Vec<i64> {
        bytes
            .iter()
            .flat_map(|b| ipc::decode(b.clone()).unwrap().1)
            .flat_map(|b| {
                let n = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                n.values().to_vec()
            })
            .collect()
    }

    #[test]
    fn the_plan_goes_out_as_declared() {
        let adapter = TransformAdapter::<Countdown>::open(context()).unwrap();
        let plan = RawTransform::plan(&adapter);
        assert_eq!(
            plan.inputs(),
            [InputPlan {
                columns: Some(vec!["b".into(), "a".into()]),
                ordered: false,
            }]
        );
        assert_eq!(Plan::new().unordered(1).inputs().len(), 2);
        assert!(Plan::new().unordered(1).inputs()[0].ordered);
    }

    #[test]
    fn process_says_the_partition_and_finish_then_drain_until_none() {
        let mut a = TransformAdapter::<Countdown>::open(context()).unwrap();
        let out = a.process(0, 1, ipc::encode(&one(7)).unwrap()).unwrap();
        assert_eq!(values(&out), [1, 7]);
        assert!(a.process(1, 0, ipc::encode(&one(7)).unwrap()).is_err());
        a.inner.first = vec![one(10), one(11)];
        a.inner.left = 2;
        assert_eq!(values(&a.finish().unwrap()), [10, 11]);
        assert_eq!(values(&a.finish().unwrap()), [1]);
        assert_eq!(values(&a.finish().unwrap()), [0]);
        assert!(a.finish().unwrap().is_empty());

        // Nothing from `finish`: the first call drains already.
        let mut a = TransformAdapter::<Countdown>::open(context()).unwrap();
        a.inner.left = 1;
        assert_eq!(values(&a.finish().unwrap()), [0]);
        assert!(a.finish().unwrap().is_empty());
    }
}
