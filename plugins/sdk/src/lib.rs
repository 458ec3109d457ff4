//! The Rust SDK for Strata transform plugins.
//!
//! A Strata plugin is a WebAssembly component (built for `wasm32-wasip2`)
//! that implements the `strata:plugin` WIT world (contract 0.2, `wit/`).
//! This crate hides the WIT bindings and the Arrow IPC encoding: a plugin
//! sees Arrow [`RecordBatch`]es in and returns record batches out.
//!
//! The host calls, for every partition, on a fresh instance:
//! [`Transform::open`] once, then [`Transform::plan`] (which columns of
//! each input to read, and whether a window's partitions must come in
//! order); [`Transform::process`] once per input record batch, told the
//! input and the input partition it comes from; then [`Transform::finish`]
//! once and [`Transform::drain`] until it has nothing more. Every call may
//! return output batches, which the host writes as they come; all output
//! batches of a partition must share one schema.
//!
//! # Params
//!
//! A dataset's `[datasets.params]` arrive as a JSON object whose values
//! keep their types: `n = 3` is a number, `n = "3"` a string. Read them
//! into a struct of yours with [`Context::params`] (serde; a missing,
//! mistyped or, with `deny_unknown_fields`, unknown param is an
//! [`Error::BadParams`] naming it), or one by one with the accessors of
//! [`Params`]: [`get`](Params::get)/[`require`](Params::require) for
//! strings, [`parse`](Params::parse) for any type, [`list`](Params::list)
//! for column names. [`Columns`] reads column names given as a list or as
//! comma-separated text.
//!
//! # A complete plugin
//!
//! `Cargo.toml`:
//!
//! ```toml
//! [package]
//! name = "add-one"
//! version = "0.1.0"
//! edition = "2024"
//!
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! strata-sdk = { path = "../sdk" }
//! ```
//!
//! `src/lib.rs`, a plugin that adds one to the int64 column named by the
//! `column` param:
//!
//! ```ignore
//! use std::sync::Arc;
//! use strata_sdk::arrow::array::{ArrayRef, AsArray, RecordBatch};
//! use strata_sdk::arrow::datatypes::Int64Type;
//! use strata_sdk::{Context, Error, Info, Map};
//!
//! struct AddOne {
//!     column: String,
//! }
//!
//! impl Map for AddOne {
//!     fn info() -> Info {
//!         Info::new("add-one", "0.1.0", "Adds one to an int64 column")
//!     }
//!
//!     fn open(ctx: &Context) -> Result<Self, Error> {
//!         Ok(AddOne {
//!             column: ctx.params.require("column")?.to_string(),
//!         })
//!     }
//!
//!     fn map(&mut self, batch: RecordBatch) -> Result<RecordBatch, Error> {
//!         let i = batch.schema().index_of(&self.column)?;
//!         let Some(values) = batch.column(i).as_primitive_opt::<Int64Type>() else {
//!             return Err(Error::BadInput(format!("`{}` is not int64", self.column)));
//!         };
//!         let added: ArrayRef = Arc::new(values.unary::<_, Int64Type>(|v| v.wrapping_add(1)));
//!         let mut columns = batch.columns().to_vec();
//!         columns[i] = added;
//!         Ok(RecordBatch::try_new(batch.schema(), columns)?)
//!     }
//! }
//!
//! strata_sdk::export_map!(AddOne);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2`; the
//! component is `target/wasm32-wasip2/release/add_one.wasm`. (This example
//! is also `examples/add_one.rs` of this crate, so it is compiled and
//! linted with the rest.)
//!
//! # Reading less, and in any order
//!
//! [`Transform::plan`] returns a [`Plan`]: `Plan::new().columns(0, ["a",
//! "b"])` makes the host read and hand over only those columns of input 0
//! (in the input's column order; a column it does not have fails the
//! partition), and `.unordered(0)` lets a window's partitions come in any
//! order when the result does not depend on it. By default every input is
//! read whole and in order.
//!
//! # Output that does not fit at once
//!
//! `finish` may return everything, or a first part; [`Transform::drain`]
//! is then called until it returns `None`, one batch each time, so a
//! plugin can build its output batch by batch instead of holding all of it.
//!
//! # Errors, panics and logs
//!
//! Return [`Error::BadParams`] when params cannot be used,
//! [`Error::BadInput`] when the data cannot be transformed (name the row and
//! the value), [`Error::Failed`] otherwise. A panic traps the instance; its
//! message goes to stderr, which the host captures. [`log`] writes to the
//! host's log.
//!
//! # Lower levels
//!
//! [`Transform`] is the general form (state across calls, several inputs,
//! output in `finish`); [`Map`] is a shortcut for one batch in, one batch out.
//! [`raw::RawTransform`] sees the IPC bytes themselves; it exists for tests of
//! the host and is rarely what a plugin wants.

// The bindings name this crate by its own name, inside it as from plugins.
extern crate self as strata_sdk;

mod context;
mod error;
pub mod ipc;
pub mod log;
pub mod raw;
mod transform;
pub mod types;

pub use arrow_array;
pub use arrow_schema;
pub use context::{Columns, Context, Input, Params};
pub use error::Error;
pub use transform::{Info, InputPlan, Map, MapTransform, Plan, Transform, TransformAdapter};

/// The Arrow crates a plugin needs, laid out like the `arrow` crate's modules.
pub mod arrow {
    /// Arrays, builders, casting helpers ([`array::AsArray`]) and [`array::RecordBatch`].
    pub mod array {
        pub use arrow_array::builder::*;
        pub use arrow_array::cast::*;
        pub use arrow_array::*;
    }
    /// Schemas, fields, data types, and the native types of arrays.
    pub mod datatypes {
        pub use arrow_array::types::*;
        pub use arrow_buffer::i256;
        pub use arrow_schema::*;
    }
    /// [`record_batch::RecordBatch`] and its options.
    pub mod record_batch {
        pub use arrow_array::{RecordBatch, RecordBatchOptions};
    }
    /// Buffers behind arrays (null masks, offsets, values).
    pub mod buffer {
        pub use arrow_buffer::*;
    }
    /// [`error::ArrowError`].
    pub mod error {
        pub use arrow_schema::ArrowError;
    }
    /// Kernels: concatenate, filter, take, sort, compare.
    pub mod compute {
        pub use arrow_ord::cmp;
        pub use arrow_ord::ord::{DynComparator, make_comparator};
        pub use arrow_ord::partition::{Partitions, partition};
        pub use arrow_ord::sort::{
            SortColumn, SortOptions, lexsort, lexsort_to_indices, sort, sort_to_indices,
        };
        pub use arrow_select::concat::{concat, concat_batches};
        pub use arrow_select::filter::{filter, filter_record_batch};
        pub use arrow_select::interleave::interleave;
        pub use arrow_select::take::{take, take_record_batch};
    }
}

/// Not public API: used by the export macros.
#[doc(hidden)]
pub mod __private {
    pub mod bindings {
        wit_bindgen::generate!({
            path: "../../wit",
            world: "plugin",
            pub_export_macro: true,
            export_macro_name: "__strata_export_world_plugin",
            default_bindings_module: "strata_sdk::__private::bindings",
            runtime_path: "strata_sdk::__private::wit_bindgen::rt",
        });
    }

    pub use crate::raw::glue::{describe, finish, open, process};
    pub use bindings::exports::strata::plugin::transform::Guest;
    pub use bindings::strata::plugin::types::{
        DataType, Field, PartitionContext, Plan, PluginError, PluginInfo,
    };
    pub use wit_bindgen;
}

/// Exports a [`Transform`] as the plugin of this crate (a `cdylib`).
///
/// Use it once per plugin crate, at the top level of `lib.rs`.
#[macro_export]
macro_rules! export_transform {
    ($t:ty) => {
        $crate::export_raw_transform!($crate::TransformAdapter<$t>);
    };
}

/// Exports a [`Map`] as the plugin of this crate (a `cdylib`).
#[macro_export]
macro_rules! export_map {
    ($t:ty) => {
        $crate::export_raw_transform!($crate::TransformAdapter<$crate::MapTransform<$t>>);
    };
}

/// Exports a [`raw::RawTransform`] as the plugin of this crate (a `cdylib`).
#[macro_export]
macro_rules! export_raw_transform {
    ($t:ty) => {
        const _: () = {
            struct __StrataPlugin;

            impl $crate::__private::Guest for __StrataPlugin {
                fn describe() -> $crate::__private::PluginInfo {
                    $crate::__private::describe::<$t>()
                }

                fn open(
                    context: $crate::__private::PartitionContext,
                ) -> ::core::result::Result<$crate::__private::Plan, $crate::__private::PluginError>
                {
                    $crate::__private::open::<$t>(context)
                }

                fn process(
                    input: u32,
                    partition: u32,
                    batch: ::std::vec::Vec<u8>,
                ) -> ::core::result::Result<
                    ::std::vec::Vec<::std::vec::Vec<u8>>,
                    $crate::__private::PluginError,
                > {
                    $crate::__private::process::<$t>(input, partition, batch)
                }

                fn finish() -> ::core::result::Result<
                    ::std::vec::Vec<::std::vec::Vec<u8>>,
                    $crate::__private::PluginError,
                > {
                    $crate::__private::finish::<$t>()
                }
            }

            $crate::__private::bindings::__strata_export_world_plugin!(
                __StrataPlugin with_types_in $crate::__private::bindings
            );
        };
    };
}
