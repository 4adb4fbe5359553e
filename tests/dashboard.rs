//! The dashboard in a real browser: `http::serve` on 127.0.0.1:0 with a
//! hand-built snapshot (2 numbers × 3 carriers: one pair blocked by 603+
//! with redress contacts, one suspect, one unknown), loaded by headless
//! Chromium. Checks the rendered DOM (`--dump-dom`: every cell with its
//! state, the blocked cell's outcome, the redress URL as text, the inline
//! script allowed by the CSP) and keeps a screenshot as the test artifact:
//! `<target dir>/test-artifacts/dashboard.png`.
//!
//! Needs the Debian package `chromium` (`apt-get install -y chromium`;
//! `scripts/test` installs it). Without it this test FAILS, on purpose.
//! `RINGWATCH_CHROMIUM` may name another Chromium/Chrome binary.

use std::fs::{self, File};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{oneshot, watch};

use ringwatch::classify::Outcome;
use ringwatch::daemon::snapshot::{Metrics, PddHistogram, Snapshot};
use ringwatch::http::{HttpOptions, serve};
use ringwatch::probe::ProbeRecord;
use ringwatch::reputation::{Baseline, NumberReport, OutcomeCounts};
use ringwatch::testkit::{self, Redress, params, rec, with_redress};

const N1: &str = "+12025550143";
const N2: &str = "+13125550199";
const CARRIERS: [&str; 3] = ["att", "tmobile", "verizon"];
const REDRESS_URL: &str = "https://redress.example.com/att?case=ABC123";
const TOKEN: &str = "dashboard-test-token";
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(90);

// ------------------------------------------------------------ the snapshot

fn ring(number: &str, carrier: &str, h: i64) -> ProbeRecord {
    rec(number, carrier, h, Outcome::Ringing, Some(487))
}

/// A 603+ exactly as ATIS-1000099 carries it, with redress contacts.
fn block(number: &str, carrier: &str, h: i64) -> ProbeRecord {
    with_redress(
        rec(number, carrier, h, Outcome::NetworkBlocked, Some(603)),
        Redress {
            url: REDRESS_URL,
            tel: "+18005550100",
            email: Some("redress@example.com"),
            id: "123e4567",
        },
    )
}

fn report(number: &str, own: &[ProbeRecord]) -> NumberReport {
    // Other caller IDs ring at att: a block there is about this number.
    let by_outcome: OutcomeCounts = [(Outcome::Ringing, 12)].into_iter().collect();
    let att = Baseline {
        carrier: "att".to_owned(),
        probes: by_outcome.total(),
        by_outcome,
        callers: 3,
    };
    testkit::report(number, &CARRIERS, own, &[att], &params())
}

/// N1: att blocked (603+), tmobile clean, verizon suspect (607).
/// N2: att clean, tmobile clean, verizon unknown (timeouts only).
fn snapshot() -> Snapshot {
    let mut own1: Vec<ProbeRecord> = (0..8).map(|h| ring(N1, "att", h)).collect();
    own1.push(block(N1, "att", 9));
    own1.push(block(N1, "att", 15));
    own1.extend((0..12).map(|h| ring(N1, "tmobile", h * 2)));
    own1.push(ring(N1, "verizon", 1));
    own1.push(ring(N1, "verizon", 3));
    own1.push(rec(N1, "verizon", 5, Outcome::Unwanted, Some(607)));
    own1.push(rec(N1, "verizon", 7, Outcome::Unwanted, Some(607)));

    let mut own2: Vec<ProbeRecord> = (0..6).map(|h| ring(N2, "att", h * 3)).collect();
    own2.extend((0..9).map(|h| ring(N2, "tmobile", h * 2)));
    own2.push(rec(N2, "tmobile", 19, Outcome::Busy, Some(486)));
    own2.push(ring(N2, "tmobile", 21));
    own2.push(rec(N2, "verizon", 2, Outcome::Timeout, None));
    own2.push(rec(N2, "verizon", 8, Outcome::Timeout, None));

    let mut pdd = PddHistogram::default();
    for s in [0.8, 1.2, 2.5, 3.1] {
        pdd.observe(s);
    }
    let mut metrics = Metrics {
        scheduler_lag_seconds: 0.4,
        calls_in_flight: 1,
        ..Metrics::default()
    };
    metrics.pdd_seconds.insert("att".to_owned(), pdd);
    metrics
        .probes_total
        .entry("att".to_owned())
        .or_default()
        .insert("ringing".to_owned(), 14);

    testkit::snapshot(
        "2025-11-20T00:00:00.000Z",
        &CARRIERS,
        vec![
            (N1, Some("Sales <West>"), report(N1, &own1)),
            (N2, Some("Support"), report(N2, &own2)),
        ],
        metrics,
    )
}

fn state_of(s: &Snapshot, number: &str, carrier: &str) -> String {
    testkit::state_of(s, number, carrier).to_owned()
}

// ------------------------------------------------------------ chromium

fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("RINGWATCH_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A fresh directory under the system temp dir.
fn fresh_dir(tag: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("ringwatch-dashboard-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create a temp dir");
    dir
}

/// Run headless Chromium with `args` and a fresh profile; wait (polling,
/// with a timeout) and return its status, stdout and stderr.
fn chromium(bin: &Path, args: &[String]) -> (ExitStatus, String, String) {
    let profile = fresh_dir("profile");
    let out_path = profile.join("stdout.txt");
    let err_path = profile.join("stderr.txt");
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-crash-reporter",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--enable-logging=stderr",
        ])
        .arg(format!(
            "--user-data-dir={}",
            profile.join("data").display()
        ))
        .args(args)
        .env("HOME", &profile)
        .env("XDG_CONFIG_HOME", profile.join("config"))
        .env("XDG_CACHE_HOME", profile.join("cache"))
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let deadline = ringwatch::clock::now() + CHROMIUM_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if ringwatch::clock::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                let err = fs::read_to_string(&err_path).unwrap_or_default();
                panic!("chromium did not finish within {CHROMIUM_TIMEOUT:?}; stderr:\n{err}");
            }
            Err(e) => panic!("waiting for chromium: {e}"),
        }
    };
    let out = fs::read_to_string(&out_path).unwrap_or_default();
    let err = fs::read_to_string(&err_path).unwrap_or_default();
    let _ = fs::remove_dir_all(&profile);
    (status, out, err)
}

// ------------------------------------------------------------ DOM helpers

/// The value of `name="…"` in an opening tag.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let rest = tag.get(start..)?;
    rest.get(..rest.find('"')?)
}

/// Every grid cell: (opening tag, whole element).
fn cells(dom: &str) -> Vec<(&str, &str)> {
    dom.match_indices("<td ")
        .filter_map(|(i, _)| {
            let rest = dom.get(i..)?;
            let tag = rest.get(..rest.find('>')? + 1)?;
            let whole = rest.get(..rest.find("</td>")? + 5)?;
            attr(tag, "data-carrier").map(|_| (tag, whole))
        })
        .collect()
}

/// The PNG's width and height from its IHDR chunk.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.get(..8)? != b"\x89PNG\r\n\x1a\n" || bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(bytes.get(16..20)?.try_into().ok()?);
    let h = u32::from_be_bytes(bytes.get(20..24)?.try_into().ok()?);
    Some((w, h))
}

// ------------------------------------------------------------ the test

#[test]
fn dashboard_in_headless_chromium() {
    let Some(bin) = find_chromium() else {
        panic!(
            "chromium is not installed, and the dashboard test needs it.\n\
             Install it with:\n    sudo apt-get install -y chromium\n\
             (scripts/test does this), or set RINGWATCH_CHROMIUM to a Chromium/Chrome binary."
        );
    };
    let snap = snapshot();
    // The fixture is what we think it is.
    assert_eq!(state_of(&snap, N1, "att"), "blocked");
    assert_eq!(state_of(&snap, N1, "verizon"), "suspect");
    assert_eq!(state_of(&snap, N2, "verizon"), "unknown");

    // The server runs on its own worker threads while this thread waits
    // for chromium.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (tx, rx) = watch::channel(Arc::new(snap.clone()));
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let (addr, server): (SocketAddr, _) = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let opts = HttpOptions {
            token: Some(TOKEN.to_owned()),
            number_labels: false,
        };
        let server = tokio::spawn(serve(listener, rx, opts, async move {
            let _ = stop_rx.await;
        }));
        (addr, server)
    });
    let url = format!("http://{addr}/?token={TOKEN}");

    // 1. The DOM after load (the inline script has run by then).
    // 12 s of virtual time: the 10 s refresh (fetch + swap of #rw) runs once.
    let (status, dom, err) = chromium(
        &bin,
        &[
            "--virtual-time-budget=12000".to_owned(),
            "--dump-dom".to_owned(),
            url.clone(),
        ],
    );
    assert!(
        status.success(),
        "chromium --dump-dom failed ({status}); stderr:\n{err}"
    );
    assert!(
        dom.contains("<title>ringwatch</title>"),
        "not the dashboard:\n{dom}"
    );
    let grid = cells(&dom);
    assert_eq!(grid.len(), 6, "2 numbers × 3 carriers:\n{dom}");
    for n in [N1, N2] {
        for c in CARRIERS {
            let (tag, _) = grid
                .iter()
                .find(|(t, _)| {
                    attr(t, "data-number") == Some(n) && attr(t, "data-carrier") == Some(c)
                })
                .unwrap_or_else(|| panic!("no cell for {n} at {c}"));
            assert_eq!(
                attr(tag, "data-state"),
                Some(state_of(&snap, n, c).as_str()),
                "{n} {c}: {tag}"
            );
        }
    }
    let (_, blocked) = grid
        .iter()
        .find(|(t, _)| attr(t, "data-state") == Some("blocked"))
        .expect("a blocked cell");
    assert!(blocked.contains("network_blocked 603"), "{blocked}");
    assert!(blocked.contains("attribution: <b>number</b>"), "{blocked}");
    assert!(
        blocked.contains("<svg class=\"spark\""),
        "no sparkline: {blocked}"
    );
    // The redress URL is on the page as text, and nowhere as a link.
    assert!(
        dom.contains(&format!("<span class=\"redress-url\">{REDRESS_URL}</span>")),
        "redress url missing:\n{dom}"
    );
    assert!(!dom.contains(&format!("href=\"{REDRESS_URL}")));
    assert!(dom.contains("<span class=\"redress-tel\">+18005550100</span>"));
    // The label was escaped, not parsed as a tag.
    assert!(
        dom.contains("Sales &lt;West&gt;"),
        "label not escaped:\n{dom}"
    );
    assert!(!dom.contains("<west>"));
    // The inline script ran (the CSP hash admits it) and its refresh
    // fetched the page again and swapped the grid in.
    assert!(
        dom.contains("auto-refresh every 10 s, last "),
        "the dashboard script did not run or refresh (CSP?):\n{dom}\nstderr:\n{err}"
    );
    assert!(
        !err.contains("Refused to"),
        "the page violated its Content-Security-Policy:\n{err}"
    );

    // 2. The screenshot, kept as the test artifact.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf);
    let artifacts = target.join("test-artifacts");
    fs::create_dir_all(&artifacts).expect("artifacts dir");
    let png = artifacts.join("dashboard.png");
    let _ = fs::remove_file(&png);
    let (status, _, err) = chromium(
        &bin,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1280,900".to_owned(),
            url,
        ],
    );
    assert!(
        status.success(),
        "chromium --screenshot failed ({status}); stderr:\n{err}"
    );
    let bytes = fs::read(&png).unwrap_or_else(|e| panic!("{}: {e}; stderr:\n{err}", png.display()));
    assert_eq!(png_size(&bytes), Some((1280, 900)), "not a 1280×900 PNG");
    assert!(
        bytes.len() > 20_000,
        "suspiciously small screenshot: {} bytes",
        bytes.len()
    );
    println!("dashboard screenshot: {}", png.display());

    // 3. Shut the server down.
    let _ = stop_tx.send(());
    let res = rt
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), server).await })
        .expect("serve stopped")
        .expect("join");
    assert!(res.is_ok(), "{res:?}");
    drop(tx);
}
