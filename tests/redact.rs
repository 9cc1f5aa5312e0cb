//! `triage redact`: each format on tricky input (through the library, with the shipped
//! `rules/privacy.yaml`), then the real binary: files, standard streams, errors with line
//! numbers, `--keep-going`, and memory that stays bounded while a large input streams through.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use triage::privacy::Detector;
use triage::redact::{self, Error, Format, Options, Summary};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| {
        let (set, _) = triage::flows::FlowSet::load(&root().join("flows"), &root().join("rules"))
            .expect("the shipped flows load");
        set.privacy
    })
}

fn run_with(options: &Options, input: &[u8]) -> Result<(String, Summary), Error> {
    let mut out = Vec::new();
    let summary = redact::run(detector(), options, input, &mut out)?;
    Ok((String::from_utf8(out).expect("UTF-8 out"), summary))
}

fn run(format: Format, input: &str) -> (String, Summary) {
    run_with(&Options::new(format), input.as_bytes()).expect("redacts")
}

fn found(s: &Summary, detector: &str) -> u64 {
    s.findings.get(detector).map_or(0, |k| k.count)
}

fn input_error(format: Format, input: &[u8]) -> (u64, String) {
    match run_with(&Options::new(format), input) {
        Err(Error::Input(p)) => (p.line, p.message),
        other => panic!("expected bad input, got {other:?}"),
    }
}

fn keep_going(format: Format, input: &[u8]) -> (String, Summary) {
    let options = Options {
        keep_going: true,
        ..Options::new(format)
    };
    run_with(&options, input).expect("keeps going")
}

#[test]
fn csv_cases() {
    // (input, expected output)
    let cases: &[(&str, &str)] = &[
        // A BSN without its leading zero counts only after "bsn": here the word ends one line of
        // a quoted cell and the number starts the next, so only masking the cell whole finds it.
        (
            "naam,bericht\nJan,\"mijn bsn is\n12345672\"\n",
            "naam,bericht\nJan,\"mijn bsn is\n*****672\"\n",
        ),
        // A name with a BSN in it.
        ("naam,x\nJan 111222333,1\n", "naam,x\nJan ******333,1\n"),
        // Quotes inside a quoted cell stay escaped; CRLF and `;` stay.
        (
            "id;tekst\r\n1;\"zei \"\"hoi\"\", bsn 123456782\"\r\n",
            "id;tekst\r\n1;\"zei \"\"hoi\"\", bsn ******782\"\r\n",
        ),
        // The header is context: a case number column keeps its numbers, a birth date column
        // has its dates masked (a bare date would be an appointment).
        (
            "zaaknummer,geboortedatum,afspraak\n123456782,12-03-1985,12-03-1985\n",
            "zaaknummer,geboortedatum,afspraak\n123456782,*****985,12-03-1985\n",
        ),
        // Empty cells, a trailing delimiter, a blank line, no final newline.
        (
            "a,b,c\n,,\n\nNL91ABNA0417164300,,x",
            "a,b,c\n,,\n\n***************300,,x",
        ),
        // A byte-order mark stays in front.
        ("\u{feff}bsn\n123456782\n", "\u{feff}bsn\n******782\n"),
    ];
    for (input, want) in cases {
        let (got, _) = run(Format::Csv, input);
        assert_eq!(&got, want, "input: {input:?}");
    }
    let (_, s) = run(Format::Csv, cases[0].0);
    assert_eq!((s.lines, s.records, found(&s, "bsn")), (3, 2, 1));
}

#[test]
fn broken_csv_is_an_error_with_its_line_or_passed_through() {
    let cases: &[(&str, u64, &str)] = &[
        ("a,b\n1,2\n3,4\"x\"\n", 3, "cell 2: a quote inside a cell"),
        // A lone stray quote opens a cell that the end of the input never closes.
        (
            "a,b\n1,2\n3,4\"x\n5,6\n",
            3,
            "a quoted cell that is never closed",
        ),
        (
            "a,b\n1,2\n\"3\"x,4\n",
            3,
            "cell 1: text after the closing quote",
        ),
        ("a,b\n1,2,3\n", 2, "3 cells, where the first record has 2"),
        ("a,b\n1,\"2\n3,4\n", 2, "a quoted cell that is never closed"),
    ];
    for (input, line, message) in cases {
        let (l, m) = input_error(Format::Csv, input.as_bytes());
        assert_eq!(l, *line, "{input:?}");
        assert!(m.contains(message), "{input:?}: {m}");
        // With --keep-going nothing is lost: the bad record is there, masked as text.
        let (out, s) = keep_going(Format::Csv, input.as_bytes());
        assert_eq!(out, *input);
        assert_eq!(s.passed_through, 1);
    }
    let (_, s) = keep_going(Format::Csv, b"a,b\n1,\"bsn 123456782\n");
    assert_eq!((s.passed_through, found(&s, "bsn")), (1, 1));
    let (l, m) = input_error(Format::Csv, b"a,b\n1,2\n\xff,3\n");
    assert_eq!((l, m.as_str()), (3, "not UTF-8 (byte 1 of the line)"));
}

#[test]
fn jsonl_cases() {
    let cases: &[(&str, &str)] = &[
        // Escapes are decoded before scanning and written back as JSON.
        (
            r#"{"text":"bsn:\t123456782 \"ok\" caf\u00e9"}"#,
            r#"{"text":"bsn:\t******782 \"ok\" café"}"#,
        ),
        // Digits written as escapes are digits.
        (
            r#"{"t": "\u0031\u0032\u0033456782"}"#,
            r#"{"t": "******782"}"#,
        ),
        // Keys stay; a key is context for its value, also in arrays and nested objects.
        (
            r#"{"zaaknummer":"123456782","data":{"geboortedatum":["3 mrt 1985"]},"x":"3 mrt 1985"}"#,
            r#"{"zaaknummer":"123456782","data":{"geboortedatum":["*****985"]},"x":"3 mrt 1985"}"#,
        ),
        // A BSN written as a number becomes its mask; other numbers and literals stay.
        (
            r#"[123456782, 42, -1.5e3, true, null, "NL91 ABNA 0417 1643 00"]"#,
            r#"["******782", 42, -1.5e3, true, null, "***************300"]"#,
        ),
        // A string without findings keeps its escapes as written.
        (r#"{"a":"\u0068oi \/"}"#, r#"{"a":"\u0068oi \/"}"#),
    ];
    for (input, want) in cases {
        let (got, _) = run(Format::Jsonl, &format!("{input}\n"));
        assert_eq!(got, format!("{want}\n"), "input: {input}");
        serde_json::from_str::<serde_json::Value>(&got).expect("still JSON");
    }
    let (got, s) = run(Format::Jsonl, "{\"a\":\"bsn 123456782\"}\r\n\n{}");
    assert_eq!(got, "{\"a\":\"bsn ******782\"}\r\n\n{}");
    assert_eq!((s.lines, s.records, found(&s, "bsn")), (3, 3, 1));
}

#[test]
fn a_line_that_is_not_json_is_an_error_with_its_line_or_passed_through() {
    let input = b"{\"a\":1}\n{\"a\": bsn 123456782}\n{\"b\":2}\n";
    let (line, message) = input_error(Format::Jsonl, input);
    assert_eq!(line, 2);
    assert!(message.starts_with("not JSON: "), "{message}");
    assert!(!message.contains("123456782"), "{message}");
    let (out, s) = keep_going(Format::Jsonl, input);
    assert_eq!(out, "{\"a\":1}\n{\"a\": bsn ******782}\n{\"b\":2}\n");
    assert_eq!((s.passed_through, s.problems[0].line), (1, 2));
}

#[test]
fn text_cases() {
    let (got, s) = run(
        Format::Text,
        "mijn bsn is 123456782\r\nzaaknummer 123456782\n\nNL91ABNA0417164300",
    );
    assert_eq!(
        got,
        "mijn bsn is ******782\r\nzaaknummer 123456782\n\n***************300"
    );
    assert_eq!((s.lines, found(&s, "bsn"), found(&s, "iban")), (4, 1, 1));
    let (line, message) = input_error(Format::Text, b"ok\nbsn 123456782 \xc3\x28\n");
    assert_eq!(
        (line, message.as_str()),
        (2, "not UTF-8 (byte 15 of the line)")
    );
    let (out, s) = keep_going(Format::Text, b"ok\nbsn 123456782 \xc3\x28\n");
    assert_eq!(out, "ok\nbsn ******782 \u{fffd}(\n");
    assert_eq!(s.passed_through, 1);
}

#[test]
fn whatsapp_cases() {
    let cases: &[(&str, &str)] = &[
        // A message over several lines is masked whole: "geboren op" confirms the date on
        // the next line; the timestamps, dates themselves, are never masked.
        (
            "12-03-1985 14:05 - Jan: ik ben geboren op\n12-03-1985 en\nmijn bsn is\n12345672\n\
             12-03-1985 14:06 - Jan: 12-03-1985 is de afspraak\n",
            "12-03-1985 14:05 - Jan: ik ben geboren op\n*****985 en\nmijn bsn is\n*****672\n\
             12-03-1985 14:06 - Jan: 12-03-1985 is de afspraak\n",
        ),
        // The sender is masked too.
        (
            "12-03-2026 14:05 - Jan 111222333: mijn bsn is 123456782\n",
            "12-03-2026 14:05 - Jan ******333: mijn bsn is ******782\n",
        ),
        // iOS, with its left-to-right marks, seconds and AM/PM.
        (
            "\u{200e}[3/12/26, 2:05:11\u{202f}PM] Jan: NL91ABNA0417164300\r\n",
            "\u{200e}[3/12/26, 2:05:11\u{202f}PM] Jan: ***************300\r\n",
        ),
        // A system line (no sender) and lines before the first message are masked as text.
        (
            "export van 111222333\n12-03-2026 14:05 - Jan 111222333 heeft de groep verlaten\n",
            "export van ******333\n12-03-2026 14:05 - Jan ******333 heeft de groep verlaten\n",
        ),
    ];
    for (input, want) in cases {
        let (got, s) = run(Format::WhatsApp, input);
        assert_eq!(&got, want, "input: {input:?}");
        assert!(found(&s, "date_of_birth") <= 1, "{input:?}");
    }
    let (_, s) = run(Format::WhatsApp, cases[0].0);
    assert_eq!((s.lines, s.records), (5, 2));
    assert_eq!((found(&s, "bsn"), found(&s, "date_of_birth")), (1, 1));
}

// --- the binary ---

fn triage(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(["--flows", &root().join("flows").display().to_string()])
        .args(["--rules", &root().join("rules").display().to_string()])
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("it ends");
    writer.join().expect("writer");
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn cli_redacts_a_file_into_a_new_file_and_never_prints_a_value() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("chat.txt"),
        "12-03-2026 14:05 - Jan 111222333: mijn bsn is 123456782\n\
         12-03-2026 14:06 - Jan 111222333: en NL91ABNA0417164300\n",
    )
    .expect("write");
    let o = triage(dir.path(), &["redact", "chat.txt", "-o", "masked.txt"], b"");
    assert!(o.status.success(), "{}", stderr(&o));
    let masked = std::fs::read_to_string(dir.path().join("masked.txt")).expect("output");
    assert_eq!(
        masked,
        "12-03-2026 14:05 - Jan ******333: mijn bsn is ******782\n\
         12-03-2026 14:06 - Jan ******333: en ***************300\n"
    );
    let e = stderr(&o);
    assert!(e.contains("as whatsapp (from the content"), "{e}");
    assert!(e.contains("2 lines, 2 messages"), "{e}");
    assert!(
        e.contains("4 masked: bsn 3 (burgerservicenummer (BSN)), iban 1"),
        "{e}"
    );
    for raw in ["111222333", "123456782", "NL91", "******"] {
        assert!(!e.contains(raw), "the summary shows `{raw}`: {e}");
    }
    // No partial files left beside it.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");

    // An existing output is kept unless --force.
    let o = triage(dir.path(), &["redact", "chat.txt", "-o", "masked.txt"], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("exists already; say --force"),
        "{}",
        stderr(&o)
    );
    let o = triage(
        dir.path(),
        &[
            "redact",
            "--format",
            "text",
            "chat.txt",
            "-o",
            "masked.txt",
            "--force",
        ],
        b"",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // Never the input itself.
    let o = triage(
        dir.path(),
        &["redact", "chat.txt", "-o", "chat.txt", "--force"],
        b"",
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is the input"), "{}", stderr(&o));
}

#[test]
fn cli_stops_at_bad_input_with_its_line_unless_told_to_keep_going() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = b"{\"t\":\"bsn 123456782\"}\n{\"t\": 1\n{\"t\":\"ok\"}\n";
    let o = triage(dir.path(), &["redact", "--format", "jsonl"], input);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("error: line 2: not JSON: EOF while parsing an object at column 7"),
        "{}",
        stderr(&o)
    );
    let o = triage(
        dir.path(),
        &["redact", "--format", "jsonl", "--keep-going"],
        input,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "{\"t\":\"bsn ******782\"}\n{\"t\": 1\n{\"t\":\"ok\"}\n"
    );
    let e = stderr(&o);
    assert!(
        e.contains("1 bad piece passed through masked as plain text"),
        "{e}"
    );
    assert!(e.contains("  line 2: not JSON"), "{e}");
    // CSV from standard input with a chosen delimiter.
    let o = triage(
        dir.path(),
        &["redact", "--format", "csv", "--delimiter", ";", "-"],
        b"naam;bsn\nJan;123456782\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "naam;bsn\nJan;******782\n"
    );
    assert!(stderr(&o).contains("csv, delimiter `;`"), "{}", stderr(&o));
}

/// Peak resident memory of a running process, in bytes.
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The output of a large input arrives while the input is still being written (so it is not
/// read whole first), and the process's peak memory hardly grows from the first megabyte to
/// the last.
#[test]
fn a_large_input_streams_through_in_bounded_memory() {
    const CHUNK: usize = 1 << 20;
    const CHUNKS: usize = 24;
    let chunk: Vec<u8> =
        "12-03-2026 14:05 - Jan: mijn bsn is 123456782 en ik ben geboren op 3 mrt 1985\n\
                          en dit is regel twee van hetzelfde bericht\n"
            .bytes()
            .cycle()
            .take(CHUNK)
            .collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(["--flows", &root().join("flows").display().to_string()])
        .args(["--rules", &root().join("rules").display().to_string()])
        .args(["redact", "--format", "whatsapp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    let pid = child.id();
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    // Reads the output as it comes, reporting the total after each read.
    let (read_tx, read_rx) = std::sync::mpsc::channel::<usize>();
    let reader = std::thread::spawn(move || {
        let mut buf = vec![0; 1 << 16];
        let mut total = 0;
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => return total,
                Ok(n) => {
                    total += n;
                    let _ = read_tx.send(total);
                }
            }
        }
    });
    let wait_for_output = |at_least: usize| loop {
        match read_rx.recv_timeout(std::time::Duration::from_secs(120)) {
            Ok(total) if total >= at_least => return,
            Ok(_) => continue,
            Err(e) => panic!("no output of {at_least} bytes while the input is open: {e}"),
        }
    };
    stdin.write_all(&chunk).expect("write");
    // Half a megabyte of output comes while the input is still open.
    wait_for_output(CHUNK / 2);
    let rss_first = peak_rss(pid).expect("/proc/PID/status");
    for _ in 1..CHUNKS {
        stdin.write_all(&chunk).expect("write");
    }
    wait_for_output((CHUNKS - 1) * CHUNK);
    let rss_last = peak_rss(pid).expect("/proc/PID/status");
    drop(stdin);
    let total = reader.join().expect("reader");
    assert!(child.wait().expect("exit").success());
    assert!(
        total > (CHUNKS - 1) * CHUNK && total < CHUNKS * CHUNK,
        "{total}"
    );
    assert!(
        rss_last < rss_first + 8 * CHUNK as u64,
        "peak memory grew from {rss_first} to {rss_last} bytes over {CHUNKS} MiB of input"
    );
}
