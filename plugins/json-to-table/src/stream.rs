//! Records straight from the JSON text into the column values: no `Value`
//! tree, no map per record, no owned keys.
//!
//! The parse walks a document with serde visitors: down to the records
//! array (the document itself, or `records_field`), then through each
//! record's keys, matching each key once against the fields the columns
//! read. A matched value is converted and appended where it is read,
//! strings borrowed from the input; any other value is skipped.
//!
//! It accepts exactly the documents `serde_json::from_slice::<Value>`
//! accepts, and yields the rows the tree-based parse yields. Every value,
//! skipped or not, goes through the code serde_json runs when it builds a
//! `Value` (`deserialize_any`: strings decoded and checked, numbers
//! scanned, nesting counted against the same limit), which is why skipping
//! does not use `IgnoredAny`: serde_json skips those values without checking
//! their strings or their depth, so a document the tree parse refuses would
//! pass. Whatever the stream does not handle itself it gives up on: any
//! error, a repeated key that matters (in a `Value` the last one wins), a
//! records pointer through an array, an object with serde_json's private
//! number key. The caller then parses that file again as a tree, which
//! decides: the same rows, or the same error message.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::convert::{Scalar, Values};

/// The key serde_json (with `arbitrary_precision`) hands a number over as;
/// a `Value` also takes any object whose first key is this for a number.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";
/// The prefix of serde_json's private keys (numbers, raw values).
const PRIVATE: &str = "$serde_json::private::";

/// Whether a key is one of serde_json's private keys (checks the first byte
/// before comparing the prefix).
fn private(key: &str) -> bool {
    key.as_bytes().first() == Some(&b'$') && key.starts_with(PRIVATE)
}

/// Above this many fields at one level, keys are looked up by bisection.
const LINEAR_LOOKUP: usize = 8;

/// The stream gives up; never shown (the file is then parsed as a tree).
fn give_up<E: de::Error>() -> E {
    E::custom("the streaming parse gave up")
}

/// Where the records and the columns' values are: the records field's
/// pointer tokens, and a tree of the field names the columns' `from` reach.
pub struct Plan {
    /// The records field as pointer tokens (a plain name is one token).
    records: Vec<String>,
    root: Node,
    nullable: Vec<bool>,
    entries: usize,
}

#[derive(Default)]
struct Node {
    entries: Vec<Entry>,
    /// The entries' positions sorted by key, when there are many.
    sorted: Option<Vec<usize>>,
    /// The entry after the last one found: records mostly keep one order.
    next: Cell<usize>,
}

struct Entry {
    key: Box<str>,
    /// The entry's number among all entries of the plan.
    id: usize,
    /// The columns whose value is this field's value.
    columns: Vec<usize>,
    /// Fields inside this one that columns point to.
    inner: Option<Node>,
    /// Every column under `inner`, with its pointer from this field's value.
    below: Vec<(usize, String)>,
}

/// A JSON pointer token, unescaped as `Value::pointer` does it.
fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

impl Plan {
    /// `columns`: each column's `from` (a field name, or a JSON pointer if
    /// it starts with `/`) and whether it is nullable.
    pub fn new<'c>(
        records_field: &str,
        columns: impl IntoIterator<Item = (&'c str, bool)>,
    ) -> Plan {
        let records = if records_field.starts_with('/') {
            records_field.split('/').skip(1).map(unescape).collect()
        } else {
            vec![records_field.to_string()]
        };
        let mut root = Node::default();
        let mut entries = 0;
        let mut nullable = Vec::new();
        for (column, (from, null_ok)) in columns.into_iter().enumerate() {
            nullable.push(null_ok);
            if !from.starts_with('/') {
                root.entry(from.to_string(), &mut entries)
                    .columns
                    .push(column);
                continue;
            }
            // Where each token starts (at its `/`): the rest of the pointer
            // from there is the pointer below the field before it.
            let starts: Vec<usize> = from.match_indices('/').map(|(i, _)| i).collect();
            let tokens: Vec<String> = from.split('/').skip(1).map(unescape).collect();
            let mut node = &mut root;
            for (depth, token) in tokens.into_iter().enumerate() {
                let entry = node.entry(token, &mut entries);
                if depth + 1 == starts.len() {
                    entry.columns.push(column);
                    break;
                }
                entry
                    .below
                    .push((column, from[starts[depth + 1]..].to_string()));
                node = entry.inner.get_or_insert_with(Node::default);
            }
        }
        root.index_all();
        Plan {
            records,
            root,
            nullable,
            entries,
        }
    }
}

impl Node {
    fn entry(&mut self, key: String, entries: &mut usize) -> &mut Entry {
        let at = match self.entries.iter().position(|e| *e.key == *key) {
            Some(at) => at,
            None => {
                self.entries.push(Entry {
                    key: key.into(),
                    id: *entries,
                    columns: Vec::new(),
                    inner: None,
                    below: Vec::new(),
                });
                *entries += 1;
                self.entries.len() - 1
            }
        };
        &mut self.entries[at]
    }

    fn index_all(&mut self) {
        if self.entries.len() > LINEAR_LOOKUP {
            let mut sorted: Vec<usize> = (0..self.entries.len()).collect();
            sorted.sort_by(|&a, &b| self.entries[a].key.cmp(&self.entries[b].key));
            self.sorted = Some(sorted);
        }
        for entry in &mut self.entries {
            if let Some(inner) = &mut entry.inner {
                inner.index_all();
            }
        }
    }

    /// The entry for a key, if a column reads it.
    fn find(&self, key: &str) -> Option<usize> {
        let next = self.next.get();
        let found = if self.entries.get(next).is_some_and(|e| *e.key == *key) {
            Some(next)
        } else if let Some(sorted) = &self.sorted {
            sorted
                .binary_search_by(|&at| (*self.entries[at].key).cmp(key))
                .ok()
                .map(|i| sorted[i])
        } else {
            self.entries.iter().position(|e| *e.key == *key)
        };
        if let Some(at) = found {
            self.next.set(at + 1);
        }
        found
    }
}

/// What the stream keeps from one file to the next of a batch: the record
/// each column's value and each field were last seen in.
pub struct Marks {
    record: u64,
    columns: Vec<u64>,
    entries: Vec<u64>,
}

impl Marks {
    pub fn new(plan: &Plan) -> Marks {
        Marks {
            record: 0,
            columns: vec![0; plan.nullable.len()],
            entries: vec![0; plan.entries],
        }
    }
}

/// Parses one document's records into `values`; false if it gave up, with
/// `values` then holding any number of rows of this document.
pub fn document(
    plan: &Plan,
    marks: &mut Marks,
    values: &mut [Values],
    legacy_offsets: bool,
    body: &[u8],
) -> bool {
    // One check of the whole body (it is how the tree parse fails on invalid
    // UTF-8 anyway), then strings are borrowed without checking each.
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let mut stream = Stream {
        plan,
        marks,
        values,
        legacy_offsets,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    DocumentSeed(&mut stream).deserialize(&mut de).is_ok() && de.end().is_ok()
}

struct Stream<'a> {
    plan: &'a Plan,
    marks: &'a mut Marks,
    values: &'a mut [Values],
    legacy_offsets: bool,
}

impl<'a> Stream<'a> {
    /// The records array.
    fn records<'de, A: SeqAccess<'de>>(&mut self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(RecordSeed(self))?.is_some() {}
        Ok(())
    }

    /// An object on the way to the records: `tokens` is the rest of the way.
    fn path<'de, A: MapAccess<'de>>(
        &mut self,
        mut map: A,
        tokens: &'a [String],
    ) -> Result<(), A::Error> {
        let Some((token, rest)) = tokens.split_first() else {
            return Err(give_up());
        };
        let mut found = false;
        while let Some(is_token) = map.next_key_seed(KeyIs(token))? {
            if !is_token {
                map.next_value::<Skip>()?;
            } else if std::mem::replace(&mut found, true) {
                // A repeated key: in a `Value` the last one wins.
                return Err(give_up());
            } else if rest.is_empty() {
                map.next_value_seed(RecordsSeed(self))?;
            } else {
                map.next_value_seed(PathSeed(self, rest))?;
            }
        }
        Ok(())
    }

    /// The fields of a record, or of an object inside one.
    fn fields<'de, A: MapAccess<'de>>(
        &mut self,
        map: &mut A,
        node: &'a Node,
    ) -> Result<(), A::Error> {
        while let Some(found) = map.next_key_seed(FieldSeed(node))? {
            let Some(at) = found else {
                map.next_value::<Skip>()?;
                continue;
            };
            let entry = &node.entries[at];
            let record = self.marks.record;
            if std::mem::replace(&mut self.marks.entries[entry.id], record) == record {
                // A repeated key: in a `Value` the last one wins.
                return Err(give_up());
            }
            map.next_value_seed(EntrySeed(self, entry))?;
        }
        Ok(())
    }

    /// After a record's last field: nulls for the columns it did not have.
    fn end_record<E: de::Error>(&mut self) -> Result<(), E> {
        let record = self.marks.record;
        for (column, seen) in self.marks.columns.iter_mut().enumerate() {
            if *seen != record {
                if !self.plan.nullable[column] {
                    return Err(give_up());
                }
                self.values[column].push_null();
                *seen = record;
            }
        }
        Ok(())
    }

    fn scalar<E: de::Error>(&mut self, entry: &Entry, value: Scalar) -> Result<(), E> {
        for &column in &entry.columns {
            self.values[column]
                .push_scalar(value, self.legacy_offsets)
                .map_err(|_| give_up())?;
            self.marks.columns[column] = self.marks.record;
        }
        Ok(())
    }

    fn null<E: de::Error>(&mut self, column: usize) -> Result<(), E> {
        if !self.plan.nullable[column] {
            return Err(give_up());
        }
        self.values[column].push_null();
        self.marks.columns[column] = self.marks.record;
        Ok(())
    }

    /// A field's value read whole (an array, an object): what the tree
    /// parse does with it.
    fn apply<E: de::Error>(&mut self, entry: &Entry, value: &Value) -> Result<(), E> {
        for &column in &entry.columns {
            self.set(column, value)?;
        }
        for (column, pointer) in &entry.below {
            if let Some(value) = value.pointer(pointer) {
                self.set(*column, value)?;
            }
        }
        Ok(())
    }

    fn set<E: de::Error>(&mut self, column: usize, value: &Value) -> Result<(), E> {
        if value.is_null() {
            return self.null(column);
        }
        self.values[column]
            .push(value, self.legacy_offsets)
            .map_err(|_| give_up())?;
        self.marks.columns[column] = self.marks.record;
        Ok(())
    }
}

/// The whole document: the records array, or an object holding it.
struct DocumentSeed<'s, 'a>(&'s mut Stream<'a>);

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of records or an object")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.0.records(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let plan = self.0.plan;
        self.0.path(map, &plan.records)
    }
}

/// The value the records field (or pointer) names: no rows if null.
struct RecordsSeed<'s, 'a>(&'s mut Stream<'a>);

impl<'de> DeserializeSeed<'de> for RecordsSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of records or null")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.0.records(seq)
    }
}

/// A value on the way down a records pointer; `.1` is the rest of the way.
struct PathSeed<'s, 'a>(&'s mut Stream<'a>, &'a [String]);

impl<'de> DeserializeSeed<'de> for PathSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// Anything but an object (or an array, left to the tree parse) ends the
/// pointer: no records.
impl<'de> Visitor<'de> for PathSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.0.path(map, self.1)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<(), A::Error> {
        // A pointer token indexing an array: left to `Value::pointer`.
        Err(give_up())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

/// Whether a key is the pointer token looked for.
struct KeyIs<'t>(&'t str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        if private(key) {
            return Err(give_up());
        }
        Ok(key == self.0)
    }
}

/// One record: an object.
struct RecordSeed<'s, 'a>(&'s mut Stream<'a>);

impl<'de> DeserializeSeed<'de> for RecordSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.0.marks.record += 1;
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let plan = self.0.plan;
        self.0.fields(&mut map, &plan.root)?;
        self.0.end_record()
    }
}

/// A key of a record (or of an object inside one): the entry that reads
/// it, if any. Matched where it is read, so never copied.
struct FieldSeed<'n>(&'n Node);

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for FieldSeed<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        if private(key) {
            // As a first key, a `Value` reads the object as something else.
            return Err(give_up());
        }
        Ok(self.0.find(key))
    }
}

/// The value of a field some column reads.
struct EntrySeed<'s, 'a>(&'s mut Stream<'a>, &'a Entry);

impl<'de> DeserializeSeed<'de> for EntrySeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let EntrySeed(stream, entry) = self;
        match &entry.inner {
            None => deserializer.deserialize_any(Leaf(stream, entry)),
            Some(inner) if entry.columns.is_empty() => {
                deserializer.deserialize_any(Inner(stream, entry, inner))
            }
            // Both a column's value and a way to others: read it whole.
            Some(_) => {
                let value = Value::deserialize(deserializer)?;
                stream.apply(entry, &value)
            }
        }
    }
}

/// The value of a field that only columns read (none point inside it).
struct Leaf<'s, 'a>(&'s mut Stream<'a>, &'a Entry);

impl<'de> Visitor<'de> for Leaf<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        for &column in &self.1.columns {
            self.0.null(column)?;
        }
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.0.scalar(self.1, Scalar::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.0.scalar(self.1, Scalar::I64(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.0.scalar(self.1, Scalar::U64(v))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        // Numbers come as text with `arbitrary_precision`.
        Err(give_up())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.scalar(self.1, Scalar::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // As `Value` reads an array.
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        self.0.apply(self.1, &Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // As `Value` reads an object, or a number (its digits as text).
        let object = match map.next_key_seed(FirstKey { keep: true })? {
            None => Map::new(),
            Some(First::Number) => {
                let digits = map.next_value_seed(NumberText)?;
                return self.0.scalar(self.1, Scalar::Number(&digits));
            }
            Some(First::Key(key)) => {
                let mut object = Map::new();
                object.insert(key, map.next_value()?);
                while let Some((key, value)) = map.next_entry()? {
                    object.insert(key, value);
                }
                object
            }
        };
        self.0.apply(self.1, &Value::Object(object))
    }
}

/// The value of a field that columns point inside.
struct Inner<'s, 'a>(&'s mut Stream<'a>, &'a Entry, &'a Node);

/// Anything but an object (or an array, read whole) has nothing inside:
/// the columns below stay missing.
impl<'de> Visitor<'de> for Inner<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.0.fields(&mut map, self.2)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        self.0.apply(self.1, &Value::Array(items))
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

/// The first key of an object, classified as `Value` classifies it.
struct FirstKey {
    /// Whether an ordinary key is wanted (else it is dropped unread).
    keep: bool,
}

enum First {
    /// serde_json's number key: the object is a number.
    Number,
    Key(String),
}

impl<'de> DeserializeSeed<'de> for FirstKey {
    type Value = First;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<First, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for FirstKey {
    type Value = First;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<First, E> {
        if key == NUMBER_TOKEN {
            Ok(First::Number)
        } else if private(key) {
            Err(give_up())
        } else if self.keep {
            Ok(First::Key(key.to_string()))
        } else {
            Ok(First::Key(String::new()))
        }
    }
}

/// The digits of a number that did not fit 64 bits (or has a fraction or
/// an exponent), as serde_json scanned them. An object that only looks like
/// one (the private key written out in the input) is left to the tree parse.
struct NumberText;

impl<'de> DeserializeSeed<'de> for NumberText {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_string(self)
    }
}

impl<'de> Visitor<'de> for NumberText {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number's digits")
    }

    /// serde_json hands its own scanned digits over as an owned string.
    fn visit_string<E: de::Error>(self, digits: String) -> Result<String, E> {
        Ok(digits)
    }

    /// A string read from the input: the private key was in the input.
    fn visit_str<E: de::Error>(self, _: &str) -> Result<String, E> {
        Err(give_up())
    }
}

/// A value no column reads, read (and checked) as a `Value` would be, and
/// dropped.
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Skip, D::Error> {
        deserializer.deserialize_any(Skip)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Skip, E> {
        Err(give_up())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        match map.next_key_seed(FirstKey { keep: false })? {
            None => return Ok(Skip),
            Some(First::Number) => {
                map.next_value_seed(NumberText)?;
                return Ok(Skip);
            }
            Some(First::Key(_)) => map.next_value::<Skip>()?,
        };
        while map.next_key::<Skip>()?.is_some() {
            map.next_value::<Skip>()?;
        }
        Ok(Skip)
    }
}
