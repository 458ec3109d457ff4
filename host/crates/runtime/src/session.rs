//! A partition being computed: the plugin's plan checked against the
//! context, every input batch projected to the plan's columns and encoded,
//! every output decoded and held to one schema and the output limit.

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::guest::{Instance, Opened};
use crate::{DataFormat, InputPlan, PartitionContext, RunError, ipc, jsonl, schema};

/// A partition being computed: feed it batches, then finish.
///
/// Made by [`crate::Plugin::open`]. The plugin has an instance of its own,
/// so a session is computed start to end on one thread; the memory, time
/// and output limits count over all its calls.
pub struct Session {
    instance: Instance,
    format: DataFormat,
    /// A json-lines plugin's declared output schema.
    json_schema: Option<SchemaRef>,
    /// The schema of the first output batch, which every later one must have.
    output_schema: Option<SchemaRef>,
    output_bytes: u64,
    plan: Vec<InputPlan>,
    inputs: Vec<InputFeed>,
    /// Whether `finish` is called until it returns nothing (0.2) or once.
    drained: bool,
}

/// How batches of one input are handed over.
struct InputFeed {
    dataset: String,
    partitions: usize,
    /// The plan's columns in the input's column order; `None`: every column.
    columns: Option<Vec<String>>,
}

impl Session {
    /// A session of a freshly opened instance: its plan checked against
    /// `context` (see [`resolve_plan`]).
    pub(crate) fn new(
        instance: Instance,
        format: DataFormat,
        drained: bool,
        context: &PartitionContext,
        opened: Opened,
    ) -> Result<Session, RunError> {
        let json_schema = match (format, opened.output) {
            (DataFormat::ArrowIpc, _) => None,
            (DataFormat::JsonLines, Some(declared)) => Some(
                declared
                    .map_err(|e| RunError::Malformed(format!("declared output schema: {e}")))?,
            ),
            (DataFormat::JsonLines, None) => {
                return Err(RunError::Malformed(
                    "a json-lines plugin must return its output schema from open()".into(),
                ));
            }
        };
        let plan = resolve_plan(context, opened.inputs)?;
        let inputs = context
            .inputs
            .iter()
            .zip(&plan)
            .map(|(input, plan)| InputFeed {
                dataset: input.dataset.clone(),
                partitions: input.partitions.len(),
                columns: plan.columns.as_ref().map(|wanted| {
                    input
                        .schema
                        .fields()
                        .iter()
                        .map(|f| f.name())
                        .filter(|name| wanted.contains(name))
                        .cloned()
                        .collect()
                }),
            })
            .collect();
        Ok(Session {
            instance,
            format,
            json_schema,
            output_schema: None,
            output_bytes: 0,
            plan,
            inputs,
            drained,
        })
    }

    /// How the plugin wants each input of the context fed, one entry per
    /// input, in order. The session projects every batch to its input's
    /// columns itself; reading only those columns is the caller's saving.
    pub fn plan(&self) -> &[InputPlan] {
        &self.plan
    }

    /// Sends one batch of input number `input`, from that input's partition
    /// number `partition` (indexes into the context); returns the output it
    /// produced. The batch may have more columns than the plan asks for:
    /// only those are handed over, in the input's order.
    pub fn process(
        &mut self,
        input: u32,
        partition: u32,
        batch: &RecordBatch,
    ) -> Result<Vec<RecordBatch>, RunError> {
        let feed = self.inputs.get(input as usize).ok_or_else(|| {
            RunError::Host(format!(
                "a batch of input {input}, but the partition has {} input(s)",
                self.inputs.len()
            ))
        })?;
        if partition as usize >= feed.partitions {
            return Err(RunError::Host(format!(
                "a batch of partition {partition} of input {}, which has {} partition(s)",
                feed.dataset, feed.partitions
            )));
        }
        let projected = match &feed.columns {
            Some(columns) => project(batch, columns, &feed.dataset)?,
            None => batch.clone(),
        };
        let bytes = self.encode(&projected)?;
        let out = self
            .instance
            .process(input, partition, &bytes, self.remaining_output())?;
        self.decode(out)
    }

    /// Ends the input and hands every remaining output batch to `output`
    /// as it comes: a 0.2 plugin's `finish` is called until it returns no
    /// batches (the time and output limits stop one that never does), a
    /// 0.1 plugin's once.
    pub fn finish<E: From<RunError>>(
        mut self,
        output: &mut dyn FnMut(RecordBatch) -> Result<(), E>,
    ) -> Result<(), E> {
        loop {
            let out = self.instance.finish(self.remaining_output())?;
            let done = out.is_empty() || !self.drained;
            for batch in self.decode(out)? {
                output(batch)?;
            }
            if done {
                return Ok(());
            }
        }
    }

    /// Output bytes the partition may still produce.
    fn remaining_output(&self) -> u64 {
        self.instance
            .limits
            .output_bytes
            .saturating_sub(self.output_bytes)
    }

    fn encode(&self, batch: &RecordBatch) -> Result<Vec<u8>, RunError> {
        match self.format {
            DataFormat::ArrowIpc => ipc::encode(batch).map_err(|e| RunError::Host(e.to_string())),
            DataFormat::JsonLines => jsonl::encode(batch).map_err(RunError::Host),
        }
    }

    fn decode(&mut self, outputs: Vec<Vec<u8>>) -> Result<Vec<RecordBatch>, RunError> {
        let mut batches = Vec::new();
        for bytes in outputs {
            self.output_bytes += bytes.len() as u64;
            if self.output_bytes > self.instance.limits.output_bytes {
                return Err(RunError::OutputLimit(self.instance.limits.output_bytes));
            }
            let decoded = match (&self.format, &self.json_schema) {
                (DataFormat::JsonLines, Some(schema)) => {
                    jsonl::decode(&bytes, schema.clone()).map_err(RunError::Malformed)?
                }
                _ => ipc::decode(bytes)
                    .map_err(|e| RunError::Malformed(format!("not an Arrow IPC stream: {e}")))?,
            };
            for batch in decoded {
                self.check_schema(&batch)?;
                batches.push(batch);
            }
        }
        Ok(batches)
    }

    fn check_schema(&mut self, batch: &RecordBatch) -> Result<(), RunError> {
        match &self.output_schema {
            None => {
                self.output_schema = Some(batch.schema());
                Ok(())
            }
            Some(first) if first.fields() == batch.schema().fields() => Ok(()),
            Some(first) => Err(RunError::SchemaChanged {
                first: schema::describe(first),
                later: schema::describe(&batch.schema()),
            }),
        }
    }
}

/// The plan a plugin returned, one entry per input of `context`: an input
/// it gave no entry is read whole and in order. More entries than inputs
/// is a broken plugin (malformed); a column its input does not have is,
/// for the user, a params mistake (a misspelt column) or an input that
/// changed, and fails as bad params naming the input and the column. An
/// input with no columns at all (every partition of it is empty) has
/// nothing to check against and no batches to project.
fn resolve_plan(
    context: &PartitionContext,
    mut declared: Vec<InputPlan>,
) -> Result<Vec<InputPlan>, RunError> {
    if declared.len() > context.inputs.len() {
        return Err(RunError::Malformed(format!(
            "open() returned a plan for {} inputs, but the partition has {}",
            declared.len(),
            context.inputs.len()
        )));
    }
    for (input, plan) in context.inputs.iter().zip(&declared) {
        let Some(columns) = &plan.columns else {
            continue;
        };
        if input.schema.fields().is_empty() {
            continue;
        }
        if let Some(missing) = columns
            .iter()
            .find(|c| input.schema.column_with_name(c).is_none())
        {
            return Err(RunError::BadParams(format!(
                "open() asks for column `{missing}` of input {}, which has no such column \
                 (its columns: {})",
                input.dataset,
                schema::describe(&input.schema)
            )));
        }
    }
    declared.resize(context.inputs.len(), InputPlan::default());
    Ok(declared)
}

/// `batch` with only `columns` (already in its input's order).
fn project(
    batch: &RecordBatch,
    columns: &[String],
    dataset: &str,
) -> Result<RecordBatch, RunError> {
    let schema = batch.schema();
    if schema.fields().len() == columns.len()
        && schema
            .fields()
            .iter()
            .zip(columns)
            .all(|(f, c)| f.name() == c)
    {
        return Ok(batch.clone());
    }
    let indices = columns
        .iter()
        .map(|c| {
            schema.index_of(c).map_err(|_| {
                RunError::Host(format!(
                    "a batch of input {dataset} has no column `{c}`, which its schema has"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    batch
        .project(&indices)
        .map_err(|e| RunError::Host(format!("projecting a batch of input {dataset}: {e}")))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int64Array};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;
    use crate::InputContext;

    fn context(columns: &[&str]) -> PartitionContext {
        let schema = Schema::new(
            columns
                .iter()
                .map(|c| Field::new(*c, DataType::Int64, true))
                .collect::<Vec<_>>(),
        );
        PartitionContext {
            dataset: "silver/out".into(),
            partition: "date=2025-02-18".into(),
            period_start: String::new(),
            period_end: String::new(),
            params: Default::default(),
            inputs: vec![InputContext {
                dataset: "bronze/in".into(),
                schema: Arc::new(schema),
                partitions: vec!["date=2025-02-18".into()],
            }],
        }
    }

    fn wants(columns: &[&str]) -> InputPlan {
        InputPlan {
            columns: Some(columns.iter().map(|c| c.to_string()).collect()),
            ordered: false,
        }
    }

    #[test]
    fn inputs_without_an_entry_are_read_whole_and_in_order() {
        let plan = resolve_plan(&context(&["a"]), vec![]).unwrap();
        assert_eq!(plan, [InputPlan::default()]);
        assert_eq!(plan[0].columns, None);
        assert!(plan[0].ordered);
    }

    #[test]
    fn a_column_the_input_lacks_is_bad_params_naming_input_and_column() {
        let err = resolve_plan(&context(&["a", "b"]), vec![wants(&["b", "nope"])]).unwrap_err();
        let RunError::BadParams(message) = &err else {
            panic!("{err:?}")
        };
        assert!(
            message.contains("`nope`") && message.contains("bronze/in"),
            "{message}"
        );
        // An input with no columns (all its partitions empty) is not checked.
        assert!(resolve_plan(&context(&[]), vec![wants(&["nope"])]).is_ok());
    }

    #[test]
    fn more_entries_than_inputs_is_malformed() {
        let err = resolve_plan(&context(&["a"]), vec![wants(&["a"]), wants(&["a"])]).unwrap_err();
        assert!(matches!(err, RunError::Malformed(_)), "{err:?}");
    }

    #[test]
    fn projection_keeps_the_inputs_column_order() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Int64, true),
            Field::new("c", DataType::Int64, true),
        ]));
        let column = |v: i64| Arc::new(Int64Array::from(vec![v])) as ArrayRef;
        let batch = RecordBatch::try_new(schema, vec![column(1), column(2), column(3)]).unwrap();
        let out = project(&batch, &["a".into(), "c".into()], "in").unwrap();
        let schema = out.schema();
        let names: Vec<&String> = schema.fields().iter().map(|f| f.name()).collect();
        assert_eq!(names, ["a", "c"]);
        let err = project(&batch, &["d".into()], "in").unwrap_err();
        assert!(err.to_string().contains("`d`"), "{err}");
    }
}
