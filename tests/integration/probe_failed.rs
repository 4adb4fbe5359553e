//! The outcome `failed` against a real peer: SIPp answers the INVITE with
//! `488 Not Acceptable Here` (tests/scenarios/not_acceptable_488.xml), a
//! code that says nothing about the caller ID.

use serde_json::{Value, json};

use crate::common::{
    Expect, FROM, Options, ProbeCase, RingwatchRun, Sipp, TempDir, config, json_lines,
};

fn failed_488() -> Expect {
    Expect {
        outcome: "failed",
        rang: false,
        status: Some(488),
        reason_phrase: Some("Not Acceptable Here"),
        analytics: None,
        retry_after_s: None,
        exit: 1,
    }
}

#[test]
fn not_acceptable_488_is_failed_with_its_warning() {
    let case = ProbeCase::run(
        "not_acceptable_488",
        "not_acceptable_488",
        &Options::default(),
    );
    let mut problems = case.check(&failed_488());
    if let Some(Ok(rec)) = case.lines.first() {
        let warnings = rec.get("warnings").unwrap_or(&Value::Null);
        let want = json!([{
            "code": 305,
            "agent": "sipp.example",
            "text": "Incompatible media format",
            "raw": "305 sipp.example \"Incompatible media format\"",
        }]);
        if *warnings != want {
            problems.push(format!("warnings: got {warnings}, want {want}"));
        }
        for (key, want) in [
            ("reasons", json!([])),
            ("q850_cause", Value::Null),
            ("cancelled_by_us", json!(false)),
            ("provisionals", json!([100])),
        ] {
            let got = rec.get(key).unwrap_or(&Value::Null);
            if *got != want {
                problems.push(format!("{key}: got {got}, want {want}"));
            }
        }
    }
    case.fail_if(&problems);
}

/// README: "Codes that say nothing about the number (401/407, 5xx,
/// timeouts, 488, 404) count against the route, not the number". A recorded
/// 488 must not make the number suspect or blocked, nor pass `check`.
#[test]
fn a_recorded_488_counts_against_the_route_not_the_number() {
    let dir = TempDir::new("failed_488_recorded");
    let sipp = Sipp::start(&dir, "not_acceptable_488", &[]);
    let cfg = dir.write("probes.toml", &config(sipp.port, false));
    let probe = RingwatchRun::probe(&dir, &cfg, &["--json"], &[]);
    let sipp = sipp.finish();
    let diag = |what: &RingwatchRun| {
        format!(
            "--- temp dir (kept): {}\n{}\n{}",
            dir.path().display(),
            what.diagnostics(),
            sipp.diagnostics()
        )
    };
    assert!(sipp.passed(), "SIPp's scenario failed\n{}", diag(&probe));
    assert_eq!(probe.code, Some(1), "probe exit\n{}", diag(&probe));
    let records = json_lines(&probe.stdout).unwrap_or_else(|e| panic!("{e}\n{}", diag(&probe)));
    assert_eq!(records.len(), 1, "one record\n{}", diag(&probe));
    assert_eq!(records[0]["outcome"], "failed", "{}", diag(&probe));
    // Recorded: the default store is ringwatch.db beside the config.
    assert!(dir.join("ringwatch.db").is_file(), "{}", diag(&probe));

    let cfg_s = cfg.to_str().expect("utf-8 temp path");
    let history = RingwatchRun::run(&dir, &["--config", cfg_s, "history", FROM, "--json"], &[]);
    assert_eq!(history.code, Some(0), "history exit\n{}", diag(&history));
    let report: Value = serde_json::from_str(history.stdout.trim())
        .unwrap_or_else(|e| panic!("history --json: {e}\n{}", diag(&history)));
    let lab = &report["carriers"][0];
    assert_eq!(lab["carrier"], "lab", "{}", diag(&history));
    assert_eq!(lab["state"], "unknown", "{}", diag(&history));
    assert_ne!(lab["attribution"], "number", "{}", diag(&history));
    assert_eq!(lab["last_outcome"], "failed", "{}", diag(&history));
    assert_eq!(lab["last_status"], 488, "{}", diag(&history));
    assert_eq!(lab["counts"], json!({"failed": 1}), "{}", diag(&history));
    assert_eq!(lab["incidents"], json!([]), "{}", diag(&history));
    assert_eq!(report["verdict"], "unknown", "{}", diag(&history));

    let check = RingwatchRun::run(&dir, &["--config", cfg_s, "check", FROM], &[]);
    assert_eq!(
        check.code,
        Some(3),
        "check: a 488 is no evidence about the number\n{}",
        diag(&check)
    );
}
