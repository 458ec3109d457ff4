//! OpenLineage events: built back into the `openlineage-python` client's
//! own classes (every field and facet through its constructor), which must
//! serialize to the very JSON Strata sent, and naming the right inputs and
//! outputs.

use serde_json::Value;

use super::receiver::Receiver;
use super::{python, raw_pipeline, run};
use crate::util::{Gold, Medallion};

/// Reads JSON events (one per line) from stdin, builds each with the
/// client's classes, checks it serializes back to the same JSON, and
/// prints a summary of each.
const LOAD: &str = r#"
import json, sys
from openlineage.client.event_v2 import RunEvent, Run, Job, InputDataset, OutputDataset, RunState
from openlineage.client.facet_v2 import (
    schema_dataset, data_quality_assertions_dataset, processing_engine_run, error_message_run,
)
from openlineage.client.serde import Serde

def facet(cls, d, **convert):
    d = dict(d)
    producer, url = d.pop("_producer"), d.pop("_schemaURL")
    obj = cls(**{k: convert.get(k, lambda x: x)(v) for k, v in d.items()}, producer=producer)
    assert obj._schemaURL == url, (cls.__name__, url, obj._schemaURL)
    return obj

def facets(d, known):
    for key in d:
        assert key in known, f"unexpected facet {key}"
    return {k: known[k](v) for k, v in d.items()}

DATASET = {"schema": lambda d: facet(schema_dataset.SchemaDatasetFacet, d,
    fields=lambda fs: [schema_dataset.SchemaDatasetFacetFields(**f) for f in fs])}
OUTPUT = {"dataQualityAssertions": lambda d: facet(
    data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet, d,
    assertions=lambda a: [data_quality_assertions_dataset.Assertion(**x) for x in a])}
RUN = {
    "processing_engine": lambda d: facet(processing_engine_run.ProcessingEngineRunFacet, d),
    "errorMessage": lambda d: facet(error_message_run.ErrorMessageRunFacet, d),
}

def clean(v):
    if isinstance(v, dict):
        v = {k: clean(x) for k, x in v.items()}
        return {k: x for k, x in v.items() if x not in (None, {}, [])}
    if isinstance(v, list):
        return [clean(x) for x in v]
    return v

summary = []
for line in sys.stdin.read().splitlines():
    d = json.loads(line)
    assert set(d) <= {"eventType", "eventTime", "producer", "schemaURL", "run", "job", "inputs", "outputs"}, d.keys()
    event = RunEvent(
        eventType=RunState[d["eventType"]],
        eventTime=d["eventTime"],
        producer=d["producer"],
        run=Run(runId=d["run"]["runId"], facets=facets(d["run"].get("facets", {}), RUN)),
        job=Job(namespace=d["job"]["namespace"], name=d["job"]["name"], facets={}),
        inputs=[InputDataset(namespace=i["namespace"], name=i["name"],
                             facets=facets(i.get("facets", {}), DATASET)) for i in d["inputs"]],
        outputs=[OutputDataset(namespace=o["namespace"], name=o["name"],
                               facets=facets(o.get("facets", {}), DATASET),
                               outputFacets=facets(o.get("outputFacets", {}), OUTPUT)) for o in d["outputs"]],
    )
    assert event.schemaURL == d["schemaURL"], event.schemaURL
    assert clean(Serde.to_dict(event)) == clean(d), (clean(Serde.to_dict(event)), clean(d))
    def fields(ds):
        s = ds.facets.get("schema")
        return [f.name for f in s.fields] if s else []
    summary.append({
        "type": event.eventType.value,
        "job": [event.job.namespace, event.job.name],
        "run": event.run.runId,
        "inputs": [[i.namespace, i.name, fields(i)] for i in event.inputs],
        "outputs": [[o.namespace, o.name, fields(o)] for o in event.outputs],
        "error": event.run.facets["errorMessage"].message if "errorMessage" in event.run.facets else None,
    })
print(json.dumps(summary))
"#;

/// The events, loaded by the OpenLineage client; `None` if it is missing
/// (outside CI).
fn load(events: &str, dir: &std::path::Path) -> Option<Vec<Value>> {
    python(LOAD, events, dir, "openlineage-python").map(|out| serde_json::from_str(&out).unwrap())
}

fn events_of<'a>(events: &'a [Value], job: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["job"][1] == job).collect()
}

#[test]
fn lineage_events_parse_with_openlineage_and_name_inputs_and_outputs() {
    let ws = Medallion::new()
        .days(3)
        .store_toml(
            "[store]\nurl = \"store\"\n\n[lineage]\nfile = \"lineage/events.jsonl\"\nnamespace = \"test-jobs\"\n",
        )
        .gold("aggregate", &[Gold::DailySum])
        .workspace();
    ws.add_plugin("test_fail_at", "fail_at");
    run(&ws, &[]).assert_ok();
    let file = ws.path().join("lineage/events.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    let Some(events) = load(&text, ws.path()) else {
        return;
    };
    let store = format!(
        "file://{}",
        std::fs::canonicalize(ws.store()).unwrap().display()
    );
    assert_eq!(
        events.len(),
        8,
        "a START and a COMPLETE per dataset: {events:#?}"
    );
    for (job, inputs) in [
        ("raw/transactions", vec![]),
        ("bronze/transactions", vec!["raw/transactions"]),
        ("silver/transactions", vec!["bronze/transactions"]),
        ("gold/daily_totals", vec!["silver/transactions"]),
    ] {
        let of = events_of(&events, job);
        let types: Vec<&str> = of.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["START", "COMPLETE"], "{job}");
        assert_eq!(of[0]["run"], of[1]["run"], "one run id per job run");
        assert_eq!(of[1]["job"][0], "test-jobs");
        for e in &of {
            let names: Vec<&str> = e["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i[1].as_str().unwrap())
                .collect();
            assert_eq!(names, inputs, "{job}: {e}");
            assert_eq!(e["outputs"].as_array().unwrap().len(), 1);
            assert_eq!(e["outputs"][0][0], store.as_str());
            assert_eq!(e["outputs"][0][1], job);
        }
    }
    // Schemas from the manifests: bronze's columns on its output and on
    // silver's input.
    let bronze = events_of(&events, "bronze/transactions")[1];
    let columns = bronze["outputs"][0][2].as_array().unwrap();
    assert!(columns.contains(&Value::from("amount")), "{bronze}");
    let silver = events_of(&events, "silver/transactions")[1];
    assert_eq!(silver["inputs"][0][2], bronze["outputs"][0][2]);
    let runs: std::collections::BTreeSet<&str> =
        events.iter().map(|e| e["run"].as_str().unwrap()).collect();
    assert_eq!(runs.len(), 4, "a run id per dataset");

    // Nothing to compute: no events.
    run(&ws, &[]).assert_ok();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);

    // A silver plugin that fails: silver starts and fails, gold is blocked
    // and never starts.
    ws.write_config(
        &Medallion::new()
            .days(3)
            .store_toml("[store]\nurl = \"store\"\n\n[lineage]\nfile = \"lineage/events.jsonl\"\n")
            .silver("fail_at", "at = \"open\"\nhow = \"error\"")
            .gold("aggregate", &[Gold::DailySum])
            .toml(),
    );
    assert_eq!(run(&ws, &[]).code, Some(1));
    let all = std::fs::read_to_string(&file).unwrap();
    let Some(later) = load(&all[text.len()..], ws.path()) else {
        return;
    };
    let types: Vec<(&str, &str)> = later
        .iter()
        .map(|e| (e["job"][1].as_str().unwrap(), e["type"].as_str().unwrap()))
        .collect();
    assert_eq!(
        types,
        [
            ("silver/transactions", "START"),
            ("silver/transactions", "FAIL")
        ]
    );
    assert!(
        later[1]["error"]
            .as_str()
            .unwrap()
            .contains("error in open on purpose"),
        "{}",
        later[1]
    );
}

#[test]
fn lineage_over_http_posts_to_the_openlineage_endpoint() {
    let api = Receiver::start();
    // A trailing slash or none: the events go to {url}/api/v1/lineage.
    let ws = raw_pipeline(&api.base, 2, &format!("[lineage]\nurl = \"{}/\"", api.base));
    run(&ws, &[]).assert_ok();
    let posts = api.posts();
    assert_eq!(posts.len(), 2, "{posts:?}");
    for p in &posts {
        assert_eq!(p.path, "/api/v1/lineage");
    }
    let lines: Vec<String> = posts.iter().map(|p| p.body.to_string()).collect();
    let Some(events) = load(&lines.join("\n"), ws.path()) else {
        return;
    };
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["START", "COMPLETE"]);
    assert_eq!(events[1]["outputs"][0][1], "raw/orders");
    assert_eq!(
        events[1]["job"][0],
        ws.path().file_name().unwrap().to_str().unwrap(),
        "the jobs' namespace defaults to the pipeline's folder name"
    );
}
