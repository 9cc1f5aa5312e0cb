//! The command line of `triage redact`: files or standard streams, the format guessed when it
//! is not given, the output written beside its target and renamed into place when complete,
//! and the summary on standard error.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::ValueEnum;

use super::{Format, Options, Summary};
use crate::privacy::Detector;

/// The buffer on each side; memory use stays near this whatever the input's size.
const BUFFER_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, clap::Args)]
pub struct RedactArgs {
    /// The export to read; `-` or nothing: standard input
    #[arg(value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Write to this file instead of standard output (refused when it exists, unless --force)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The input's format (default: from the extension `.csv`, `.jsonl`/`.ndjson`/`.json`, else
    /// from the first line: a JSON object, a WhatsApp export, or plain text)
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// CSV: the delimiter (default: `,`, `;` or tab, whichever the first line has most of)
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<char>,
    /// CSV: the first record is data, not the names of the columns (names are read as context,
    /// so that a column `geboortedatum` has its dates masked)
    #[arg(long)]
    pub no_header: bool,
    /// Pass bad input (not UTF-8, a broken CSV record, a line that is not JSON) through masked
    /// as plain text and count it, instead of stopping at it
    #[arg(long)]
    pub keep_going: bool,
    /// Replace the output file when it exists
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Every cell; quoting, delimiters and line endings kept
    Csv,
    /// One JSON value per line; every string value, keys kept
    Jsonl,
    /// Line by line
    Text,
    /// A chat exported from WhatsApp: sender and message, never the timestamp
    Whatsapp,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Csv => Format::Csv,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Text => Format::Text,
            FormatArg::Whatsapp => Format::WhatsApp,
        }
    }
}

/// Runs `triage redact`; `Ok(true)` when everything was written.
pub fn run(detector: &Detector, args: &RedactArgs) -> Result<bool, String> {
    let input_path = args.input.as_deref().filter(|p| *p != Path::new("-"));
    let mut input: Box<dyn BufRead> = match input_path {
        Some(p) => Box::new(BufReader::with_capacity(
            BUFFER_BYTES,
            File::open(p).map_err(|e| format!("cannot open `{}`: {e}", p.display()))?,
        )),
        None => Box::new(BufReader::with_capacity(BUFFER_BYTES, std::io::stdin())),
    };
    let shown = input_path.map_or("standard input".to_string(), |p| {
        format!("`{}`", p.display())
    });
    let format = match args.format {
        Some(f) => Format::from(f),
        None => {
            let head = input
                .fill_buf()
                .map_err(|e| format!("cannot read {shown}: {e}"))?;
            let (format, why) = Format::guess(input_path, head);
            eprintln!("redact: reading {shown} as {format} ({why}); choose with --format");
            format
        }
    };
    let delimiter = match args.delimiter {
        None => None,
        Some(c) if c.is_ascii() && c != '"' && c != '\n' && c != '\r' => Some(c as u8),
        Some(c) => return Err(format!("`{c}` cannot be a CSV delimiter")),
    };
    let options = Options {
        format,
        keep_going: args.keep_going,
        delimiter,
        csv_header: !args.no_header,
    };
    let started = Instant::now();
    let summary = match &args.output {
        None => {
            let stdout = std::io::stdout();
            let out = BufWriter::with_capacity(BUFFER_BYTES, stdout.lock());
            super::run(detector, &options, input, out).map_err(|e| e.to_string())?
        }
        Some(path) => to_file(detector, &options, input, input_path, path, args.force)?,
    };
    print_summary(&summary, format, started.elapsed().as_secs_f64());
    Ok(true)
}

/// Writes beside `path` under a temporary name and renames it into place once complete, so
/// that a stopped run never leaves a file that looks finished.
fn to_file(
    detector: &Detector,
    options: &Options,
    input: Box<dyn BufRead>,
    input_path: Option<&Path>,
    path: &Path,
    force: bool,
) -> Result<Summary, String> {
    if let Some(i) = input_path {
        if let (Ok(a), Ok(b)) = (i.canonicalize(), path.canonicalize()) {
            if a == b {
                return Err(format!(
                    "`{}` is the input: write the masked copy to another file",
                    path.display()
                ));
            }
        }
    }
    if path.exists() && !force {
        return Err(format!(
            "`{}` exists already; say --force to replace it",
            path.display()
        ));
    }
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("`{}` is not a file name", path.display()))?;
    let partial = path.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let file = File::create(&partial)
        .map_err(|e| format!("cannot create `{}`: {e}", partial.display()))?;
    let mut out = BufWriter::with_capacity(BUFFER_BYTES, file);
    let result = super::run(detector, options, input, &mut out)
        .map_err(|e| e.to_string())
        .and_then(|summary| {
            out.flush()
                .and_then(|()| out.get_ref().sync_all())
                .map_err(|e| format!("cannot write `{}`: {e}", partial.display()))?;
            std::fs::rename(&partial, path)
                .map_err(|e| format!("cannot move the output to `{}`: {e}", path.display()))?;
            Ok(summary)
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn print_summary(s: &Summary, format: Format, seconds: f64) {
    let mb = s.bytes as f64 / 1e6;
    let what = match format {
        Format::Csv => "records",
        Format::Jsonl => "JSON lines",
        Format::Text => "lines",
        Format::WhatsApp => "messages",
    };
    let delimiter = match s.delimiter {
        Some(b'\t') => ", delimiter tab".to_string(),
        Some(d) => format!(", delimiter `{}`", d as char),
        None => String::new(),
    };
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "redact: {format}{delimiter}: {} lines, {} {what}, {mb:.1} MB in {seconds:.2} s ({:.1} MB/s)",
        s.lines,
        s.records,
        if seconds > 0.0 { mb / seconds } else { 0.0 }
    );
    if s.findings.is_empty() {
        let _ = writeln!(err, "redact: no personal data found");
    } else {
        let parts: Vec<String> = s
            .findings
            .iter()
            .map(|(id, k)| format!("{id} {} ({})", k.count, k.label))
            .collect();
        let _ = writeln!(
            err,
            "redact: {} masked: {}",
            s.total_findings(),
            parts.join(", ")
        );
    }
    if s.passed_through > 0 {
        let _ = writeln!(
            err,
            "redact: {} bad {} passed through masked as plain text (--keep-going):",
            s.passed_through,
            if s.passed_through == 1 {
                "piece"
            } else {
                "pieces"
            }
        );
        for p in &s.problems {
            let _ = writeln!(err, "  {p}");
        }
        if s.passed_through > s.problems.len() as u64 {
            let _ = writeln!(
                err,
                "  and {} more",
                s.passed_through - s.problems.len() as u64
            );
        }
    }
}
