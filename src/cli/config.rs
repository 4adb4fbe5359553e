//! `ringwatch config check` and `ringwatch config example`.
//!
//! `check` loads the config named by the global `--config` and prints a
//! one-screen summary of what a run would do; an invalid file becomes an
//! `Err` whose `Display` is the one-line `FILE:LINE:COL: message` (main
//! prints it and exits 2). `example` prints the annotated template. This
//! file only formats: all rules live in `crate::config`. It reads one
//! environment variable, the one `password_env` names, and only to say
//! whether it is set; the password itself is never read or printed.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::config::{self, Config};

/// Arguments of `ringwatch config`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do with the configuration.
    #[command(subcommand)]
    pub command: ConfigCommand,
}

/// The `ringwatch config` subcommands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Subcommand)]
pub enum ConfigCommand {
    /// Validate the config file and summarise trunk, timing and the call matrix.
    Check,
    /// Print the annotated example configuration (a valid probes.toml).
    Example,
}

/// Run `ringwatch config ...` on the config file at `path`.
pub fn run(args: &Args, path: &Path) -> anyhow::Result<ExitCode> {
    let text = match args.command {
        ConfigCommand::Check => {
            let cfg = Config::load(path)?;
            summary(&cfg, |name| {
                std::env::var_os(name).is_some_and(|v| !v.is_empty())
            })
        }
        ConfigCommand::Example => config::EXAMPLE.to_owned(),
    };
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// Write to stdout; a closed pipe (`| head`) is not an error.
fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// The `config check` report. `env_set` says whether an environment
/// variable is set (injected so tests do not depend on the environment).
fn summary(cfg: &Config, env_set: impl Fn(&str) -> bool) -> String {
    let mut s = String::new();
    // Writing to a String cannot fail; the results are ignored on purpose.
    let _ = writeln!(s, "{}: valid", cfg.source.display());
    let _ = writeln!(s);

    let t = &cfg.trunk;
    if cfg.trunk_is_lab() {
        let _ = writeln!(
            s,
            "trunk     lab: the built-in carrier lab, in-process on a loopback port ([lab])"
        );
    } else {
        let _ = writeln!(s, "trunk     {} over {}", t.proxy(), t.transport);
    }
    let from = t.from_domain.as_deref().unwrap_or("local IP");
    let user_phone = if t.user_phone { "on" } else { "off" };
    let _ = writeln!(
        s,
        "          domain {}, From/PAI host {from}, user=phone {user_phone}",
        t.domain
    );
    match (&t.username, &t.password_env) {
        (Some(user), Some(var)) => {
            let state = if env_set(var) {
                "set"
            } else {
                "NOT SET in this environment: a challenged call will fail"
            };
            let _ = writeln!(s, "auth      user {user}, password from ${var} ({state})");
        }
        _ => {
            let _ = writeln!(s, "auth      none (no username configured)");
        }
    }

    let c = &cfg.call;
    let _ = writeln!(
        s,
        "call      hang up {} after alerting; CANCEL after {} without alerting",
        dur(c.ring),
        dur(c.alert_timeout)
    );
    let _ = writeln!(s, "          T1 {}, linger {}", dur(c.t1), dur(c.linger));
    let cps = cfg.schedule.cps;
    #[allow(clippy::float_cmp)] // exact: only the literal 1 reads "call"
    let unit = if cps == 1.0 { "call" } else { "calls" };
    let _ = writeln!(
        s,
        "schedule  {cps} {unit} per second, at most {} at once",
        cfg.schedule.max_concurrent
    );
    let _ = writeln!(s);

    // The matrix: a row per owned number, a column per carrier, each cell
    // the number of destinations that number calls on that carrier.
    let _ = writeln!(s, "matrix    destinations called per caller ID and carrier");
    let num_w = cfg
        .numbers
        .iter()
        .map(|n| n.number.as_str().len())
        .chain(["caller ID".len()])
        .max()
        .unwrap_or(0);
    let label_w = cfg
        .numbers
        .iter()
        .map(|n| n.label.as_deref().map_or(1, |l| l.chars().count()))
        .chain(["label".len()])
        .max()
        .unwrap_or(0);
    let mut header = format!("  {:<num_w$}  {:<label_w$}", "caller ID", "label");
    for carrier in &cfg.carriers {
        let _ = write!(header, "  {}", carrier.name);
    }
    let _ = writeln!(s, "{header}  total");
    let per_number: usize = cfg.carriers.iter().map(|c| c.destinations.len()).sum();
    for n in &cfg.numbers {
        let label = n.label.as_deref().unwrap_or("-");
        let pad = label_w.saturating_sub(label.chars().count());
        let mut row = format!("  {:<num_w$}  {label}{:pad$}", n.number.as_str(), "");
        for carrier in &cfg.carriers {
            let w = carrier.name.chars().count();
            let _ = write!(row, "  {:>w$}", carrier.destinations.len());
        }
        let _ = writeln!(s, "{row}  {per_number:>5}");
    }
    let _ = writeln!(s);

    let total = cfg.calls_per_run();
    let destinations = per_number;
    let _ = writeln!(
        s,
        "one full run places {total} {} ({} caller {} x {destinations} {})",
        plural(total, "call", "calls"),
        cfg.numbers.len(),
        plural(cfg.numbers.len(), "ID", "IDs"),
        plural(destinations, "destination", "destinations"),
    );
    s
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// `6s`, `500ms`, `2.5s`, `0s` (whole milliseconds).
fn dur(d: Duration) -> String {
    let (secs, ms) = (d.as_secs(), d.subsec_millis());
    match (secs, ms) {
        (0, 0) => "0s".to_owned(),
        (s, 0) => format!("{s}s"),
        (0, ms) => format!("{ms}ms"),
        (s, ms) => {
            let frac = format!("{ms:03}");
            format!("{s}.{}s", frac.trim_end_matches('0'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(dur(Duration::from_secs(6)), "6s");
        assert_eq!(dur(Duration::from_millis(500)), "500ms");
        assert_eq!(dur(Duration::from_millis(2500)), "2.5s");
        assert_eq!(dur(Duration::from_millis(1050)), "1.05s");
        assert_eq!(dur(Duration::ZERO), "0s");
    }

    #[test]
    fn summary_of_the_example() {
        let cfg = Config::parse_str(config::EXAMPLE, Path::new("probes.toml")).expect("valid");
        let out = summary(&cfg, |_| false);
        assert!(out.starts_with("probes.toml: valid\n"), "{out}");
        for needle in [
            "trunk     lab: the built-in carrier lab",
            "auth      none",
            "hang up 2s after alerting",
            "att  verizon  tmobile  total",
            "+12025550143  sales-east",
            "one full run places 6 calls (2 caller IDs x 3 destinations)",
        ] {
            assert!(out.contains(needle), "missing {needle:?} in\n{out}");
        }
    }

    #[test]
    fn summary_says_whether_the_password_variable_is_set() {
        let text = config::EXAMPLE.replace(
            "# username = \"acct\"\n# password_env",
            "username = \"acct\"\npassword_env",
        );
        let cfg = Config::parse_str(&text, Path::new("p.toml")).expect("valid");
        let set = summary(&cfg, |v| v == "RINGWATCH_TRUNK_PASSWORD");
        assert!(
            set.contains("user acct, password from $RINGWATCH_TRUNK_PASSWORD (set)"),
            "{set}"
        );
        let unset = summary(&cfg, |_| false);
        assert!(unset.contains("(NOT SET"), "{unset}");
    }
}
