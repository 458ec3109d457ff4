//! `host init`: a pipeline folder that runs as it is, on the standard
//! plugins built into the host.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};
use chrono::{Days, NaiveDate, Utc};
use clap::{Args, ValueEnum};

/// Create a pipeline folder: a commented pipeline.toml (raw → bronze →
/// silver → gold on the standard plugins, with quality checks), its JSON
/// Schema for editors, a README of the next steps and, for `--source files`,
/// a week of sample data, so `host run` works at once, offline.
#[derive(Args)]
#[command(after_help = "Then: cd DIR && host run && host status")]
pub(super) struct InitCommand {
    /// The folder to create or fill [default: the current folder].
    #[arg(value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Where raw data comes from: sample files in `landing/` (runs offline),
    /// or the skeleton of a REST API source to point at your API.
    #[arg(long, value_enum, default_value_t = Source::Files)]
    source: Source,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Source {
    Files,
    Http,
}

const PIPELINE_FILES: &str = include_str!("init/pipeline-files.toml");
const PIPELINE_HTTP: &str = include_str!("init/pipeline-http.toml");
const README: &str = include_str!("init/README.md");
/// The sample data's first day, and how many days there are.
const SAMPLE_START: (i32, u32, u32) = (2025, 3, 1);
const SAMPLE_DAYS: u64 = 7;
/// The file name editors find the schema under (see the `#:schema` line).
const SCHEMA_FILE: &str = "pipeline.schema.json";

impl InitCommand {
    pub(super) fn execute(self) -> Result<ExitCode> {
        let dir = self.dir.clone().unwrap_or_else(|| PathBuf::from("."));
        let files = self.files(&dir)?;
        let mut taken: Vec<String> = files
            .iter()
            .map(|(path, _)| dir.join(path))
            .filter(|p| p.exists())
            .map(|p| p.display().to_string())
            .collect();
        // A pipeline there is the news; its other files follow from it.
        taken.sort_by_key(|p| !p.ends_with("pipeline.toml"));
        if let Some(first) = taken.first() {
            let more = match taken.len() - 1 {
                0 => String::new(),
                n => format!(" (and {n} more of the files it would write)"),
            };
            bail!("{first} already exists{more}; choose another folder, or move them away");
        }
        super::write_files(&dir, &files)?;
        let config = dir.join("pipeline.toml");
        println!(
            "created {}\n  run it:   host --config {} run\n  then see: {}",
            config.display(),
            config.display(),
            dir.join("README.md").display()
        );
        Ok(ExitCode::SUCCESS)
    }

    /// Every file to write: (path relative to the folder, text).
    fn files(&self, dir: &Path) -> Result<Vec<(String, String)>> {
        let name = folder_name(dir);
        let schema_line = format!("#:schema ./{SCHEMA_FILE}\n");
        let mut files = Vec::new();
        let (pipeline, gold, source_note, listing) = match self.source {
            Source::Files => {
                let start = sample_start();
                let end = start + Days::new(SAMPLE_DAYS - 1);
                let pipeline = PIPELINE_FILES
                    .replace("{{start}}", &start.to_string())
                    .replace("{{end}}", &end.to_string());
                for day in 0..SAMPLE_DAYS {
                    let date = start + Days::new(day);
                    files.push((format!("landing/orders-{date}.json"), sample_day(date, day)));
                }
                let listing = format!(
                    "- `landing/`: a week of sample API responses ({} to {}), one file per day; \
                     the raw layer keeps them byte for byte.\n",
                    start, end
                );
                (pipeline, "daily_revenue", "", listing)
            }
            Source::Http => {
                let start = Utc::now().date_naive() - Days::new(7);
                let pipeline = PIPELINE_HTTP.replace("{{start}}", &start.to_string());
                (
                    pipeline,
                    "daily",
                    " with a REST API source: point `url` in pipeline.toml at your API first",
                    String::new(),
                )
            }
        };
        files.push((
            "pipeline.toml".into(),
            schema_line + &pipeline.replace("{{name}}", &name),
        ));
        files.push((SCHEMA_FILE.into(), super::schema::document()?));
        files.push((
            "README.md".into(),
            README
                .replace("{{name}}", &name)
                .replace("{{gold}}", gold)
                .replace("{{source_note}}", source_note)
                .replace("{{files}}", &listing),
        ));
        files.push((".gitignore".into(), "/store/\n".into()));
        Ok(files)
    }
}

fn sample_start() -> NaiveDate {
    let (y, m, d) = SAMPLE_START;
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

/// The pipeline's name in its comments: the folder's name.
fn folder_name(dir: &Path) -> String {
    std::path::absolute(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "pipeline".into())
}

/// One day of sample orders, as a shop's API might answer: a few paid,
/// refunded and pending orders, one order sent twice (its later version
/// wins in silver, its customer name with stray spaces trimmed) and a row
/// without an id (dropped in silver).
fn sample_day(date: NaiveDate, day: u64) -> String {
    const CUSTOMERS: [&str; 4] = ["ada", "grace", "linus", "margaret"];
    const STATUSES: [&str; 5] = ["paid", "paid", "paid", "refunded", "pending"];
    let mmdd = date.format("%m%d");
    let mut records = Vec::new();
    let orders = 4 + day % 3;
    for i in 0..orders {
        let n = day * 7 + i;
        let cents = 1_250 + (n * 3_779) % 20_000;
        records.push(format!(
            "    {{\"id\": \"o-{mmdd}-{i}\", \"customer\": \"{}\", \"amount\": \"{}.{:02}\", \
             \"status\": \"{}\", \"updated_at\": \"{date}T{:02}:{:02}:00Z\"}}",
            CUSTOMERS[(n % 4) as usize],
            cents / 100,
            cents % 100,
            STATUSES[(n % 5) as usize],
            8 + i,
            (n * 13) % 60,
        ));
    }
    // The first order again, paid later that day, its customer's name with
    // stray spaces (as the API sends it now and then).
    let first = day * 7;
    let cents = 1_250 + (first * 3_779) % 20_000;
    records.push(format!(
        "    {{\"id\": \"o-{mmdd}-0\", \"customer\": \"  {} \", \"amount\": \"{}.{:02}\", \
         \"status\": \"paid\", \"updated_at\": \"{date}T20:00:00Z\"}}",
        CUSTOMERS[(first % 4) as usize],
        cents / 100,
        cents % 100,
    ));
    records.push(format!(
        "    {{\"id\": null, \"customer\": \"ada\", \"amount\": \"1.00\", \
         \"status\": \"paid\", \"updated_at\": \"{date}T21:00:00Z\"}}"
    ));
    let mut out = String::from("{\n  \"records\": [\n");
    let _ = write!(out, "{}", records.join(",\n"));
    out.push_str("\n  ]\n}\n");
    out
}
