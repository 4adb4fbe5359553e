//! Black-box tests of `ringwatch config check`: run the built binary on the
//! shipped `probes.toml`, on a broken file and on a missing file, and check
//! exit codes and output. No network, no clock.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ringwatch");
const SHIPPED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/probes.toml");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RINGWATCH_TRUNK_PASSWORD")
        .output()
        .expect("run ringwatch")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "ringwatch-config-check-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn write(&self, file: &str, contents: &str) -> PathBuf {
        let path = self.0.join(file);
        std::fs::write(&path, contents).expect("write temp file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn assert_clean_error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2), "stderr: {}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("RUST_BACKTRACE"), "{err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err:?}"
    );
    assert!(err.starts_with("ringwatch: "), "{err}");
    assert!(out.stdout.is_empty(), "stdout: {}", text(&out.stdout));
    err
}

#[test]
fn shipped_config_is_valid_and_summarised() {
    let out = run(&["--config", SHIPPED, "config", "check"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "stderr: {}", text(&out.stderr));
    for needle in [
        "probes.toml: valid",
        "the built-in carrier lab",
        "att",
        "verizon",
        "tmobile",
        "+12025550143",
        "sales-east",
        "6 calls",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
}

#[test]
fn global_flag_after_the_subcommand_works_too() {
    let out = run(&["config", "check", "--config", SHIPPED]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
}

#[test]
fn example_output_is_the_shipped_template() {
    let out = run(&["config", "example"]);
    assert_eq!(out.status.code(), Some(0));
    let shipped = std::fs::read_to_string(SHIPPED).expect("read probes.toml");
    assert_eq!(text(&out.stdout), shipped);
}

#[test]
fn broken_file_reports_file_line_col() {
    let dir = TempDir::new("broken");
    let shipped = std::fs::read_to_string(SHIPPED).expect("read probes.toml");
    let broken = shipped.replacen("ring_seconds = 2", "ringseconds = 2", 1);
    assert_ne!(broken, shipped, "template changed: update this test");
    let path = dir.write("probes.toml", &broken);
    let line = broken
        .lines()
        .position(|l| l.starts_with("ringseconds"))
        .map(|i| i + 1)
        .expect("line");

    let out = run(&[
        "--config",
        path.to_str().expect("utf-8 path"),
        "config",
        "check",
    ]);
    let err = assert_clean_error(&out);
    let want = format!(
        "ringwatch: {}:{line}:1: unknown field `ringseconds` in [call]",
        path.display()
    );
    assert!(err.starts_with(&want), "want {want:?}\ngot  {err:?}");
}

#[test]
fn invalid_number_reports_its_position() {
    let dir = TempDir::new("number");
    let path = dir.write(
        "p.toml",
        "[trunk]\nproxy = \"127.0.0.1\"\n[[numbers]]\nnumber = \"+1202555014\"\n\
         [[carriers]]\nname = \"att\"\ndestinations = [\"+13125550178\"]\n",
    );
    let out = run(&[
        "--config",
        path.to_str().expect("utf-8 path"),
        "config",
        "check",
    ]);
    let err = assert_clean_error(&out);
    assert_eq!(
        err.trim_end(),
        format!(
            "ringwatch: {}:4:10: +1202555014: NANP numbers have 10 digits after +1, got 9",
            path.display()
        )
    );
}

#[test]
fn missing_file_exits_2_naming_the_path() {
    let dir = TempDir::new("missing");
    let path: PathBuf = dir.0.join("nope.toml");
    let out = run(&[
        "--config",
        path.to_str().expect("utf-8 path"),
        "config",
        "check",
    ]);
    let err = assert_clean_error(&out);
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("not found"), "{err}");
}

#[test]
fn default_path_is_probes_toml_in_the_working_directory() {
    let dir = TempDir::new("cwd");
    let out = Command::new(BIN)
        .args(["config", "check"])
        .current_dir(&dir.0)
        .output()
        .expect("run ringwatch");
    let err = assert_clean_error(&out);
    assert!(err.contains("probes.toml"), "{err}");
    assert!(Path::new(SHIPPED).exists());
}
