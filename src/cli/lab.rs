//! `ringwatch lab`: run the built-in carrier lab as a standalone SIP far end.
//!
//! Loads the config, binds `--listen` (default `[lab] listen`), prints one
//! line per carrier (its behaviour, block list and random mix) and where to
//! point a dialer, then serves until SIGINT or SIGTERM and exits 0. Each
//! call is logged at info level by `crate::lab` (carrier, caller, behaviour,
//! Call-ID). Exit 2 when the config is invalid or the address cannot be
//! bound.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use tokio::net::UdpSocket;

use crate::config::{Config, LabRule};
use crate::lab;

/// Arguments of `ringwatch lab`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on, e.g. 127.0.0.1:5070 or 0.0.0.0:5070
    /// (default: `[lab] listen`).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

/// Run `ringwatch lab`.
pub fn run(args: &Args, config_path: &Path) -> anyhow::Result<ExitCode> {
    let cfg = Config::load(config_path)?;
    let listen = args.listen.unwrap_or(cfg.lab.listen);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let socket = UdpSocket::bind(listen)
            .await
            .with_context(|| format!("cannot listen on udp {listen}"))?;
        let addr = socket
            .local_addr()
            .with_context(|| format!("local address of udp {listen}"))?;
        {
            let mut out = std::io::stdout().lock();
            out.write_all(banner(&cfg, addr).as_bytes())?;
            out.flush()?;
        }
        let stats = lab::serve(&cfg, socket, shutdown_signal()).await?;
        println!(
            "lab stopped: {} calls, {} retransmissions absorbed, {} datagrams ignored",
            stats.calls, stats.retransmissions, stats.ignored
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// One line per carrier, then where to point a dialer.
pub fn banner(cfg: &Config, addr: SocketAddr) -> String {
    let mut out = format!("ringwatch lab listening on udp {addr}\n");
    let width = cfg.carriers.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for carrier in &cfg.carriers {
        let rule = cfg.lab.rule(&carrier.name);
        let dests: Vec<&str> = carrier.destinations.iter().map(|d| d.as_str()).collect();
        let _ = writeln!(
            out,
            "  {:<width$}  {}  {}",
            carrier.name,
            describe(rule),
            dests.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "  {:<width$}  {}  (destinations no carrier lists)",
        "*", cfg.lab.unknown
    );
    let example = cfg
        .carriers
        .first()
        .and_then(|c| c.destinations.first())
        .map_or("+13125550178", |d| d.as_str());
    let _ = writeln!(
        out,
        "point a dialer or SBC at {addr} (UDP), e.g. INVITE sip:{example}@{addr}; Ctrl-C stops"
    );
    out
}

/// `ring, blocks +1... with network_blocked, random busy=0.1`.
fn describe(rule: &LabRule) -> String {
    let mut s = rule.behaviour.to_string();
    if rule.alert_first {
        s.push_str(" (after 180)");
    }
    if !rule.block.is_empty() {
        let block: Vec<&str> = rule.block.iter().map(|n| n.as_str()).collect();
        let _ = write!(
            s,
            ", blocks {} with {}",
            block.join(" "),
            rule.blocked_behaviour
        );
    }
    if !rule.random.is_empty() {
        let mix: Vec<String> = rule
            .random
            .iter()
            .map(|(b, p)| format!("{b}={p}"))
            .collect();
        let _ = write!(s, ", random {}", mix.join(" "));
    }
    s
}

/// SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot watch SIGTERM; Ctrl-C still stops the lab");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn banner_lists_every_carrier() {
        let cfg = Config::parse_str(
            r#"
[trunk]
proxy = "lab"
[[numbers]]
number = "+12025550143"
[[carriers]]
name = "att"
destinations = ["+13125550178"]
[[carriers]]
name = "verizon"
destinations = ["+12125550162"]
[[lab.carriers]]
name = "att"
block = ["+13125550101"]
random = { busy = 0.1 }
"#,
            Path::new("probes.toml"),
        )
        .expect("config");
        let text = banner(&cfg, "127.0.0.1:5070".parse().expect("addr"));
        assert!(text.starts_with("ringwatch lab listening on udp 127.0.0.1:5070\n"));
        assert!(text.contains(
            "  att      ring, blocks +13125550101 with network_blocked, random busy=0.1  +13125550178\n"
        ));
        assert!(text.contains("  verizon  ring  +12125550162\n"));
        assert!(text.contains("INVITE sip:+13125550178@127.0.0.1:5070"));
    }
}
