//! The harness of the integration tests: temp directories, free ports,
//! SIPp started and stopped by PID, the `ringwatch` binary run with a bounded
//! wait, and the checks every probe test makes on its JSON record.
//!
//! Every test owns its temp directory and its ports, so tests run in parallel
//! (cargo's default) without interfering. Waits are bounded; a sleep here is
//! only ever a polling interval, never an assertion about timing.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::ErrorKind;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test.
pub const RINGWATCH: &str = env!("CARGO_BIN_EXE_ringwatch");

/// The caller ID every test probes from (configured in `[[numbers]]`).
pub const FROM: &str = "+12025550143";

/// The destination of carrier `lab`.
pub const DESTINATION: &str = "+13125550178";

/// The trunk user the auth scenarios expect.
pub const TRUNK_USER: &str = "trunkuser";

/// The environment variable the auth configs name in `password_env`.
pub const PASSWORD_ENV: &str = "RINGWATCH_TEST_PW";

/// How long ringwatch may take for one call. The slowest scenario is
/// Timer B with `t1_ms = 100` (6.4 s); the rest is slack for a loaded CI box.
const RINGWATCH_LIMIT: Duration = Duration::from_secs(60);

/// How long SIPp may take to finish after ringwatch exited. Its scenarios end
/// with a 500 ms quiet period (no_answer_silent: 9 s after the INVITE).
const SIPP_EXIT_LIMIT: Duration = Duration::from_secs(30);

/// How long SIPp may take to bind its port.
const SIPP_START_LIMIT: Duration = Duration::from_secs(10);

/// The keys every probe record carries (ARCHITECTURE.md, user-facing contract).
pub const RECORD_KEYS: [&str; 15] = [
    "id",
    "caller_id",
    "carrier",
    "destination",
    "started_at",
    "call_id",
    "outcome",
    "rang",
    "status",
    "reason_phrase",
    "pdd_ms",
    "duration_ms",
    "analytics",
    "reasons",
    "retry_after_s",
];

/// The keys every non-null `analytics` object carries.
pub const ANALYTICS_KEYS: [&str; 6] = ["standard", "url", "tel", "email", "id", "location"];

/// Tests bound their waits with the wall clock. The crate bans
/// `Instant::now` outside `src/clock.rs` because protocol cores take `now`;
/// this harness is not a core, and it only polls child processes.
#[allow(
    clippy::disallowed_methods,
    reason = "bounded waits on child processes in the test harness"
)]
fn now() -> Instant {
    Instant::now()
}

/// Read a file for a diagnostic, or say why it could not be read.
pub fn slurp(path: &Path) -> String {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(err) => format!("<{}: {err}>", path.display()),
    }
}

/// A fresh directory under the system temp dir, unique per process, test and
/// call. Removed on drop, except when the test is failing (then its path is
/// in the failure message, with SIPp's traces in it).
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// A new empty directory whose name contains `name`.
    pub fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("ringwatch-it-{}-{n}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        TempDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, file: &str) -> PathBuf {
        self.path.join(file)
    }

    /// Write `contents` to `file` in the directory and return its path.
    pub fn write(&self, file: &str, contents: &str) -> PathBuf {
        let path = self.join(file);
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !thread::panicking() {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// A UDP port on 127.0.0.1 that was free a moment ago: bind port 0, read
/// the port the kernel chose, release it. Whoever binds it next may race
/// another process, so `Sipp::start` retries with a new port when SIPp
/// cannot bind.
pub fn free_udp_port() -> u16 {
    for _ in 0..20 {
        if let Ok(sock) = UdpSocket::bind("127.0.0.1:0")
            && let Ok(addr) = sock.local_addr()
        {
            return addr.port();
        }
    }
    panic!("no free UDP port on 127.0.0.1");
}

/// Whether something is bound to UDP `port` on 127.0.0.1 or 0.0.0.0,
/// according to /proc/net/udp (Linux). Reading it does not disturb the
/// socket, unlike a probing bind would. `None` when the file is unreadable.
fn udp_port_bound(port: u16) -> Option<bool> {
    let table = fs::read_to_string("/proc/net/udp").ok()?;
    let wanted = [
        format!("0100007F:{port:04X}"),
        format!("00000000:{port:04X}"),
    ];
    Some(table.lines().skip(1).any(|line| {
        line.split_whitespace()
            .nth(1)
            .is_some_and(|local| wanted.iter().any(|w| w == local))
    }))
}

/// The trunk config the probe tests write: one number, one carrier `lab`
/// with one destination, short timers (Timer B is 64 x 100 ms = 6.4 s).
pub fn config(port: u16, with_credentials: bool) -> String {
    let credentials = if with_credentials {
        format!("username = \"{TRUNK_USER}\"\npassword_env = \"{PASSWORD_ENV}\"\n")
    } else {
        String::new()
    };
    format!(
        r#"[trunk]
proxy = "127.0.0.1:{port}"
transport = "udp"
{credentials}
[call]
ring_seconds = 1
t1_ms = 100
linger_ms = 200

[[numbers]]
number = "{FROM}"

[[carriers]]
name = "lab"
destinations = ["{DESTINATION}"]
"#
    )
}

/// The SIPp executable: `$RINGWATCH_SIPP`, or `sipp` on the PATH. Panics
/// with install instructions when it is missing: these tests must fail,
/// not pass vacuously, on a machine without SIPp.
pub fn sipp_program() -> String {
    required_tool(
        "RINGWATCH_SIPP",
        "sipp",
        "SIPp is not installed (`{program}` not found). The probe integration tests play the far \
         end with SIPp. Install it:\n  sudo apt-get install -y sip-tester    # Debian/Ubuntu\n\
         or run scripts/test, which installs what the tests need, or point RINGWATCH_SIPP at a \
         sipp binary.",
    )
}

/// `$env_var`, or `default` on the PATH, checked by running it with `-v`.
/// Panics with `missing` (where `{program}` names it) when it is absent.
fn required_tool(env_var: &str, default: &str, missing: &str) -> String {
    let program = std::env::var(env_var).unwrap_or_else(|_| default.to_owned());
    match Command::new(&program)
        .arg("-v")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => program,
        Err(err) if err.kind() == ErrorKind::NotFound => {
            panic!("{}", missing.replace("{program}", &program))
        }
        Err(err) => panic!("cannot run `{program} -v`: {err}"),
    }
}

/// The SIPp program and the path of `tests/scenarios/<scenario>.xml`
/// (which must exist).
fn sipp_setup(scenario: &str) -> (String, PathBuf) {
    let program = sipp_program();
    let xml = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scenarios")
        .join(format!("{scenario}.xml"));
    assert!(xml.is_file(), "missing scenario {}", xml.display());
    (program, xml)
}

/// A SIPp UAS playing one scenario of tests/scenarios on 127.0.0.1, for one
/// call. Killed by PID on drop if still running.
pub struct Sipp {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    scenario: String,
    dir: PathBuf,
}

impl Sipp {
    /// Start SIPp with `tests/scenarios/<scenario>.xml` and extra `-key`
    /// values, and wait until its SIP port is bound. Its screen, message
    /// trace, error log and log actions go to `sipp.*` files in `dir`.
    pub fn start(dir: &TempDir, scenario: &str, keys: &[(&str, &str)]) -> Sipp {
        let (program, xml) = sipp_setup(scenario);
        let mut failures = String::new();
        for attempt in 1..=5 {
            let port = free_udp_port();
            let mut sipp = Sipp::spawn(dir, &program, &xml, scenario, port, None, keys);
            match sipp.wait_bound() {
                Ok(()) => return sipp,
                Err(why) => {
                    let _ = writeln!(
                        failures,
                        "attempt {attempt}, port {port}: {why}\n{}",
                        slurp(&dir.join("sipp.stderr"))
                    );
                }
            }
        }
        panic!("SIPp ({scenario}) did not start:\n{failures}");
    }

    /// One attempt: spawn SIPp on `port` (and with `-mi 127.0.0.1 -mp
    /// <media_port>` when given), its screen, message trace, error log and
    /// log actions in `sipp.*` files in `dir`. Does not wait for it.
    fn spawn(
        dir: &TempDir,
        program: &str,
        xml: &Path,
        scenario: &str,
        port: u16,
        media_port: Option<u16>,
        keys: &[(&str, &str)],
    ) -> Sipp {
        let mut cmd = Command::new(program);
        cmd.arg("-sf")
            .arg(xml)
            .args(["-i", "127.0.0.1", "-p", &port.to_string()]);
        if let Some(media_port) = media_port {
            cmd.args(["-mi", "127.0.0.1", "-mp", &media_port.to_string()]);
        }
        cmd.args(["-m", "1", "-nostdin"])
            // A backstop: SIPp gives up (and fails) on its own.
            .args(["-timeout", "45s", "-timeout_error"])
            .arg("-trace_msg")
            .arg("-message_file")
            .arg(dir.join("sipp.msg"))
            .arg("-trace_err")
            .arg("-error_file")
            .arg(dir.join("sipp.err"))
            .arg("-trace_logs")
            .arg("-log_file")
            .arg(dir.join("sipp.log"));
        for (key, value) in keys {
            cmd.args(["-key", key, value]);
        }
        let stdout = File::create(dir.join("sipp.stdout")).expect("sipp.stdout");
        let stderr = File::create(dir.join("sipp.stderr")).expect("sipp.stderr");
        let child = cmd
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {program}: {e}"));
        Sipp {
            child,
            port,
            scenario: scenario.to_owned(),
            dir: dir.path().to_owned(),
        }
    }

    /// Wait until the port is bound while SIPp is alive.
    fn wait_bound(&mut self) -> Result<(), String> {
        let deadline = now() + SIPP_START_LIMIT;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("exited early with {status}"));
            }
            match udp_port_bound(self.port) {
                Some(true) => return Ok(()),
                Some(false) => {}
                // No /proc (not Linux): give SIPp a moment and hope.
                None => {
                    thread::sleep(Duration::from_millis(500));
                    return Ok(());
                }
            }
            if now() > deadline {
                return Err(format!("port not bound after {SIPP_START_LIMIT:?}"));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait (bounded) for SIPp to finish its one call and collect its
    /// verdict and traces. On timeout it is killed, and the status says so.
    pub fn finish(mut self) -> SippRun {
        let deadline = now() + SIPP_EXIT_LIMIT;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) if now() > deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break Err(format!(
                        "still running {SIPP_EXIT_LIMIT:?} after ringwatch exited: killed"
                    ));
                }
                Ok(None) => thread::sleep(Duration::from_millis(20)),
                Err(err) => break Err(format!("wait: {err}")),
            }
        };
        SippRun {
            status,
            scenario: self.scenario.clone(),
            messages: slurp(&self.dir.join("sipp.msg")),
            errors: slurp(&self.dir.join("sipp.err")),
            log: slurp(&self.dir.join("sipp.log")),
            stderr: slurp(&self.dir.join("sipp.stderr")),
        }
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// What SIPp did.
pub struct SippRun {
    /// Its exit status: 0 means every step of the scenario passed, including
    /// the strict receipt of ACK/CANCEL/BYE and the header checks.
    pub status: Result<ExitStatus, String>,
    scenario: String,
    /// The SIP message trace (-trace_msg).
    pub messages: String,
    errors: String,
    log: String,
    stderr: String,
}

impl SippRun {
    /// Whether the scenario passed.
    pub fn passed(&self) -> bool {
        matches!(&self.status, Ok(s) if s.success())
    }

    /// The messages SIPp received, in order, as text (CRLF kept). The trace
    /// is blocks of a `-----... <time>` line, a `UDP message received [n]
    /// bytes :` (or `sent`) line, an empty line and the message.
    pub fn received(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut current: Option<String> = None;
        let mut lines = self.messages.split('\n').peekable();
        while let Some(line) = lines.next() {
            if line.starts_with("-----------------------------------------------") {
                out.extend(current.take());
                if lines.next_if(|l| l.contains("message received")).is_some() {
                    let _ = lines.next_if(|l| l.trim().is_empty());
                    current = Some(String::new());
                }
            } else if let Some(msg) = current.as_mut() {
                msg.push_str(line);
                msg.push('\n');
            }
        }
        out.extend(current);
        out
    }

    /// The received requests whose method is `method`.
    pub fn received_requests(&self, method: &str) -> Vec<String> {
        let prefix = format!("{method} ");
        self.received()
            .into_iter()
            .filter(|m| m.starts_with(&prefix))
            .collect()
    }

    /// Everything needed to see why a scenario failed.
    pub fn diagnostics(&self) -> String {
        format!(
            "--- SIPp ({}) exit: {:?}\n--- SIPp errors:\n{}\n--- SIPp log actions:\n{}\n\
             --- SIPp stderr:\n{}\n--- SIPp message trace:\n{}",
            self.scenario,
            self.status,
            self.errors.trim_end(),
            self.log.trim_end(),
            self.stderr.trim_end(),
            self.messages.trim_end(),
        )
    }
}

/// The value of header `name` (full name, case-insensitive) in a SIP message.
pub fn header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    msg.lines()
        .take_while(|l| !l.trim_end_matches('\r').is_empty())
        .find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
}

/// One run of the ringwatch binary.
pub struct RingwatchRun {
    /// The exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

impl RingwatchRun {
    /// Run `ringwatch <args>` in `dir` with `env`, and a bounded wait.
    /// stdout and stderr go to files (no pipe to fill up).
    pub fn run(dir: &TempDir, args: &[&str], env: &[(&str, &str)]) -> RingwatchRun {
        let stdout = File::create(dir.join("ringwatch.stdout")).expect("stdout file");
        let stderr = File::create(dir.join("ringwatch.stderr")).expect("stderr file");
        let mut cmd = Command::new(RINGWATCH);
        cmd.args(args)
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .env_remove(PASSWORD_ENV)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        for (key, value) in env {
            cmd.env(key, value);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {RINGWATCH}: {e}"));
        let deadline = now() + RINGWATCH_LIMIT;
        let status = loop {
            match child.try_wait().expect("wait for ringwatch") {
                Some(status) => break status,
                None if now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "ringwatch {args:?} still running after {RINGWATCH_LIMIT:?}: killed\n\
                         --- stderr:\n{}",
                        slurp(&dir.join("ringwatch.stderr"))
                    );
                }
                None => thread::sleep(Duration::from_millis(20)),
            }
        };
        RingwatchRun {
            code: status.code(),
            stdout: slurp(&dir.join("ringwatch.stdout")),
            stderr: slurp(&dir.join("ringwatch.stderr")),
        }
    }

    /// `ringwatch --config <config> probe --from FROM <extra...>`.
    pub fn probe(
        dir: &TempDir,
        config: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> RingwatchRun {
        let config = config.to_str().expect("utf-8 temp path");
        let mut args = vec!["--config", config, "probe", "--from", FROM];
        args.extend_from_slice(extra);
        RingwatchRun::run(dir, &args, env)
    }

    /// Everything needed to see what ringwatch did.
    pub fn diagnostics(&self) -> String {
        format!(
            "--- ringwatch exit code: {:?}\n--- ringwatch stdout:\n{}\n--- ringwatch stderr:\n{}",
            self.code,
            self.stdout.trim_end(),
            self.stderr.trim_end()
        )
    }

    /// Assert a usage error (clap's own format is fine): exit 2, no panic,
    /// and a message on stderr that names `offending`.
    pub fn assert_usage_error(&self, offending: &str) {
        let err = &self.stderr;
        let ok = self.code == Some(2) && !err.contains("panicked") && err.contains(offending);
        assert!(
            ok,
            "expected exit 2 with an error naming {offending:?}\n{}",
            self.diagnostics()
        );
    }

    /// Assert an error exit: code 2, one line on stderr that starts with
    /// `ringwatch: `, no panic.
    pub fn assert_clean_error(&self) {
        let err = self.stderr.trim_end();
        let ok = self.code == Some(2)
            && !err.contains("panicked")
            && !err.contains("RUST_BACKTRACE")
            && err.lines().count() == 1
            && err.starts_with("ringwatch: ");
        assert!(
            ok,
            "expected exit 2 with one `ringwatch: ...` line on stderr\n{}",
            self.diagnostics()
        );
    }
}

/// What the `analytics` object must say.
pub struct ExpectAnalytics {
    pub standard: &'static str,
    pub url: Option<&'static str>,
    pub tel: Option<&'static str>,
    pub email: Option<&'static str>,
    pub id: Option<&'static str>,
    pub location: Option<&'static str>,
}

/// What the one probe record must say, and how ringwatch must exit.
pub struct Expect {
    pub outcome: &'static str,
    pub rang: bool,
    pub status: Option<u16>,
    pub reason_phrase: Option<&'static str>,
    pub analytics: Option<ExpectAnalytics>,
    pub retry_after_s: Option<u64>,
    pub exit: i32,
}

fn opt_str(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::String(s.to_owned()))
}

/// One probe against one SIPp scenario: the temp dir, SIPp's run,
/// ringwatch's run and the parsed JSON lines.
pub struct ProbeCase {
    /// The test's directory (kept when the test fails).
    pub dir: TempDir,
    /// SIPp's verdict and traces.
    pub sipp: SippRun,
    /// ringwatch's exit and output.
    pub ringwatch: RingwatchRun,
    /// The parsed stdout lines (`Err`: a line that is not JSON).
    pub lines: Vec<Result<Value, String>>,
}

/// Options of a probe case.
#[derive(Default)]
pub struct Options<'a> {
    /// Write `username`/`password_env` into the config.
    pub credentials: bool,
    /// The password ringwatch gets in `$RINGWATCH_TEST_PW`.
    pub password: Option<&'a str>,
    /// Extra `-key name value` for SIPp.
    pub sipp_keys: &'a [(&'a str, &'a str)],
}

impl ProbeCase {
    /// Start SIPp with `scenario`, probe carrier `lab` through it with
    /// `--json --no-record`, and collect both sides.
    pub fn run(name: &str, scenario: &str, opts: &Options<'_>) -> ProbeCase {
        let dir = TempDir::new(name);
        let sipp = Sipp::start(&dir, scenario, opts.sipp_keys);
        let cfg = dir.write("probes.toml", &config(sipp.port, opts.credentials));
        let env: Vec<(&str, &str)> = opts
            .password
            .map(|pw| (PASSWORD_ENV, pw))
            .into_iter()
            .collect();
        let ringwatch = RingwatchRun::probe(
            &dir,
            &cfg,
            &["--carrier", "lab", "--json", "--no-record"],
            &env,
        );
        let sipp = sipp.finish();
        let lines = ringwatch
            .stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| format!("{e}: {l}")))
            .collect();
        ProbeCase {
            dir,
            sipp,
            ringwatch,
            lines,
        }
    }

    /// Everything about this case, for a failure message.
    pub fn diagnostics(&self) -> String {
        format!(
            "--- temp dir (kept): {}\n{}\n{}",
            self.dir.path().display(),
            self.ringwatch.diagnostics(),
            self.sipp.diagnostics()
        )
    }

    /// Panic with every problem and the diagnostics, if there are problems.
    pub fn fail_if(&self, problems: &[String]) {
        assert!(
            problems.is_empty(),
            "{} problem(s):\n  - {}\n{}",
            problems.len(),
            problems.join("\n  - "),
            self.diagnostics()
        );
    }

    /// The one record, or a problem.
    fn record(&self, problems: &mut Vec<String>) -> Option<&Value> {
        match self.lines.as_slice() {
            [Ok(record)] if record.is_object() => Some(record),
            [Ok(other)] => {
                problems.push(format!("the JSON line is not an object: {other}"));
                None
            }
            [Err(e)] => {
                problems.push(format!("stdout is not JSON: {e}"));
                None
            }
            lines => {
                problems.push(format!(
                    "expected 1 JSON line on stdout, got {}",
                    lines.len()
                ));
                None
            }
        }
    }

    /// The full check of a probe: SIPp passed; exactly one JSON record with
    /// every contract key; caller, carrier, destination, the Call-ID SIPp
    /// saw, an RFC 3339 UTC start; and the expected outcome, rang, status,
    /// phrase, analytics, retry_after_s and exit code.
    pub fn check(&self, want: &Expect) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.sipp.passed() {
            problems.push(format!(
                "SIPp's scenario failed ({:?}): ringwatch did not behave as the peer required",
                self.sipp.status
            ));
        }
        if self.ringwatch.code != Some(want.exit) {
            problems.push(format!(
                "exit code {:?}, want {}",
                self.ringwatch.code, want.exit
            ));
        }
        if self.ringwatch.stderr.contains("panicked") {
            problems.push("ringwatch panicked".to_owned());
        }
        let Some(rec) = self.record(&mut problems) else {
            return problems;
        };
        for key in RECORD_KEYS {
            if rec.get(key).is_none() {
                problems.push(format!("record has no `{key}`"));
            }
        }
        let mut field = |key: &str, want: Value| {
            let got = rec.get(key).unwrap_or(&Value::Null);
            if *got != want {
                problems.push(format!("{key}: got {got}, want {want}"));
            }
        };
        field("caller_id", Value::from(FROM));
        field("carrier", Value::from("lab"));
        field("destination", Value::from(DESTINATION));
        field("outcome", Value::from(want.outcome));
        field("rang", Value::from(want.rang));
        field("status", want.status.map_or(Value::Null, Value::from));
        field("reason_phrase", opt_str(want.reason_phrase));
        field(
            "retry_after_s",
            want.retry_after_s.map_or(Value::Null, Value::from),
        );
        if let Some(invite) = self.sipp.received_requests("INVITE").first() {
            field("call_id", opt_str(header(invite, "Call-ID")));
        } else {
            problems.push("SIPp received no INVITE".to_owned());
        }

        let started = rec.get("started_at").and_then(Value::as_str).unwrap_or("");
        match chrono::DateTime::parse_from_rfc3339(started) {
            Ok(t) if t.offset().local_minus_utc() == 0 => {}
            Ok(_) => problems.push(format!("started_at {started:?} is not UTC")),
            Err(e) => problems.push(format!("started_at {started:?} is not RFC 3339: {e}")),
        }
        for key in ["pdd_ms", "duration_ms"] {
            let v = rec.get(key).unwrap_or(&Value::Null);
            if !(v.is_u64() || v.is_null()) {
                problems.push(format!("{key} is {v}, want a number of ms or null"));
            }
        }
        if want.rang && !rec.get("pdd_ms").is_some_and(Value::is_u64) {
            problems.push("the call rang but pdd_ms is not a number".to_owned());
        }
        if !rec.get("duration_ms").is_some_and(Value::is_u64) {
            problems.push("duration_ms is not a number".to_owned());
        }
        if !rec.get("reasons").is_some_and(Value::is_array) {
            problems.push("reasons is not an array".to_owned());
        }

        let analytics = rec.get("analytics").unwrap_or(&Value::Null);
        match &want.analytics {
            None if analytics.is_null() => {}
            None => problems.push(format!("analytics: got {analytics}, want null")),
            Some(a) => {
                if !analytics.is_object() {
                    problems.push(format!("analytics: got {analytics}, want an object"));
                } else {
                    for key in ANALYTICS_KEYS {
                        if analytics.get(key).is_none() {
                            problems.push(format!("analytics has no `{key}`"));
                        }
                    }
                    let expected = [
                        ("standard", Some(a.standard)),
                        ("url", a.url),
                        ("tel", a.tel),
                        ("email", a.email),
                        ("id", a.id),
                        ("location", a.location),
                    ];
                    for (key, want) in expected {
                        let got = analytics.get(key).unwrap_or(&Value::Null);
                        if *got != opt_str(want) {
                            problems.push(format!(
                                "analytics.{key}: got {got}, want {}",
                                opt_str(want)
                            ));
                        }
                    }
                }
            }
        }
        problems
    }

    /// `check`, then panic with the diagnostics on any problem.
    pub fn assert(&self, want: &Expect) {
        self.fail_if(&self.check(want));
    }
}

/// Parse JSON Lines (blank lines skipped); `Err` names the first bad line.
pub fn json_lines(text: &str) -> Result<Vec<Value>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| format!("{e}: {l}")))
        .collect()
}

/// The tshark executable: `$RINGWATCH_TSHARK`, or `tshark` on the PATH.
/// Panics with install instructions when it is missing (the pcap tests
/// must fail, not pass vacuously, without it).
pub fn tshark_program() -> String {
    required_tool(
        "RINGWATCH_TSHARK",
        "tshark",
        "tshark is not installed (`{program}` not found). The evidence tests decode ringwatch's \
         pcaps with it. Install it:\n  sudo apt-get install -y tshark    # Debian/Ubuntu\n\
         or run scripts/test, or point RINGWATCH_TSHARK at a tshark binary.",
    )
}

/// `tshark -r <pcap> <args...>`: its stdout, or a panic with its stderr
/// when it fails (a pcap tshark cannot read fails the test).
pub fn tshark(pcap: &Path, args: &[&str]) -> String {
    let program = tshark_program();
    let out = Command::new(&program)
        .arg("-r")
        .arg(pcap)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("spawn {program}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "tshark -r {} {args:?} failed ({}):\n{}\n{stdout}",
        pcap.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The media ports this process has handed to SIPp: distinct per test.
static MEDIA_PORTS: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());

/// A media port for SIPp's `-mp`: free a moment ago, with `port + 2` free
/// too (SIPp binds the audio port and the video port two above it), and
/// never handed out before in this process, so parallel tests never share
/// one. SIPp exits when it cannot bind either; `Sipp::start_media` then
/// retries with new ports.
pub fn free_media_port() -> u16 {
    let mut given = MEDIA_PORTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for _ in 0..100 {
        let port = free_udp_port();
        let Some(video) = port.checked_add(2) else {
            continue;
        };
        let taken = |p: u16| given.iter().any(|g| g.abs_diff(p) <= 2);
        if taken(port) || udp_port_bound(video) == Some(true) {
            continue;
        }
        given.push(port);
        return port;
    }
    panic!("no free media port pair on 127.0.0.1");
}

/// A SIPp UAS that plays early media: its SIP side and its media port.
pub struct MediaSipp {
    /// The SIPp process (SIP port in `sipp.port`).
    pub sipp: Sipp,
    /// The port of its SDP answer, from which it sends the RTP.
    pub media_port: u16,
}

impl Sipp {
    /// `Sipp::start`, plus `-mi 127.0.0.1 -mp <port>`: the address of its
    /// SDP answer, from which `play_pcap_audio` sends the scenario's RTP
    /// (through a raw socket: root). Each attempt takes a new SIP port and
    /// a new media port from `free_media_port`.
    pub fn start_media(dir: &TempDir, scenario: &str, keys: &[(&str, &str)]) -> MediaSipp {
        let (program, xml) = sipp_setup(scenario);
        let mut failures = String::new();
        for attempt in 1..=5 {
            let port = free_udp_port();
            let media_port = free_media_port();
            let mut sipp = Sipp::spawn(dir, &program, &xml, scenario, port, Some(media_port), keys);
            match sipp
                .wait_bound()
                .and_then(|()| sipp.wait_media_bound(media_port))
            {
                Ok(()) => return MediaSipp { sipp, media_port },
                Err(why) => {
                    let _ = writeln!(
                        failures,
                        "attempt {attempt}, port {port}, media port {media_port}: {why}\n{}",
                        slurp(&dir.join("sipp.stderr"))
                    );
                }
            }
        }
        panic!("SIPp ({scenario}) did not start:\n{failures}");
    }

    /// Wait until SIPp's media port is bound too (SIPp binds it after its
    /// SIP port), while SIPp is alive.
    fn wait_media_bound(&mut self, media_port: u16) -> Result<(), String> {
        let deadline = now() + SIPP_START_LIMIT;
        loop {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("exited early with {status}"));
            }
            if udp_port_bound(media_port) != Some(false) {
                return Ok(());
            }
            if now() > deadline {
                return Err(format!(
                    "media port {media_port} not bound after {SIPP_START_LIMIT:?}"
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}
