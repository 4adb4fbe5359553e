//! Issue 3's "Done when", end to end against SIPp far ends: one caller ID
//! rings at carrier `att` (ring_cancel), another is 603+-blocked there
//! (nb_sip). Both probes are recorded in the `[store] path` of the config;
//! then `check`, `history`, `evidence --pcap` (decoded by tshark), `export`
//! and `reclassify` read them back, and two `probe` processes write one
//! database at once.
//!
//! Each test builds its own store in its own temp directory (kept, with
//! SIPp's traces, when the test fails).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::thread;

use serde_json::{Value, json};

use crate::common::{
    DESTINATION, FROM, RECORD_KEYS, RingwatchRun, Sipp, TempDir, header, json_lines, tshark,
};

/// The number that rings.
const A: &str = FROM;
/// The number that is 603+-blocked.
const B: &str = "+13125550101";
/// A number that was never probed.
const NEVER: &str = "+12025550199";
/// The one configured carrier.
const CARRIER: &str = "att";

/// What nb_sip sends (tests/scenarios/nb_sip.xml).
const NB_REASON: &str = "SIP;cause=603;text=\"v=analytics1;url=https://redress.carrier.example/blocked;tel=+18005550199;email=redress@carrier.example;id=blk-7Q2M-0031\";location=RLN";
const REDRESS_URL: &str = "https://redress.carrier.example/blocked";
const REDRESS_TEL: &str = "+18005550199";
const REDRESS_EMAIL: &str = "redress@carrier.example";

/// Two owned numbers, one carrier with one destination, the trunk at
/// `port`, the history database at `db`.
fn two_number_config(port: u16, db: &Path) -> String {
    let db = db.to_str().expect("utf-8 temp path");
    assert!(!db.contains('\''), "temp path {db} needs TOML escaping");
    format!(
        r#"[trunk]
proxy = "127.0.0.1:{port}"
transport = "udp"

[call]
ring_seconds = 1
t1_ms = 100
linger_ms = 200

[store]
path = '{db}'

[[numbers]]
number = "{A}"

[[numbers]]
number = "{B}"

[[carriers]]
name = "{CARRIER}"
destinations = ["{DESTINATION}"]
"#
    )
}

/// One recorded probe and what SIPp saw of it.
struct Probed {
    /// The JSON record `probe --json` printed.
    record: Value,
    /// The Call-ID of the INVITE SIPp received.
    call_id: String,
    /// SIPp's port (the trunk address in the pcap).
    sipp_port: u16,
}

impl Probed {
    fn id(&self) -> &str {
        self.record["id"].as_str().expect("record id is a string")
    }

    fn started_at(&self) -> &str {
        self.record["started_at"]
            .as_str()
            .expect("started_at is a string")
    }
}

/// Start SIPp with `scenario` in `dir`, write `config_name` pointing at it
/// and at `db`, run `probe --from number --json` (recorded), and check both
/// sides: SIPp passed, the exit code, one record with `outcome`.
fn probe_through(
    dir: &TempDir,
    scenario: &str,
    number: &str,
    config_name: &str,
    db: &Path,
    exit: i32,
    outcome: &str,
) -> Probed {
    let sipp = Sipp::start(dir, scenario, &[]);
    let sipp_port = sipp.port;
    let cfg = dir.write(config_name, &two_number_config(sipp_port, db));
    let cfg = cfg.to_str().expect("utf-8 temp path");
    let run = RingwatchRun::run(
        dir,
        &["--config", cfg, "probe", "--from", number, "--json"],
        &[],
    );
    let sipp = sipp.finish();
    let diag = || {
        format!(
            "--- temp dir (kept): {}\n{}\n{}",
            dir.path().display(),
            run.diagnostics(),
            sipp.diagnostics()
        )
    };
    assert!(sipp.passed(), "SIPp ({scenario}) failed\n{}", diag());
    assert_eq!(run.code, Some(exit), "probe exit code\n{}", diag());
    assert!(!run.stderr.contains("NOT recorded"), "{}", diag());
    let records = json_lines(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", diag()));
    let [record] = records.as_slice() else {
        panic!("expected one record, got {}\n{}", records.len(), diag());
    };
    assert_eq!(record["caller_id"], number, "{}", diag());
    assert_eq!(record["carrier"], CARRIER, "{}", diag());
    assert_eq!(record["outcome"], outcome, "{}", diag());
    let invite = sipp.received_requests("INVITE");
    let call_id = invite
        .first()
        .and_then(|m| header(m, "Call-ID"))
        .unwrap_or_else(|| panic!("SIPp saw no INVITE with a Call-ID\n{}", diag()))
        .to_owned();
    assert_eq!(record["call_id"], call_id.as_str(), "{}", diag());
    Probed {
        record: record.clone(),
        call_id,
        sipp_port,
    }
}

/// A store with A's ringing probe and B's 603+ probe, both at `att`.
struct World {
    dir: TempDir,
    cfg: PathBuf,
    db: PathBuf,
    a: Probed,
    b: Probed,
}

impl World {
    fn build(name: &str) -> World {
        let dir = TempDir::new(name);
        let db = dir.join("history.db");
        let a = probe_through(&dir, "ring_cancel", A, "probes_a.toml", &db, 0, "ringing");
        let b = probe_through(
            &dir,
            "nb_sip",
            B,
            "probes_b.toml",
            &db,
            1,
            "network_blocked",
        );
        assert!(db.is_file(), "probe did not create {}", db.display());
        // The readers use B's config (both configs name the same store).
        let cfg = dir.join("probes_b.toml");
        World { dir, cfg, db, a, b }
    }

    /// `ringwatch --config <cfg> <args...>`.
    fn run(&self, args: &[&str]) -> RingwatchRun {
        let cfg = self.cfg.to_str().expect("utf-8 temp path");
        let mut all = vec!["--config", cfg];
        all.extend_from_slice(args);
        RingwatchRun::run(&self.dir, &all, &[])
    }

    /// Run, and require exit code `exit` and no panic.
    fn expect(&self, args: &[&str], exit: i32) -> RingwatchRun {
        let run = self.run(args);
        assert!(
            run.code == Some(exit) && !run.stderr.contains("panicked"),
            "ringwatch {args:?}: want exit {exit}\n{}",
            self.diag(&run)
        );
        run
    }

    /// Run `args` (with `--json`), require `exit`, parse the one object.
    fn json(&self, args: &[&str], exit: i32) -> (RingwatchRun, Value) {
        let run = self.expect(args, exit);
        let value = serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "ringwatch {args:?}: stdout is not one JSON object: {e}\n{}",
                self.diag(&run)
            )
        });
        (run, value)
    }

    fn diag(&self, run: &RingwatchRun) -> String {
        format!(
            "--- temp dir (kept): {}\n--- A's record: {}\n--- B's record: {}\n{}",
            self.dir.path().display(),
            self.a.record,
            self.b.record,
            run.diagnostics()
        )
    }
}

/// The one per-carrier entry of a `history`/`check` report, with the
/// contract keys present.
fn only_carrier<'a>(report: &'a Value, context: &str) -> &'a Value {
    let carriers = report["carriers"]
        .as_array()
        .unwrap_or_else(|| panic!("no `carriers` array\n{context}"));
    let [entry] = carriers.as_slice() else {
        panic!("want one carrier entry, got {}\n{context}", carriers.len());
    };
    for key in [
        "carrier",
        "state",
        "attribution",
        "since",
        "last_outcome",
        "redress",
    ] {
        assert!(entry.get(key).is_some(), "entry has no `{key}`\n{context}");
    }
    assert_eq!(entry["carrier"], CARRIER, "{context}");
    entry
}

#[test]
fn check_is_ready_for_the_ringing_number_and_names_the_blocking_carrier_for_the_other() {
    let w = World::build("check_ready_not_ready");

    // A rang: ready.
    let run = w.expect(&["check", A], 0);
    assert!(
        run.stdout.starts_with(&format!("READY {A}")),
        "{}",
        w.diag(&run)
    );
    let (run, report) = w.json(&["check", A, "--json"], 0);
    let ctx = w.diag(&run);
    assert_eq!(report["verdict"], "ready", "{ctx}");
    let entry = only_carrier(&report, &ctx);
    assert_eq!(entry["state"], "clean", "{ctx}");
    assert_eq!(entry["attribution"], Value::Null, "{ctx}");
    assert_eq!(entry["fresh"], true, "{ctx}");

    // B was 603+-blocked at att while A rang there: not ready, the number's fault.
    let run = w.expect(&["check", B], 1);
    let ctx = w.diag(&run);
    assert!(run.stdout.starts_with(&format!("NOT READY {B}")), "{ctx}");
    assert!(
        run.stdout.contains("att: blocked"),
        "names the carrier\n{ctx}"
    );
    for contact in [REDRESS_URL, REDRESS_TEL, REDRESS_EMAIL] {
        assert!(run.stdout.contains(contact), "names {contact}\n{ctx}");
    }
    assert!(
        run.stdout
            .contains(&format!("ringwatch evidence {}", w.b.id())),
        "points at the evidence\n{ctx}"
    );
    let (run, report) = w.json(&["check", B, "--json"], 1);
    let ctx = w.diag(&run);
    assert_eq!(report["verdict"], "not_ready", "{ctx}");
    assert_eq!(report["number"], B, "{ctx}");
    let entry = only_carrier(&report, &ctx);
    assert_eq!(entry["state"], "blocked", "{ctx}");
    assert_eq!(entry["attribution"], "number", "A rang at att\n{ctx}");
    assert_eq!(entry["redress"]["url"], json!([REDRESS_URL]), "{ctx}");
    assert_eq!(entry["redress"]["tel"], json!([REDRESS_TEL]), "{ctx}");
    assert_eq!(entry["redress"]["email"], json!([REDRESS_EMAIL]), "{ctx}");
    assert_eq!(entry["last_probe_id"], w.b.id(), "{ctx}");
    assert_eq!(entry["evidence"]["others_alerting"], 1, "{ctx}");

    // Never probed: unknown, with the probe command that fills the gap.
    let run = w.expect(&["check", NEVER], 3);
    let ctx = w.diag(&run);
    assert!(run.stdout.starts_with(&format!("UNKNOWN {NEVER}")), "{ctx}");
    assert!(
        run.stdout.contains(&format!(
            "ringwatch probe --from {NEVER} --carrier {CARRIER}"
        )),
        "suggests the probe\n{ctx}"
    );
    let (run, report) = w.json(&["check", NEVER, "--json"], 3);
    let ctx = w.diag(&run);
    assert_eq!(report["verdict"], "unknown", "{ctx}");
    let entry = only_carrier(&report, &ctx);
    assert_eq!(entry["state"], "unknown", "{ctx}");
    assert_eq!(entry["fresh"], false, "{ctx}");
    assert_eq!(entry["probes"], 0, "{ctx}");
}

#[test]
fn history_json_shows_the_block_since_its_probe_and_the_open_incident() {
    let w = World::build("history_incident");

    let (run, report) = w.json(&["history", B, "--json"], 0);
    let ctx = w.diag(&run);
    assert_eq!(report["number"], B, "{ctx}");
    let entry = only_carrier(&report, &ctx);
    assert_eq!(entry["state"], "blocked", "{ctx}");
    assert_eq!(entry["attribution"], "number", "{ctx}");
    assert_eq!(
        entry["since"],
        w.b.started_at(),
        "blocked since B's probe\n{ctx}"
    );
    assert_eq!(entry["last_outcome"], "network_blocked", "{ctx}");
    assert_eq!(entry["last_status"], 603, "{ctx}");
    assert_eq!(entry["last_at"], w.b.started_at(), "{ctx}");
    assert_eq!(entry["counts"], json!({"network_blocked": 1}), "{ctx}");
    assert_eq!(entry["probes"], 1, "{ctx}");
    assert_eq!(
        entry["redress"],
        json!({"url": [REDRESS_URL], "tel": [REDRESS_TEL], "email": [REDRESS_EMAIL]}),
        "{ctx}"
    );
    assert_eq!(entry["locations"], json!(["RLN"]), "{ctx}");
    assert_eq!(entry["timeline"], "B", "{ctx}");
    assert_eq!(
        entry["incidents"],
        json!([{
            "started_at": w.b.started_at(),
            "cleared_at": null,
            "state": "blocked",
            "first_outcome": "network_blocked",
            "probes": 1,
        }]),
        "one open incident\n{ctx}"
    );

    // A: clean since its ringing probe, no incident.
    let (run, report) = w.json(&["history", A, "--json"], 0);
    let ctx = w.diag(&run);
    let entry = only_carrier(&report, &ctx);
    assert_eq!(entry["state"], "clean", "{ctx}");
    assert_eq!(entry["attribution"], Value::Null, "{ctx}");
    assert_eq!(entry["since"], w.a.started_at(), "{ctx}");
    assert_eq!(entry["last_outcome"], "ringing", "{ctx}");
    assert_eq!(entry["last_status"], 487, "{ctx}");
    assert_eq!(entry["timeline"], "R", "{ctx}");
    assert_eq!(entry["incidents"], json!([]), "{ctx}");
    assert_eq!(
        entry["redress"],
        json!({"url": [], "tel": [], "email": []}),
        "{ctx}"
    );

    // The table says the same.
    let run = w.expect(&["history", B], 0);
    let ctx = w.diag(&run);
    for text in [
        "att",
        "blocked",
        "network_blocked 603",
        REDRESS_URL,
        "-> open",
    ] {
        assert!(run.stdout.contains(text), "table lacks {text:?}\n{ctx}");
    }

    // Never probed: exit 3 and says so, in text and JSON form.
    for args in [&["history", NEVER][..], &["history", NEVER, "--json"][..]] {
        let run = w.expect(args, 3);
        let ctx = w.diag(&run);
        assert!(
            run.stderr.contains(&format!("{NEVER} was never probed"))
                && run
                    .stderr
                    .contains(&format!("ringwatch probe --from {NEVER}")),
            "{ctx}"
        );
    }
}

/// tshark's `-T fields -e sip.Method -e sip.Status-Code -e sip.Reason`
/// lines as (method, status, reason).
fn sip_fields(text: &str) -> Vec<(String, String, String)> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut f = l.split('\t').map(str::to_owned);
            (
                f.next().unwrap_or_default(),
                f.next().unwrap_or_default(),
                f.next().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn evidence_names_the_call_and_its_pcap_decodes_in_tshark() {
    let w = World::build("evidence_pcap");
    let pcap = w.dir.join("b.pcap");
    let pcap_s = pcap.to_str().expect("utf-8 temp path");

    let run = w.expect(&["evidence", w.b.id(), "--pcap", pcap_s], 0);
    let ctx = w.diag(&run);
    for text in [
        w.b.id(),
        w.b.started_at(),
        w.b.call_id.as_str(),
        B,
        DESTINATION,
        CARRIER,
        "SIP/2.0 603 Network Blocked",
        &format!("Reason: {NB_REASON}"),
        REDRESS_URL,
        REDRESS_TEL,
    ] {
        assert!(run.stdout.contains(text), "evidence lacks {text:?}\n{ctx}");
    }
    assert!(
        run.stdout
            .contains(&format!("Call-ID:        {}", w.b.call_id)),
        "{ctx}"
    );
    assert!(pcap.is_file(), "no pcap at {pcap_s}\n{ctx}");

    // tshark decodes the exchange: INVITE first, the 603 with its Reason, the ACK.
    let fields = tshark(
        &pcap,
        &[
            "-Y",
            "sip",
            "-T",
            "fields",
            "-e",
            "sip.Method",
            "-e",
            "sip.Status-Code",
            "-e",
            "sip.Reason",
        ],
    );
    let rows = sip_fields(&fields);
    let ctx = format!("{ctx}\n--- tshark fields:\n{fields}");
    let row = |m: &str, s: &str, r: &str| (m.to_owned(), s.to_owned(), r.to_owned());
    assert_eq!(rows.first(), Some(&row("INVITE", "", "")), "{ctx}");
    assert!(rows.contains(&row("", "100", "")), "{ctx}");
    assert!(
        rows.contains(&row("", "603", NB_REASON)),
        "tshark finds the 603 with its Reason\n{ctx}"
    );
    assert!(rows.contains(&row("ACK", "", "")), "{ctx}");
    let methods: BTreeSet<&str> = rows
        .iter()
        .map(|(m, _, _)| m.as_str())
        .filter(|m| !m.is_empty())
        .collect();
    assert_eq!(methods, BTreeSet::from(["INVITE", "ACK"]), "{ctx}");

    // The INVITE frame carries the recorded addresses and time.
    let invites = tshark(
        &pcap,
        &[
            "-Y",
            "sip.Method == \"INVITE\"",
            "-T",
            "fields",
            "-e",
            "ip.dst",
            "-e",
            "udp.dstport",
            "-e",
            "sip.Call-ID",
            "-e",
            "frame.time_epoch",
        ],
    );
    let invite_rows: Vec<Vec<&str>> = invites
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').collect())
        .collect();
    let ctx = format!("{ctx}\n--- tshark INVITEs:\n{invites}");
    assert!(!invite_rows.is_empty(), "no INVITE frame\n{ctx}");
    let first = &invite_rows[0];
    assert_eq!(first.first(), Some(&"127.0.0.1"), "{ctx}");
    assert_eq!(
        first.get(1),
        Some(&w.b.sipp_port.to_string().as_str()),
        "{ctx}"
    );
    assert_eq!(first.get(2), Some(&w.b.call_id.as_str()), "{ctx}");
    let epoch: f64 = first
        .get(3)
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("frame.time_epoch\n{ctx}"));
    let started = chrono::DateTime::parse_from_rfc3339(w.b.started_at()).expect("started_at");
    #[allow(clippy::cast_precision_loss, reason = "ms since 1970 fit f64 exactly")]
    let started = started.timestamp_millis() as f64 / 1000.0;
    assert!(
        (epoch - started).abs() < 1.0,
        "INVITE frame at {epoch}, probe started at {started}\n{ctx}"
    );

    // A's evidence shows the CANCEL ladder.
    let run = w.expect(&["evidence", w.a.id()], 0);
    let ctx = w.diag(&run);
    for text in [
        "SIP/2.0 180 Ringing",
        "CANCEL sip:",
        "SIP/2.0 487 Request Terminated",
        w.a.call_id.as_str(),
    ] {
        assert!(run.stdout.contains(text), "evidence lacks {text:?}\n{ctx}");
    }

    // An unknown id: exit 2, one line naming it, and no pcap written.
    let unknown = "00000000-0000-7000-8000-000000000000";
    let missing = w.dir.join("unknown.pcap");
    let run = w.run(&[
        "evidence",
        unknown,
        "--pcap",
        missing.to_str().expect("utf-8"),
    ]);
    run.assert_clean_error();
    assert!(run.stderr.contains(unknown), "{}", w.diag(&run));
    assert!(run.stdout.is_empty(), "{}", w.diag(&run));
    assert!(!missing.exists(), "a pcap for an unknown probe");
}

#[test]
fn export_lists_both_recorded_probes_and_reclassify_changes_nothing() {
    let w = World::build("export_reclassify");

    // CSV: the header and one row per probe.
    let run = w.expect(&["export", "--format", "csv"], 0);
    let ctx = w.diag(&run);
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let headers = reader.headers().expect("csv header").clone();
    let want_head = [
        "id",
        "started_at",
        "caller_id",
        "carrier",
        "destination",
        "call_id",
        "outcome",
        "rang",
        "status",
        "reason_phrase",
    ];
    let got_head: Vec<&str> = headers.iter().take(want_head.len()).collect();
    assert_eq!(got_head, want_head, "{ctx}");
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no CSV column {name}\n{ctx}"))
    };
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("bad CSV: {e}\n{ctx}"));
    assert_eq!(rows.len(), 2, "{ctx}");
    for (p, number, outcome, status) in [
        (&w.a, A, "ringing", "487"),
        (&w.b, B, "network_blocked", "603"),
    ] {
        let row = rows
            .iter()
            .find(|r| &r[0] == p.id())
            .unwrap_or_else(|| panic!("no CSV row for {}\n{ctx}", p.id()));
        assert_eq!(&row[col("caller_id")], number, "{ctx}");
        assert_eq!(&row[col("carrier")], CARRIER, "{ctx}");
        assert_eq!(&row[col("destination")], DESTINATION, "{ctx}");
        assert_eq!(&row[col("call_id")], p.call_id, "{ctx}");
        assert_eq!(&row[col("outcome")], outcome, "{ctx}");
        assert_eq!(&row[col("status")], status, "{ctx}");
        assert_eq!(&row[col("started_at")], p.started_at(), "{ctx}");
    }
    let b_row = rows.iter().find(|r| &r[0] == w.b.id()).expect("B's row");
    assert_eq!(&b_row[col("redress_url")], REDRESS_URL, "{ctx}");
    assert_eq!(&b_row[col("analytics_standard")], "ATIS-1000099", "{ctx}");

    // JSON Lines: the stored records are the records `probe` reported.
    let run = w.expect(&["export", "--format", "json"], 0);
    let ctx = w.diag(&run);
    let lines = json_lines(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{ctx}"));
    assert_eq!(lines.len(), 2, "{ctx}");
    for line in &lines {
        for key in RECORD_KEYS {
            assert!(
                line.get(key).is_some(),
                "exported record lacks {key}\n{ctx}"
            );
        }
    }
    let exported_ids: BTreeSet<&str> = lines.iter().filter_map(|l| l["id"].as_str()).collect();
    assert_eq!(exported_ids, BTreeSet::from([w.a.id(), w.b.id()]), "{ctx}");
    for p in [&w.a, &w.b] {
        let stored = lines.iter().find(|l| l["id"] == p.id()).expect("by id");
        assert_eq!(stored, &p.record, "stored != reported\n{ctx}");
    }

    // The classifier has not changed since: nothing to re-derive.
    let run = w.expect(&["reclassify", "--dry-run"], 0);
    assert_eq!(
        run.stdout.trim(),
        "examined 2 probe(s); would change 0",
        "{}",
        w.diag(&run)
    );
    let run = w.expect(&["reclassify"], 0);
    assert_eq!(
        run.stdout.trim(),
        "examined 2 probe(s); changed 0",
        "{}",
        w.diag(&run)
    );
    let run = w.expect(&["export", "--format", "json"], 0);
    assert_eq!(
        json_lines(&run.stdout).unwrap_or_default(),
        lines,
        "reclassify changed stored records\n{}",
        w.diag(&run)
    );
    assert!(w.db.is_file());
}

#[test]
fn two_probe_processes_record_into_one_database_at_once() {
    let shared = TempDir::new("concurrent_db");
    let db = shared.join("history.db");
    // An empty WAL-mode database at schema 0 (what ringwatch's own first
    // open makes before it migrates): both processes race to migrate it,
    // and the second must wait for the first. Both far ends ring, so both
    // calls end, and are inserted, about ring_seconds after they start.
    // (Not a missing file: two processes creating a new file at once hit a
    // store bug, see bad_store::a_probe_waits_for_a_process_creating_the_database.)
    {
        let conn = rusqlite::Connection::open(&db).expect("create the empty database");
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .expect("WAL");
        assert_eq!(mode, "wal");
    }
    let dirs = [TempDir::new("concurrent_a"), TempDir::new("concurrent_b")];
    let sipps: Vec<Sipp> = dirs
        .iter()
        .map(|d| Sipp::start(d, "ring_cancel", &[]))
        .collect();
    let cfgs: Vec<PathBuf> = dirs
        .iter()
        .zip(&sipps)
        .map(|(d, s)| d.write("probes.toml", &two_number_config(s.port, &db)))
        .collect();
    let runs: Vec<RingwatchRun> = thread::scope(|scope| {
        let handles: Vec<_> = dirs
            .iter()
            .zip(&cfgs)
            .zip([A, B])
            .map(|((dir, cfg), number)| {
                scope.spawn(move || {
                    let cfg = cfg.to_str().expect("utf-8 temp path");
                    RingwatchRun::run(
                        dir,
                        &["--config", cfg, "probe", "--from", number, "--json"],
                        &[],
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("probe thread"))
            .collect()
    });
    let sipp_runs: Vec<_> = sipps.into_iter().map(Sipp::finish).collect();
    let diag = || {
        let mut s = format!("--- shared dir (kept): {}\n", shared.path().display());
        for ((dir, run), sipp) in dirs.iter().zip(&runs).zip(&sipp_runs) {
            s.push_str(&format!(
                "=== {}\n{}\n{}\n",
                dir.path().display(),
                run.diagnostics(),
                sipp.diagnostics()
            ));
        }
        s
    };
    let mut reported = BTreeSet::new();
    for (run, number) in runs.iter().zip([A, B]) {
        assert_eq!(run.code, Some(0), "probe from {number}\n{}", diag());
        assert!(
            run.stderr.trim().is_empty(),
            "probe from {number} said something on stderr\n{}",
            diag()
        );
        let records = json_lines(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", diag()));
        assert_eq!(records.len(), 1, "{}", diag());
        assert_eq!(records[0]["caller_id"], number, "{}", diag());
        assert_eq!(records[0]["outcome"], "ringing", "{}", diag());
        reported.insert(records[0]["id"].as_str().expect("id").to_owned());
    }
    for sipp in &sipp_runs {
        assert!(sipp.passed(), "SIPp failed\n{}", diag());
    }

    let db_s = db.to_str().expect("utf-8 temp path");
    let export = RingwatchRun::run(&shared, &["--db", db_s, "export", "--format", "json"], &[]);
    assert_eq!(export.code, Some(0), "{}\n{}", export.diagnostics(), diag());
    let lines = json_lines(&export.stdout).unwrap_or_else(|e| panic!("{e}\n{}", diag()));
    let stored: BTreeSet<String> = lines
        .iter()
        .filter_map(|l| l["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(stored, reported, "both probes stored\n{}", diag());
    assert_eq!(lines.len(), 2, "{}", diag());
    // Each number's history sees its own probe.
    for number in [A, B] {
        let run = RingwatchRun::run(&shared, &["--db", db_s, "history", number, "--json"], &[]);
        assert_eq!(run.code, Some(0), "{}\n{}", run.diagnostics(), diag());
    }
}
