//! Issue 3, point 9: a corrupt, damaged, locked or too-new history
//! database, an unknown probe id and a never-probed number each give a
//! clear message and the documented exit code (2 error, 3 unknown), never a
//! panic and never a silently empty answer.
//!
//! No SIPp: the valid databases are made by `ringwatch probe` through the
//! built-in carrier lab (`proxy = "lab"`), and a test that must show no
//! call was placed points the trunk at a UDP socket the test holds. The
//! test reaches into the SQLite file with `rusqlite` (a dependency of the
//! crate, so available to its tests) only to damage or lock it.

use std::fs;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::thread;

use rusqlite::Connection;

use crate::common::{RingwatchRun, TempDir, json_lines};

/// The owned number every test probes from.
const A: &str = "+12025550143";
/// A number that was never probed.
const NEVER: &str = "+12025550199";
/// An id no probe has (a well-formed UUID v7).
const UNKNOWN_ID: &str = "00000000-0000-7000-8000-000000000000";

/// One number, carrier `att`, the trunk at `proxy` ("lab" or host:port),
/// the database at `db`. The lab answers `486 Busy Here` at once.
fn lab_config(proxy: &str, db: &Path) -> String {
    let db = db.to_str().expect("utf-8 temp path");
    assert!(!db.contains('\''), "temp path {db} needs TOML escaping");
    format!(
        r#"[trunk]
proxy = "{proxy}"
transport = "udp"

[call]
ring_seconds = 1
t1_ms = 100
linger_ms = 0

[store]
path = '{db}'

[[numbers]]
number = "{A}"

[[carriers]]
name = "att"
destinations = ["+13125550178"]

[lab]
default = "busy"
pdd_ms = 0
"#
    )
}

/// A trunk that must never be called: a bound UDP socket whose datagrams
/// the test counts.
struct SilentTrunk {
    sock: UdpSocket,
}

impl SilentTrunk {
    fn new() -> SilentTrunk {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind a UDP socket");
        sock.set_nonblocking(true).expect("non-blocking");
        SilentTrunk { sock }
    }

    fn proxy(&self) -> String {
        self.sock.local_addr().expect("local addr").to_string()
    }

    /// Datagrams that arrived so far.
    fn datagrams(&self) -> usize {
        let mut buf = [0u8; 65_536];
        let mut n = 0;
        while self.sock.recv_from(&mut buf).is_ok() {
            n += 1;
        }
        n
    }
}

/// A temp dir with a valid history database holding one probe from `A`
/// (made by `ringwatch probe` through the built-in lab).
struct Store {
    dir: TempDir,
    db: PathBuf,
    cfg: PathBuf,
    id: String,
}

impl Store {
    fn create(name: &str) -> Store {
        let dir = TempDir::new(name);
        let db = dir.join("history.db");
        let cfg = dir.write("lab.toml", &lab_config("lab", &db));
        let run = RingwatchRun::run(
            &dir,
            &["--config", path(&cfg), "probe", "--from", A, "--json"],
            &[],
        );
        let records = json_lines(&run.stdout).unwrap_or_default();
        assert!(
            run.code == Some(1) && records.len() == 1 && records[0]["outcome"] == "busy",
            "the lab probe that makes the database\n{}",
            run.diagnostics()
        );
        assert!(db.is_file(), "no database at {}", db.display());
        // The last connection checkpointed the WAL into the file: damaging
        // or patching the file is what a reader will see.
        let wal = dir.join("history.db-wal");
        assert!(
            !wal.exists() || fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) == 0,
            "WAL left behind: {}",
            wal.display()
        );
        let id = records[0]["id"].as_str().expect("id").to_owned();
        Store { dir, db, cfg, id }
    }

    fn db(&self) -> &str {
        path(&self.db)
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// Assert exit 2, one `ringwatch: ` line on stderr containing every
/// `needles`, and nothing on stdout (no half answer).
fn assert_error(run: &RingwatchRun, what: &str, needles: &[&str]) {
    run.assert_clean_error();
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "{what}: the message lacks {needle:?}\n{}",
            run.diagnostics()
        );
    }
    assert!(
        run.stdout.is_empty(),
        "{what}: an answer on stdout despite the error\n{}",
        run.diagnostics()
    );
}

/// The reading subcommands, each with `--db db`.
fn readers<'a>(db: &'a str, id: &'a str) -> Vec<Vec<&'a str>> {
    vec![
        vec!["--db", db, "history", A],
        vec!["--db", db, "history", A, "--json"],
        vec!["--db", db, "check", A],
        vec!["--db", db, "check", A, "--json"],
        vec!["--db", db, "evidence", id],
        vec!["--db", db, "export"],
        vec!["--db", db, "export", "--format", "json"],
        vec!["--db", db, "reclassify"],
    ]
}

/// Run every command at once (each in its own directory: the harness
/// writes stdout/stderr files there), and hand back the runs in order.
fn run_all(name: &str, commands: &[Vec<&str>]) -> Vec<(TempDir, RingwatchRun)> {
    thread::scope(|scope| {
        let handles: Vec<_> = commands
            .iter()
            .enumerate()
            .map(|(i, args)| {
                scope.spawn(move || {
                    let dir = TempDir::new(&format!("{name}-{i}"));
                    let run = RingwatchRun::run(&dir, args, &[]);
                    (dir, run)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("command thread"))
            .collect()
    })
}

/// `len` bytes of noise (xorshift64, fixed seed): not an SQLite header.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect()
}

#[test]
fn a_file_of_random_bytes_is_a_clear_error_for_every_command() {
    let dir = TempDir::new("corrupt_file");
    let db = dir.join("garbage.db");
    let bytes = noise(8192);
    fs::write(&db, &bytes).expect("write noise");
    let db_s = path(&db);

    let mut commands = readers(db_s, UNKNOWN_ID);
    // probe opens the store before calling anyone.
    let trunk = SilentTrunk::new();
    let cfg = dir.write("silent.toml", &lab_config(&trunk.proxy(), &db));
    commands.push(vec!["--config", path(&cfg), "probe", "--from", A]);
    for (i, args) in commands.iter().enumerate() {
        let run = RingwatchRun::run(&dir, args, &[]);
        assert_error(
            &run,
            &format!("{args:?} (case {i})"),
            &[
                db_s,
                "is not a usable ringwatch history database (not SQLite, or corrupt)",
            ],
        );
    }
    assert_eq!(trunk.datagrams(), 0, "probe called the trunk anyway");
    assert_eq!(
        fs::read(&db).expect("read back"),
        bytes,
        "the file was modified"
    );
}

#[test]
fn a_damaged_database_is_an_error_not_an_empty_answer() {
    let store = Store::create("damaged_db");
    // Keep page 1 (header and schema), overwrite every later page: the
    // tables and indexes all live there.
    let mut bytes = fs::read(&store.db).expect("read db");
    let page = usize::from(u16::from_be_bytes([bytes[16], bytes[17]]));
    assert!(bytes.len() > page, "a one-page database");
    for b in bytes.iter_mut().skip(page) {
        *b = 0xA5;
    }
    fs::write(&store.db, &bytes).expect("damage");

    let db = store.db();
    let commands = vec![
        vec!["--db", db, "history", A, "--json"],
        vec!["--db", db, "check", A],
        vec!["--db", db, "evidence", store.id.as_str()],
        vec!["--db", db, "export", "--format", "json"],
        vec!["--db", db, "reclassify"],
    ];
    for args in &commands {
        let run = RingwatchRun::run(&store.dir, args, &[]);
        assert_error(
            &run,
            &format!("{args:?}"),
            &[db, "(not SQLite, or corrupt)"],
        );
    }
}

#[test]
fn a_database_from_a_newer_ringwatch_is_refused_and_left_alone() {
    let store = Store::create("too_new_db");
    {
        let conn = Connection::open(&store.db).expect("raw open");
        conn.pragma_update(None, "user_version", 999)
            .expect("bump user_version");
    }
    let db = store.db();
    let mut commands = readers(db, &store.id);
    let trunk = SilentTrunk::new();
    let cfg = store
        .dir
        .write("silent.toml", &lab_config(&trunk.proxy(), &store.db));
    commands.push(vec!["--config", path(&cfg), "probe", "--from", A]);
    // `check --probe-stale` must refuse too, before probing anything.
    commands.push(vec!["--config", path(&cfg), "check", A, "--probe-stale"]);
    for args in &commands {
        let run = RingwatchRun::run(&store.dir, args, &[]);
        assert_error(
            &run,
            &format!("{args:?}"),
            &[
                db,
                "written by a newer ringwatch",
                "schema 999",
                "upgrade ringwatch",
            ],
        );
    }
    assert_eq!(trunk.datagrams(), 0, "a call was placed");

    // Not downgraded, not written to.
    let conn = Connection::open(&store.db).expect("raw open");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("user_version");
    assert_eq!(version, 999);
    let n: i64 = conn
        .query_row("SELECT count(*) FROM probes", [], |r| r.get(0))
        .expect("count");
    assert_eq!(n, 1);
}

/// Two locks, tested together so that their 5 s busy timeouts overlap:
/// a database held exclusively (nobody may even read it) makes every
/// command fail clearly after the wait; a database whose write lock is held
/// (WAL) still answers readers, and a probe that cannot write for the whole
/// wait is reported with a clear "NOT recorded" line and exit 2.
#[test]
fn locked_databases_are_clear_errors_after_the_busy_timeout() {
    // 1. Held exclusively: in WAL mode with locking_mode=EXCLUSIVE the
    //    holder (here a connection of this process) shuts everyone out.
    let excl = Store::create("locked_exclusive");
    let excl_db = excl.db();
    let trunk = SilentTrunk::new();
    let silent = excl
        .dir
        .write("silent.toml", &lab_config(&trunk.proxy(), &excl.db));
    let excl_holder = Connection::open(&excl.db).expect("raw open");
    excl_holder
        .execute_batch(
            "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; SELECT count(*) FROM probes;",
        )
        .expect("take the exclusive lock");

    // 2. Write lock held: readers still answer at once.
    let wl = Store::create("locked_write");
    let wl_db = wl.db();
    let wl_holder = Connection::open(&wl.db).expect("raw open");
    wl_holder
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    let run = RingwatchRun::run(&wl.dir, &["--db", wl_db, "history", A, "--json"], &[]);
    assert_eq!(
        run.code,
        Some(0),
        "read under a write lock\n{}",
        run.diagnostics()
    );
    let run = RingwatchRun::run(&wl.dir, &["--db", wl_db, "export", "--format", "json"], &[]);
    assert_eq!(run.code, Some(0), "{}", run.diagnostics());
    assert_eq!(json_lines(&run.stdout).map(|l| l.len()), Ok(1));

    // Everything that has to wait out the busy timeout, at once.
    let excl_commands = vec![
        vec!["--db", excl_db, "history", A],
        vec!["--db", excl_db, "check", A, "--json"],
        vec!["--db", excl_db, "evidence", excl.id.as_str()],
        vec!["--db", excl_db, "export"],
        vec!["--config", path(&silent), "probe", "--from", A],
    ];
    let mut commands = excl_commands.clone();
    commands.push(vec![
        "--config",
        path(&wl.cfg),
        "probe",
        "--from",
        A,
        "--json",
    ]);
    let mut runs = run_all("locked", &commands);
    let (_dir, wl_probe) = runs.pop().expect("the write-locked probe");

    for (args, (_dir, run)) in excl_commands.iter().zip(&runs) {
        assert_error(run, &format!("{args:?}"), &[excl_db, "is locked"]);
    }
    assert_eq!(trunk.datagrams(), 0, "probe called through a locked store");

    // The call under the write lock was made and reported, not recorded.
    let records = json_lines(&wl_probe.stdout).unwrap_or_default();
    assert_eq!(wl_probe.code, Some(2), "{}", wl_probe.diagnostics());
    assert_eq!(records.len(), 1, "{}", wl_probe.diagnostics());
    assert_eq!(records[0]["outcome"], "busy", "{}", wl_probe.diagnostics());
    let id = records[0]["id"].as_str().expect("id");
    let err = wl_probe.stderr.trim_end();
    assert!(
        err.lines().count() == 1
            && err.starts_with(&format!("ringwatch: probe {id} was NOT recorded"))
            && err.contains("is locked")
            && err.contains(wl_db)
            && !err.contains("panicked"),
        "{}",
        wl_probe.diagnostics()
    );

    // Released: the locks were the only problem, and the message was true.
    excl_holder.execute_batch("ROLLBACK").expect("release");
    drop(excl_holder);
    wl_holder.execute_batch("ROLLBACK").expect("release");
    drop(wl_holder);
    let run = RingwatchRun::run(&excl.dir, &["--db", excl_db, "history", A], &[]);
    assert_eq!(run.code, Some(0), "{}", run.diagnostics());
    let run = RingwatchRun::run(&wl.dir, &["--db", wl_db, "evidence", id], &[]);
    assert_error(&run, "the unrecorded probe", &[id]);
}

/// Two processes that create a new database at once (a daemon and a
/// one-off probe started together): the second must wait for the first,
/// as it does on an existing database, not fail at once.
///
/// Modelled deterministically: the file exists, still empty and in
/// rollback-journal mode, and another connection holds its write lock for
/// a second, as the first creator does while it switches the file to WAL.
/// (If the probe starts after the release, the test passes without proving
/// anything; it cannot fail spuriously.)
///
/// Regression test: `PRAGMA journal_mode=WAL` upgrades a read transaction
/// to a write one, and SQLite returns SQLITE_BUSY there without calling the
/// busy handler; `Store::open` used to report "locked" after 0 ms (1 to 5
/// runs in 100 of two `probe` processes racing on a missing file). The store
/// now retries the switch for the busy timeout.
#[test]
fn a_probe_waits_for_a_process_creating_the_database() {
    let dir = TempDir::new("creating_db");
    let db = dir.join("history.db");
    let cfg = dir.write("lab.toml", &lab_config("lab", &db));
    let holder = Connection::open(&db).expect("raw open");
    holder
        .execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    let release = thread::spawn(move || {
        thread::sleep(std::time::Duration::from_secs(1));
        holder.execute_batch("ROLLBACK").expect("release");
    });
    let run = RingwatchRun::run(
        &dir,
        &["--config", path(&cfg), "probe", "--from", A, "--json"],
        &[],
    );
    release.join().expect("holder thread");
    let records = json_lines(&run.stdout).unwrap_or_default();
    assert!(
        run.code == Some(1)
            && run.stderr.trim().is_empty()
            && records.len() == 1
            && records[0]["outcome"] == "busy",
        "the probe should have waited for the lock, called and recorded\n{}",
        run.diagnostics()
    );
    let export = RingwatchRun::run(
        &dir,
        &["--db", path(&db), "export", "--format", "json"],
        &[],
    );
    assert_eq!(export.code, Some(0), "{}", export.diagnostics());
    assert_eq!(
        json_lines(&export.stdout).map(|l| l.len()),
        Ok(1),
        "{}",
        export.diagnostics()
    );
}

#[test]
fn an_unknown_probe_id_is_exit_2_naming_it() {
    let store = Store::create("unknown_id");
    let db = store.db();
    let run = RingwatchRun::run(&store.dir, &["--db", db, "evidence", UNKNOWN_ID], &[]);
    assert_error(&run, "unknown id", &[UNKNOWN_ID, db]);
    let run = RingwatchRun::run(&store.dir, &["--db", db, "evidence", "0000"], &[]);
    assert_error(&run, "short prefix", &["\"0000\"", "too short"]);
    // The real id, and a unique prefix of it, work.
    for id in [store.id.as_str(), &store.id[..13]] {
        let run = RingwatchRun::run(&store.dir, &["--db", db, "evidence", id], &[]);
        assert!(
            run.code == Some(0) && run.stdout.contains(&store.id),
            "evidence {id}\n{}",
            run.diagnostics()
        );
    }
    // No database at all: an error, and no empty database is created.
    let missing = store.dir.join("missing.db");
    let run = RingwatchRun::run(
        &store.dir,
        &["--db", path(&missing), "evidence", UNKNOWN_ID],
        &[],
    );
    assert_error(
        &run,
        "no database",
        &[UNKNOWN_ID, path(&missing), "no history database"],
    );
    assert!(!missing.exists(), "evidence created {}", missing.display());
}

#[test]
fn a_never_probed_number_is_unknown_exit_3_with_the_probe_to_run() {
    let store = Store::create("never_probed");
    let cfg = path(&store.cfg);
    let run = RingwatchRun::run(&store.dir, &["--config", cfg, "check", NEVER], &[]);
    assert_eq!(run.code, Some(3), "{}", run.diagnostics());
    assert!(
        run.stdout.starts_with(&format!("UNKNOWN {NEVER}"))
            && run
                .stdout
                .contains(&format!("ringwatch probe --from {NEVER} --carrier att")),
        "{}",
        run.diagnostics()
    );
    let run = RingwatchRun::run(&store.dir, &["--config", cfg, "history", NEVER], &[]);
    assert_eq!(run.code, Some(3), "{}", run.diagnostics());
    assert!(
        run.stderr.contains(&format!("{NEVER} was never probed"))
            && run.stderr.contains(store.db())
            && !run.stderr.contains("panicked"),
        "{}",
        run.diagnostics()
    );

    // No database file yet: the same answers, and readers create nothing.
    let fresh = TempDir::new("never_probed_no_db");
    let db = fresh.join("history.db");
    let cfg = fresh.write("lab.toml", &lab_config("lab", &db));
    let cfg = path(&cfg);
    let run = RingwatchRun::run(&fresh, &["--config", cfg, "check", A], &[]);
    assert_eq!(run.code, Some(3), "{}", run.diagnostics());
    assert!(
        run.stdout
            .contains(&format!("ringwatch probe --from {A} --carrier att")),
        "{}",
        run.diagnostics()
    );
    let run = RingwatchRun::run(&fresh, &["--config", cfg, "history", A, "--json"], &[]);
    assert_eq!(run.code, Some(3), "{}", run.diagnostics());
    assert!(
        run.stderr.contains(&format!("{A} was never probed")),
        "{}",
        run.diagnostics()
    );
    assert!(!db.exists(), "a reader created {}", db.display());
}
