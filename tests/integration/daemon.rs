//! Issue 4's "Done when" for `ringwatch daemon`, end to end: the real binary
//! runs for tens of seconds against the built-in lab (`proxy = "lab"`) and a
//! SIPp far end, and the tests check what it did from the outside only (its
//! HTTP endpoints, a webhook receiver, its logs, the store read back through
//! `ringwatch export`/`history`, and the far end's own trace):
//!
//! - a number that becomes blocked at a carrier (a SIGHUP adds the lab rule)
//!   fires the clean→blocked webhook; `/metrics` and `/api` agree with the
//!   store; an invalid config on SIGHUP is rejected and the daemon carries on;
//!   SIGTERM exits 0 ([`lab_block_alert_reload_metrics_and_api`]);
//! - the daily budget per number holds, also across a restart, and nothing
//!   is placed outside the calling window ([`budget_holds_across_a_restart`],
//!   [`nothing_is_placed_outside_the_window`]);
//! - SIGTERM with a call ringing at SIPp CANCELs it (SIPp's scenario passes),
//!   records it and exits 0 ([`sigterm_cancels_a_ringing_call_and_records_it`]).
//!
//! Every daemon listens on `127.0.0.1:0` and the tests read the bound address
//! from its "ringwatch daemon started" log line (no port race with parallel
//! tests). Each test owns its temp dir (kept, with the daemon's log, when it
//! fails). The tests run in parallel; the slowest takes about 20 s.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{RINGWATCH, RingwatchRun, Sipp, TempDir, header, json_lines, slurp};

/// Owned number that the lab blocks at [`X`] after the reload.
const A: &str = "+12025550143";
/// Owned number that keeps ringing everywhere.
const B: &str = "+13125550101";
/// The carrier that starts blocking [`A`].
const X: &str = "alpha";
/// The other carrier.
const Y: &str = "bravo";
/// [`X`]'s destination.
const X_DEST: &str = "+13125550178";
/// [`Y`]'s destination.
const Y_DEST: &str = "+12125550162";

/// How long a daemon may take to start serving `/healthz`.
const START_LIMIT: Duration = Duration::from_secs(20);
/// How long a daemon may take to exit after SIGTERM before it is killed
/// (its own worst case is an 8 s call grace plus a 2 s alert grace).
const STOP_LIMIT: Duration = Duration::from_secs(12);
/// "Within a few seconds": what a SIGTERM exit must actually take.
const STOP_EXPECTED: Duration = Duration::from_secs(5);

/// Tests bound their waits with the wall clock (the crate bans
/// `Instant::now` outside src/clock.rs for its protocol cores).
#[allow(
    clippy::disallowed_methods,
    reason = "bounded waits on child processes in the test harness"
)]
fn now() -> Instant {
    Instant::now()
}

/// The current UTC hour, for a calling window that excludes it.
#[allow(
    clippy::disallowed_methods,
    reason = "the test picks a calling window away from the real time"
)]
fn utc_hour() -> u32 {
    use chrono::Timelike;
    chrono::Utc::now().hour()
}

/// Poll `probe` every 50 ms until it returns `Some`, at most `limit`.
fn wait_for<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = now() + limit;
    loop {
        if let Some(v) = probe() {
            return Some(v);
        }
        if now() > deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Remove ANSI colour sequences (the text log format colours even a file).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// A minimal HTTP/1.1 client and server (std only).
// ---------------------------------------------------------------------------

/// One HTTP request or response.
struct HttpMessage {
    /// The request or status line.
    start: String,
    /// The body (de-chunked).
    body: Vec<u8>,
}

/// Read one HTTP message head (up to the blank line) and its body
/// (`Content-Length`, chunked, or with `until_eof` everything up to EOF).
/// `None` at a clean EOF before anything.
fn read_http_message(
    r: &mut impl BufRead,
    until_eof: bool,
) -> std::io::Result<Option<HttpMessage>> {
    let mut start = String::new();
    if r.read_line(&mut start)? == 0 {
        return Ok(None);
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            r.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|e| std::io::Error::other(format!("bad chunk size: {e}")))?;
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            chunk.truncate(size);
            body.extend_from_slice(&chunk);
        }
    } else if let Some(len) = get("content-length") {
        let len: usize = len
            .parse()
            .map_err(|e| std::io::Error::other(format!("bad Content-Length: {e}")))?;
        body.resize(len, 0);
        r.read_exact(&mut body)?;
    } else if until_eof {
        r.read_to_end(&mut body)?;
    }
    Ok(Some(HttpMessage {
        start: start.trim_end().to_owned(),
        body,
    }))
}

/// `GET path` on `addr`: the status code and the body, or why it failed.
fn http_get(addr: SocketAddr, path: &str) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("send GET {path}: {e}"))?;
    let mut reader = BufReader::new(stream);
    let HttpMessage { start, body } = read_http_message(&mut reader, true)
        .map_err(|e| format!("read GET {path}: {e}"))?
        .ok_or_else(|| format!("GET {path}: connection closed without a response"))?;
    let code = start
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("GET {path}: bad status line {start:?}"))?;
    Ok((code, String::from_utf8_lossy(&body).into_owned()))
}

/// A webhook receiver on 127.0.0.1: answers every request `200 OK` and
/// keeps the POSTed bodies (parsed as JSON; a body that is not JSON is kept
/// as a JSON string, so a test sees it in its failure message).
struct WebhookReceiver {
    addr: SocketAddr,
    bodies: Arc<Mutex<Vec<Value>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl WebhookReceiver {
    fn start() -> WebhookReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the webhook receiver");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let addr = listener.local_addr().expect("receiver address");
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (bodies, stop) = (bodies.clone(), stop.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => Self::serve(stream, &bodies),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            thread::sleep(Duration::from_millis(10));
                        }
                        Err(_) => thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        WebhookReceiver {
            addr,
            bodies,
            stop,
            thread: Some(thread),
        }
    }

    /// Serve one connection: one request, answered `200 OK` with
    /// `Connection: close`.
    fn serve(stream: TcpStream, bodies: &Mutex<Vec<Value>>) {
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let Ok(mut writer) = stream.try_clone() else {
            return;
        };
        let mut reader = BufReader::new(stream);
        if let Ok(Some(HttpMessage { body, .. })) = read_http_message(&mut reader, false) {
            let value = serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
            bodies.lock().expect("receiver lock").push(value);
            let ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            let _ = writer.write_all(ok.as_bytes());
            let _ = writer.flush();
        }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().expect("receiver lock").clone()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------------
// The daemon as a child process.
// ---------------------------------------------------------------------------

/// `ringwatch --config <config> daemon [--log-format json]` running in a
/// temp dir, its stderr in `<log>`. Killed (SIGKILL) on drop if still
/// running.
struct Daemon {
    child: Child,
    log: PathBuf,
    json: bool,
    /// Where its HTTP endpoint listens (from its log).
    http: SocketAddr,
}

impl Daemon {
    /// Start the daemon and wait until `/healthz` answers `ok`.
    fn start(dir: &TempDir, config: &Path, log_name: &str, json: bool) -> Daemon {
        let log = dir.join(log_name);
        let stderr = File::create(&log).expect("daemon log file");
        let stdout = File::create(dir.join(&format!("{log_name}.stdout"))).expect("stdout file");
        let mut cmd = Command::new(RINGWATCH);
        cmd.arg("--config").arg(config).arg("daemon");
        if json {
            cmd.args(["--log-format", "json"]);
        }
        let child = cmd
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {RINGWATCH}: {e}"));
        let mut d = Daemon {
            child,
            log,
            json,
            http: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let addr = wait_for(START_LIMIT, || {
            if let Ok(Some(status)) = d.child.try_wait() {
                return Some(Err(format!("exited at start-up with {status}")));
            }
            d.started_addr().map(Ok)
        });
        match addr {
            Some(Ok(a)) => d.http = a,
            Some(Err(why)) => d.fail(&why),
            None => d.fail(&format!(
                "no `ringwatch daemon started` line in {START_LIMIT:?}"
            )),
        }
        let healthy = wait_for(START_LIMIT, || {
            matches!(http_get(d.http, "/healthz"), Ok((200, ref b)) if b.trim() == "ok")
                .then_some(())
        });
        if healthy.is_none() {
            d.fail("/healthz did not answer 200 ok");
        }
        d
    }

    /// The HTTP address of the "ringwatch daemon started" log line.
    fn started_addr(&self) -> Option<SocketAddr> {
        let log = self.log();
        let line = log
            .lines()
            .find(|l| l.contains("ringwatch daemon started"))?;
        if self.json {
            let v: Value = serde_json::from_str(line).ok()?;
            v["fields"]["http"].as_str()?.parse().ok()
        } else {
            let rest = &line[line.find(" http=")? + 6..];
            rest.split_whitespace().next()?.parse().ok()
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The log so far (ANSI colours removed).
    fn log(&self) -> String {
        strip_ansi(&slurp(&self.log))
    }

    /// How many log lines contain `needle`.
    fn log_count(&self, needle: &str) -> usize {
        self.log().lines().filter(|l| l.contains(needle)).count()
    }

    /// Send `signal` (`HUP`, `TERM`, ...) with kill(1).
    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} {} failed", self.pid());
    }

    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Panic with `why`, the log and the temp dir (the caller's TempDir is
    /// kept because the thread is panicking).
    fn fail(&mut self, why: &str) -> ! {
        let state = match self.child.try_wait() {
            Ok(Some(s)) => format!("exited with {s}"),
            Ok(None) => "still running (will be killed)".to_owned(),
            Err(e) => format!("wait failed: {e}"),
        };
        panic!(
            "{why}\n--- daemon pid {}: {state}\n--- daemon log ({}):\n{}",
            self.pid(),
            self.log.display(),
            self.log().trim_end()
        );
    }

    /// `GET path`: the body of a 200, or fail.
    fn get(&mut self, path: &str) -> String {
        match http_get(self.http, path) {
            Ok((200, body)) => body,
            Ok((code, body)) => self.fail(&format!("GET {path}: {code}\n{body}")),
            Err(e) => self.fail(&format!("GET {path}: {e}")),
        }
    }

    /// `/api/numbers/{number}` as JSON.
    fn api_number(&mut self, number: &str) -> Value {
        let body = self.get(&format!("/api/numbers/{number}"));
        serde_json::from_str(&body)
            .unwrap_or_else(|e| self.fail(&format!("/api/numbers/{number} is not JSON: {e}")))
    }

    /// SIGTERM, then wait (bounded) for the exit: its status and how long it
    /// took. Killed with SIGKILL, and the test failed, when it overstays.
    fn terminate(&mut self) -> (ExitStatus, Duration) {
        let t0 = now();
        self.signal("TERM");
        let status = wait_for(STOP_LIMIT, || self.child.try_wait().ok().flatten());
        match status {
            Some(s) => (s, now() - t0),
            None => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                self.fail(&format!(
                    "still running {STOP_LIMIT:?} after SIGTERM: killed with SIGKILL"
                ));
            }
        }
    }

    /// SIGTERM and require a clean exit 0 within [`STOP_EXPECTED`].
    fn stop_cleanly(&mut self) -> Duration {
        let (status, took) = self.terminate();
        if status.code() != Some(0) {
            self.fail(&format!("SIGTERM: exit status {status}, want 0"));
        }
        if took > STOP_EXPECTED {
            self.fail(&format!(
                "SIGTERM: took {took:?} to exit, want under {STOP_EXPECTED:?}"
            ));
        }
        if !self.log().contains("ringwatch daemon stopped") {
            self.fail("no `ringwatch daemon stopped` line after SIGTERM");
        }
        took
    }

    /// With `--log-format json`: every stderr line is a JSON object with a
    /// level, a timestamp and a message.
    fn assert_json_log(&mut self) {
        let log = self.log();
        let mut problems = Vec::new();
        for (i, line) in log
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            match serde_json::from_str::<Value>(line) {
                Ok(v)
                    if v["level"].is_string()
                        && v["timestamp"].is_string()
                        && v["fields"]["message"].is_string() => {}
                Ok(v) => problems.push(format!("line {}: not a log object: {v}", i + 1)),
                Err(e) => problems.push(format!("line {}: not JSON ({e}): {line}", i + 1)),
            }
        }
        if log.lines().count() < 3 {
            problems.push("fewer than 3 log lines".to_owned());
        }
        if !problems.is_empty() {
            self.fail(&format!("the JSON log is broken:\n{}", problems.join("\n")));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------
// Configs and readers of the store.
// ---------------------------------------------------------------------------

/// A TOML literal string for a temp path.
fn toml_path(p: &Path) -> String {
    let s = p.to_str().expect("utf-8 temp path");
    assert!(!s.contains('\''), "temp path {s} needs TOML escaping");
    format!("'{s}'")
}

/// `[[numbers]]` blocks.
fn numbers(list: &[&str]) -> String {
    list.iter()
        .map(|n| format!("[[numbers]]\nnumber = \"{n}\"\n"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Carriers [`X`] and [`Y`], one destination each.
fn two_carriers() -> String {
    format!(
        "[[carriers]]\nname = \"{X}\"\ndestinations = [\"{X_DEST}\"]\n\n\
         [[carriers]]\nname = \"{Y}\"\ndestinations = [\"{Y_DEST}\"]\n"
    )
}

/// A lab daemon's config: `[trunk] proxy = "lab"`, every lab carrier
/// rings, short calls, `schedule` as given, HTTP on a kernel-chosen port,
/// the store in `db`, plus `extra` (webhooks, lab rules).
fn lab_config(db: &Path, schedule: &str, nums: &[&str], extra: &str) -> String {
    format!(
        r#"[trunk]
proxy = "lab"

[call]
ring_seconds = 1
t1_ms = 100
linger_ms = 100

[schedule]
{schedule}

[http]
listen = "127.0.0.1:0"

[store]
path = {db}

{numbers}
{carriers}
[lab]
default = "ring"
pdd_ms = 20

{extra}
"#,
        db = toml_path(db),
        numbers = numbers(nums),
        carriers = two_carriers(),
    )
}

/// Every probe in the store, oldest first (`ringwatch export --format json`).
fn export(dir: &TempDir, config: &Path) -> Vec<Value> {
    let config = config.to_str().expect("utf-8 temp path");
    let run = RingwatchRun::run(
        dir,
        &["--config", config, "export", "--format", "json"],
        &[],
    );
    assert_eq!(run.code, Some(0), "export failed\n{}", run.diagnostics());
    json_lines(&run.stdout).unwrap_or_else(|e| panic!("export is not JSON Lines: {e}"))
}

/// `ringwatch history NUMBER --json` on the same store.
fn history(dir: &TempDir, config: &Path, number: &str) -> Value {
    let config = config.to_str().expect("utf-8 temp path");
    let run = RingwatchRun::run(dir, &["--config", config, "history", number, "--json"], &[]);
    assert_eq!(run.code, Some(0), "history failed\n{}", run.diagnostics());
    serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("history --json is not JSON ({e})\n{}", run.diagnostics()))
}

/// Per (carrier, outcome) counts of probe records.
fn count_by_carrier_outcome(records: &[Value]) -> BTreeMap<(String, String), u64> {
    let mut out = BTreeMap::new();
    for r in records {
        let key = (
            r["carrier"].as_str().unwrap_or("?").to_owned(),
            r["outcome"].as_str().unwrap_or("?").to_owned(),
        );
        *out.entry(key).or_default() += 1;
    }
    out
}

/// The samples of one metric family: label set (as `k=v` pairs) → value.
fn metric_samples(metrics: &str, name: &str) -> BTreeMap<Vec<(String, String)>, f64> {
    let mut out = BTreeMap::new();
    for line in metrics.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        let (labels, value) = if let Some(rest) = rest.strip_prefix('{') {
            let Some((labels, value)) = rest.split_once('}') else {
                continue;
            };
            let labels = labels
                .split(',')
                .filter(|kv| !kv.is_empty())
                .filter_map(|kv| {
                    let (k, v) = kv.split_once('=')?;
                    Some((k.to_owned(), v.trim_matches('"').to_owned()))
                })
                .collect();
            (labels, value)
        } else if rest.starts_with(' ') {
            (Vec::new(), rest)
        } else {
            continue; // another family with this prefix (`_bucket`, ...)
        };
        if let Ok(v) = value.trim().parse::<f64>() {
            out.insert(labels, v);
        }
    }
    out
}

/// `ringwatch_probes_total` as (carrier, outcome) → count.
fn metric_probes(metrics: &str) -> BTreeMap<(String, String), u64> {
    metric_samples(metrics, "ringwatch_probes_total")
        .into_iter()
        .map(|(labels, v)| {
            let get = |k: &str| {
                labels
                    .iter()
                    .find(|(n, _)| n == k)
                    .map_or_else(String::new, |(_, v)| v.clone())
            };
            ((get("carrier"), get("outcome")), v as u64)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// The report of `carrier` in a `history --json` / `/api/numbers/{n}` object.
fn carrier_report<'a>(report: &'a Value, carrier: &str) -> Option<&'a Value> {
    report["carriers"]
        .as_array()?
        .iter()
        .find(|c| c["carrier"] == carrier)
}

/// The time-independent fields of every carrier of a report.
fn comparable(report: &Value) -> Vec<Value> {
    report["carriers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    serde_json::json!({
                        "carrier": c["carrier"],
                        "state": c["state"],
                        "attribution": c["attribution"],
                        "last_outcome": c["last_outcome"],
                        "redress": c["redress"],
                        "last_probe_id": c["last_probe_id"],
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------

/// Two numbers × two lab carriers, every 10 s. Once A rang at alpha, a
/// SIGHUP adds `[[lab.carriers]] alpha blocks A`: A's next probe there gets
/// a 603+, and the webhook receives the clean→blocked change. Then /api,
/// /metrics, `export` and `history` are compared, an invalid config is
/// SIGHUPed (rejected, the daemon carries on), and SIGTERM exits 0.
#[test]
fn lab_block_alert_reload_metrics_and_api() {
    let dir = TempDir::new("daemon_lab");
    let hook = WebhookReceiver::start();
    let db = dir.join("ringwatch.db");
    let schedule = r#"every = "10s"
blocked_every = "10s"
window = "00:00-24:00"
timezone = "UTC"
jitter = 0
max_calls_per_number_per_day = 1000
cps = 5"#;
    let webhook = format!("[[alerts.webhook]]\nurl = \"{}\"\n", hook.url());
    let clean_cfg = lab_config(&db, schedule, &[A, B], &webhook);
    let blocking_cfg = format!(
        "{clean_cfg}\n[[lab.carriers]]\nname = \"{X}\"\nblock = [\"{A}\"]\nblocked_behaviour = \"network_blocked\"\nredress_url = \"https://redress.alpha.example/blocked\"\n"
    );
    let config = dir.write("probes.toml", &clean_cfg);
    let t0 = now();
    let mut d = Daemon::start(&dir, &config, "daemon.log", true);

    // 1. A rings at alpha: clean.
    let clean = wait_for(Duration::from_secs(20), || {
        let r = http_get(d.http, &format!("/api/numbers/{A}")).ok()?.1;
        let v: Value = serde_json::from_str(&r).ok()?;
        (carrier_report(&v, X)?["state"] == "clean").then_some(())
    });
    if clean.is_none() {
        d.fail("A never became clean at alpha");
    }

    // 2. alpha starts blocking A (SIGHUP).
    fs::write(&config, &blocking_cfg).expect("rewrite config");
    d.signal("HUP");
    if wait_for(Duration::from_secs(5), || {
        (d.log_count("configuration reloaded") == 1).then_some(())
    })
    .is_none()
    {
        d.fail("the SIGHUP with the blocking rule was not applied");
    }

    // 3. The webhook fires on clean -> blocked.
    let is_block_alert = |b: &Value| {
        b["number"] == A && b["carrier"] == X && b["from"] == "clean" && b["to"] == "blocked"
    };
    let alert = wait_for(Duration::from_secs(25), || {
        hook.bodies().into_iter().find(is_block_alert)
    });
    let Some(alert) = alert else {
        let got = hook.bodies();
        d.fail(&format!(
            "no clean->blocked webhook for {A} at {X} in 25 s; received:\n{got:#?}"
        ));
    };
    let blocked_after = now() - t0;
    let text = alert["text"].as_str().unwrap_or("");
    if !(text.contains(A) && text.contains("BLOCKED") && text.contains(X) && text.contains("clean"))
    {
        d.fail(&format!("the alert's text does not say it: {text:?}"));
    }
    if alert["event"] != "state_change" || alert["last_outcome"] != "network_blocked" {
        d.fail(&format!("unexpected alert body: {alert:#}"));
    }

    // 4. An invalid config on SIGHUP is rejected; the daemon carries on.
    fs::write(&config, "this is [not valid toml\n").expect("write garbage");
    d.signal("HUP");
    if wait_for(Duration::from_secs(5), || {
        (d.log_count("reload rejected") >= 1).then_some(())
    })
    .is_none()
    {
        d.fail("no `reload rejected` log line after an invalid config");
    }
    if !d.running() {
        d.fail("the daemon died on an invalid config");
    }
    if d.get("/healthz").trim() != "ok" {
        d.fail("/healthz is not ok after the rejected reload");
    }
    fs::write(&config, &blocking_cfg).expect("restore config");
    d.signal("HUP");
    if wait_for(Duration::from_secs(5), || {
        (d.log_count("configuration reloaded") == 2).then_some(())
    })
    .is_none()
    {
        d.fail("the restored config was not reloaded");
    }

    // 5. /api: A blocked at alpha because of the number (B rings there).
    let a = d.api_number(A);
    let ax = carrier_report(&a, X).cloned().unwrap_or(Value::Null);
    if ax["state"] != "blocked" || ax["attribution"] != "number" {
        d.fail(&format!(
            "/api: {A} at {X} should be blocked, attribution number: {ax:#}"
        ));
    }
    if ax["redress"]["url"] != serde_json::json!(["https://redress.alpha.example/blocked"]) {
        d.fail(&format!("/api: redress of {A} at {X}: {}", ax["redress"]));
    }
    let b = d.api_number(B);
    let bx = carrier_report(&b, X).cloned().unwrap_or(Value::Null);
    if bx["state"] != "clean" || bx["last_outcome"] != "ringing" {
        d.fail(&format!("/api: {B} at {X} should still ring: {bx:#}"));
    }

    // 6. /metrics agrees with the store and with /api. A probe may finish
    //    between two reads, so take metrics, store, metrics and accept a
    //    round where nothing moved.
    let mut last = String::new();
    let mut agreed = false;
    for _ in 0..10 {
        let m1 = d.get("/metrics");
        let store = export(&dir, &config);
        let m2 = d.get("/metrics");
        let (p1, p2) = (metric_probes(&m1), metric_probes(&m2));
        let from_store = count_by_carrier_outcome(&store);
        let sum: u64 = p1.values().sum();
        if p1 == p2 && p1 == from_store && sum == store.len() as u64 {
            agreed = true;
            last = m2;
            break;
        }
        last = format!(
            "metrics before {p1:?}\nstore ({} probes) {from_store:?}\nmetrics after {p2:?}",
            store.len()
        );
        thread::sleep(Duration::from_millis(300));
    }
    if !agreed {
        d.fail(&format!(
            "/metrics ringwatch_probes_total != the store:\n{last}"
        ));
    }
    let store = export(&dir, &config);
    if !store
        .iter()
        .any(|r| r["caller_id"] == A && r["carrier"] == X && r["outcome"] == "network_blocked")
    {
        d.fail("the store has no network_blocked probe of A at alpha");
    }
    // ringwatch_number_state agrees with the states /api shows.
    let mut api_states: BTreeMap<String, f64> = ["clean", "suspect", "blocked", "unknown"]
        .into_iter()
        .map(|s| (s.to_owned(), 0.0))
        .collect();
    let all: Value = serde_json::from_str(&d.get("/api/numbers")).unwrap_or(Value::Null);
    for view in all.as_array().into_iter().flatten() {
        for c in view["report"]["carriers"].as_array().into_iter().flatten() {
            *api_states
                .entry(c["state"].as_str().unwrap_or("?").to_owned())
                .or_default() += 1.0;
        }
    }
    let metric_states: BTreeMap<String, f64> = metric_samples(&last, "ringwatch_number_state")
        .into_iter()
        .map(|(l, v)| (l.first().map(|(_, s)| s.clone()).unwrap_or_default(), v))
        .collect();
    if metric_states != api_states || api_states["blocked"] != 1.0 {
        d.fail(&format!(
            "ringwatch_number_state {metric_states:?} vs /api states {api_states:?}"
        ));
    }

    // 7. /api/numbers/{n} equals `history n --json` on the same store (time
    //    fields aside). Retried like the metrics: a probe may land between.
    for n in [A, B] {
        let mut diff = String::new();
        let same = (0..10).any(|_| {
            let api = comparable(&d.api_number(n));
            let cli = comparable(&history(&dir, &config, n));
            if api == cli && !api.is_empty() {
                return true;
            }
            diff = format!("/api: {}\nhistory: {}", Value::from(api), Value::from(cli));
            thread::sleep(Duration::from_millis(300));
            false
        });
        if !same {
            d.fail(&format!(
                "/api/numbers/{n} disagrees with history --json:\n{diff}"
            ));
        }
    }

    // 8. SIGTERM: exit 0, quickly; the log is JSON throughout.
    let took = d.stop_cleanly();
    d.assert_json_log();
    let log = d.log();
    let change = log.lines().any(|l| {
        serde_json::from_str::<Value>(l).is_ok_and(|v| {
            v["fields"]["message"] == "state change"
                && v["fields"]["number"] == A
                && v["fields"]["from"] == "clean"
                && v["fields"]["to"] == "blocked"
        })
    });
    if !change {
        d.fail("no JSON `state change` clean->blocked log line");
    }
    let dups = hook.bodies().iter().filter(|b| is_block_alert(b)).count();
    assert_eq!(dups, 1, "one clean->blocked alert, got {dups}");
    eprintln!(
        "daemon_lab: blocked alert after {blocked_after:?}, SIGTERM exit in {took:?}, total {:?}",
        now() - t0
    );
}

/// `max_calls_per_number_per_day = 2`, two carriers every 10 s: in 15 s the
/// daemon places exactly 2 calls (the third pair due at 10 s is deferred to
/// tomorrow) and keeps running; a restart on the same store places none
/// (the budget is counted from the store).
#[test]
fn budget_holds_across_a_restart() {
    let dir = TempDir::new("daemon_budget");
    let db = dir.join("ringwatch.db");
    let schedule = r#"every = "10s"
window = "00:00-24:00"
timezone = "UTC"
jitter = 0
max_calls_per_number_per_day = 2
cps = 5"#;
    let config = dir.write("probes.toml", &lab_config(&db, schedule, &[A], ""));
    let mut d = Daemon::start(&dir, &config, "daemon.log", false);
    thread::sleep(Duration::from_secs(15));
    if !d.running() || d.get("/healthz").trim() != "ok" {
        d.fail("the daemon is not running after 15 s");
    }
    let started = d.log_count("probe starting");
    if started != 2 {
        d.fail(&format!("{started} calls started in 15 s, want exactly 2"));
    }
    let metrics = d.get("/metrics");
    d.stop_cleanly();
    let store = export(&dir, &config);
    let from_a = store.iter().filter(|r| r["caller_id"] == A).count();
    assert_eq!(
        (store.len(), from_a),
        (2, 2),
        "the store must hold exactly 2 probes of {A}: {store:#?}"
    );
    let carriers: Vec<&str> = store.iter().filter_map(|r| r["carrier"].as_str()).collect();
    assert_eq!(carriers, [X, Y], "one call per carrier, in plan order");
    assert_eq!(
        metric_probes(&metrics).values().sum::<u64>(),
        2,
        "/metrics:\n{metrics}"
    );

    // Restart: both pairs are overdue, but today's budget is spent.
    let mut again = Daemon::start(&dir, &config, "daemon2.log", false);
    thread::sleep(Duration::from_secs(3));
    if again.log_count("probe starting") != 0 {
        again.fail("a restart placed a call beyond the daily budget");
    }
    again.stop_cleanly();
    assert_eq!(export(&dir, &config).len(), 2, "the restart added probes");
}

/// A calling window 12 hours away from now (UTC): in 8 s nothing is placed,
/// and the daemon keeps serving.
#[test]
fn nothing_is_placed_outside_the_window() {
    let dir = TempDir::new("daemon_window");
    let db = dir.join("ringwatch.db");
    let start = (utc_hour() + 12) % 24;
    let window = format!("{start:02}:00-{:02}:00", start + 1);
    let schedule = format!(
        "every = \"10s\"\nwindow = \"{window}\"\ntimezone = \"UTC\"\njitter = 0\nmax_calls_per_number_per_day = 1000\ncps = 5"
    );
    let config = dir.write("probes.toml", &lab_config(&db, &schedule, &[A, B], ""));
    let mut d = Daemon::start(&dir, &config, "daemon.log", false);
    thread::sleep(Duration::from_secs(8));
    if !d.running() || d.get("/healthz").trim() != "ok" {
        d.fail("the daemon is not running after 8 s");
    }
    if d.log_count("probe starting") != 0 {
        d.fail(&format!(
            "a call was placed outside the window {window} UTC"
        ));
    }
    let metrics = d.get("/metrics");
    d.stop_cleanly();
    assert!(
        metric_probes(&metrics).is_empty(),
        "probes counted outside the window:\n{metrics}"
    );
    let store = export(&dir, &config);
    assert!(
        store.is_empty(),
        "probes stored outside the window {window}: {store:#?}"
    );
}

/// The daemon calls a SIPp far end that rings forever (ring_cancel, with
/// `ring_seconds = 60`); SIGTERM while it rings must CANCEL the call (SIPp's
/// scenario then completes and SIPp exits 0: no call is left ringing),
/// record it as `ringing` with `cancelled_by_us`, and exit 0 in seconds.
#[test]
fn sigterm_cancels_a_ringing_call_and_records_it() {
    let dir = TempDir::new("daemon_sigterm");
    let sipp = Sipp::start(&dir, "ring_cancel", &[]);
    let db = dir.join("ringwatch.db");
    let config = dir.write(
        "probes.toml",
        &format!(
            r#"[trunk]
proxy = "127.0.0.1:{port}"

[call]
ring_seconds = 60
t1_ms = 100
linger_ms = 200

[schedule]
every = "1m"
window = "00:00-24:00"
timezone = "UTC"
jitter = 0
max_calls_per_number_per_day = 1000

[http]
listen = "127.0.0.1:0"

[store]
path = {db}

[[numbers]]
number = "{A}"

[[carriers]]
name = "{X}"
destinations = ["{X_DEST}"]
"#,
            port = sipp.port,
            db = toml_path(&db),
        ),
    );
    let mut d = Daemon::start(&dir, &config, "daemon.log", true);
    // SIPp sent its 180: the call is ringing at the far end.
    let msg = dir.join("sipp.msg");
    let ringing = wait_for(Duration::from_secs(15), || {
        slurp(&msg).contains("SIP/2.0 180 Ringing").then_some(())
    });
    if ringing.is_none() {
        d.fail(&format!(
            "SIPp never sent 180 Ringing; its trace:\n{}",
            slurp(&msg)
        ));
    }
    // Give the 180 a moment to reach ringwatch (its log has no event for it).
    thread::sleep(Duration::from_millis(300));
    if d.get("/metrics").contains("ringwatch_calls_in_flight 0") {
        d.fail("the ringing call is not in flight");
    }
    let took = d.stop_cleanly();
    d.assert_json_log();

    let sipp = sipp.finish();
    assert!(
        sipp.passed(),
        "SIPp's ring_cancel did not complete: the call was left ringing (or the CANCEL was wrong)\n{}",
        sipp.diagnostics()
    );
    assert_eq!(
        sipp.received_requests("CANCEL").len(),
        1,
        "{}",
        sipp.diagnostics()
    );
    let call_id = sipp
        .received_requests("INVITE")
        .first()
        .and_then(|m| header(m, "Call-ID").map(str::to_owned))
        .unwrap_or_default();

    let store = export(&dir, &config);
    let [rec] = store.as_slice() else {
        panic!(
            "want exactly 1 stored probe, got {}: {store:#?}",
            store.len()
        );
    };
    let got = (
        rec["outcome"].as_str(),
        rec["rang"].as_bool(),
        rec["cancelled_by_us"].as_bool(),
        rec["status"].as_u64(),
        rec["call_id"].as_str(),
        rec["caller_id"].as_str(),
        rec["destination"].as_str(),
    );
    let want = (
        Some("ringing"),
        Some(true),
        Some(true),
        Some(487),
        Some(call_id.as_str()),
        Some(A),
        Some(X_DEST),
    );
    assert_eq!(got, want, "the stored probe: {rec:#}");
    eprintln!("daemon_sigterm: SIGTERM to exit 0 with the CANCEL recorded in {took:?}");
}

/// A 503 with Retry-After pauses the trunk, and the pause survives a
/// restart: the new daemon reads the 503 from the store and places nothing
/// until it is over (no probe storm into a throttled trunk).
#[test]
fn retry_after_pause_survives_a_restart() {
    let dir = TempDir::new("daemon_retry_after");
    let db = dir.join("ringwatch.db");
    let schedule = r#"every = "10s"
window = "00:00-24:00"
timezone = "UTC"
jitter = 0
max_calls_per_number_per_day = 1000
cps = 5"#;
    let rules = format!(
        "[[lab.carriers]]\nname = \"{X}\"\nbehaviour = \"unavailable\"\n\n[[lab.carriers]]\nname = \"{Y}\"\nbehaviour = \"unavailable\"\n"
    );
    let config = dir.write("probes.toml", &lab_config(&db, schedule, &[A], &rules));
    let mut d = Daemon::start(&dir, &config, "daemon.log", false);
    if wait_for(Duration::from_secs(15), || {
        (d.log_count("probe finished") >= 1).then_some(())
    })
    .is_none()
    {
        d.fail("no probe finished in 15 s");
    }
    thread::sleep(Duration::from_secs(7));
    let started = d.log_count("probe starting");
    if started != 1 {
        d.fail(&format!(
            "{started} calls started; the 503 Retry-After 120 should have paused the trunk after 1"
        ));
    }
    d.stop_cleanly();
    let store = export(&dir, &config);
    assert_eq!(store.len(), 1, "{store:#?}");
    assert_eq!(store[0]["outcome"], "unavailable");
    assert_eq!(store[0]["retry_after_s"], 120);

    let mut again = Daemon::start(&dir, &config, "daemon2.log", false);
    thread::sleep(Duration::from_secs(4));
    if again.log_count("Retry-After recorded before the restart is still running") != 1 {
        again.fail("the restarted daemon did not restore the Retry-After pause");
    }
    if again.log_count("probe starting") != 0 {
        again.fail("a restart placed a call into a trunk that asked for a pause");
    }
    again.stop_cleanly();
    assert_eq!(export(&dir, &config).len(), 1, "the restart added probes");
}
