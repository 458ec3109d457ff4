//! The byte level of the contract, for plugins that must see the IPC bytes
//! themselves (tests of the host that return malformed output, say). A plugin
//! normally implements [`Transform`](crate::Transform) instead.

use crate::{Context, Error, Info, Plan};

/// A transform over IPC stream bytes. Each input `batch` is one complete Arrow
/// IPC stream; each output item must be one too.
///
/// Export it with [`export_raw_transform!`](crate::export_raw_transform).
pub trait RawTransform: Sized + 'static {
    fn info() -> Info;
    fn open(ctx: Context) -> Result<Self, Error>;
    /// Asked once after `open`. Default: every input whole and in order.
    fn plan(&self) -> Plan {
        Plan::new()
    }
    fn process(
        &mut self,
        input: u32,
        partition: u32,
        batch: Vec<u8>,
    ) -> Result<Vec<Vec<u8>>, Error>;
    /// Called again and again until it returns no batches.
    fn finish(&mut self) -> Result<Vec<Vec<u8>>, Error>;
}

/// What the export macros call: the state of the one partition an instance
/// computes lives here between calls.
pub(crate) mod glue {
    use std::any::Any;
    use std::cell::RefCell;

    use super::RawTransform;
    use crate::__private::bindings::strata::plugin::types::{DataFormat, InputPlan, Plan};
    use crate::__private::{PartitionContext, PluginError, PluginInfo};
    use crate::{Context, Error};

    thread_local! {
        static STATE: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    }

    fn with_state<R: RawTransform, T>(
        call: &str,
        f: impl FnOnce(&mut R) -> Result<T, Error>,
    ) -> Result<T, PluginError> {
        STATE.with_borrow_mut(|state| {
            let Some(state) = state.as_mut().and_then(|s| s.downcast_mut::<R>()) else {
                return Err(PluginError::Failed(format!(
                    "`{call}` called without a successful `open`"
                )));
            };
            f(state).map_err(Into::into)
        })
    }

    pub fn describe<R: RawTransform>() -> PluginInfo {
        let info = R::info();
        PluginInfo {
            name: info.name,
            version: info.version,
            description: info.description,
            format: DataFormat::ArrowIpc,
        }
    }

    pub fn open<R: RawTransform>(context: PartitionContext) -> Result<Plan, PluginError> {
        STATE.with_borrow_mut(|state| *state = None);
        let state = R::open(Context::from_wit(context)?)?;
        let plan = state.plan();
        STATE.with_borrow_mut(|s| *s = Some(Box::new(state)));
        Ok(Plan {
            output: None,
            inputs: plan
                .inputs()
                .iter()
                .map(|p| InputPlan {
                    columns: p.columns.clone(),
                    ordered: p.ordered,
                })
                .collect(),
        })
    }

    pub fn process<R: RawTransform>(
        input: u32,
        partition: u32,
        batch: Vec<u8>,
    ) -> Result<Vec<Vec<u8>>, PluginError> {
        with_state::<R, _>("process", |s| s.process(input, partition, batch))
    }

    /// The next output; the partition's state goes once there is none.
    pub fn finish<R: RawTransform>() -> Result<Vec<Vec<u8>>, PluginError> {
        let out = with_state::<R, _>("finish", |s| s.finish());
        if out.as_ref().is_ok_and(Vec::is_empty) || out.is_err() {
            STATE.with_borrow_mut(|state| *state = None);
        }
        out
    }
}
