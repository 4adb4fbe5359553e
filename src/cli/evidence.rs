//! `ringwatch evidence ID [--pcap FILE] `: a ticket-ready text for one probe.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::common::{Globals, open_existing_store};
use crate::report::evidence;

/// Arguments of `ringwatch evidence`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Probe id (or a unique prefix of at least 8 characters).
    pub id: String,
    /// Also write the SIP exchange and early-media RTP as a pcap file (Wireshark, tshark).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Also write the early media as a WAV file (8 kHz mono) to listen to.
    #[arg(long, value_name = "FILE")]
    pub wav: Option<PathBuf>,
}

/// Run `ringwatch evidence`.
pub fn run(args: &Args, globals: &Globals) -> anyhow::Result<ExitCode> {
    let cfg = globals.load_config_optional()?;
    let path = globals.db_path(cfg.as_ref())?;
    let Some(store) = open_existing_store(&path)? else {
        bail!(
            "no probe `{}`: there is no history database at {}",
            args.id,
            path.display()
        );
    };
    let Some(rec) = store.probe(&args.id)? else {
        bail!("no probe with id `{}` in {}", args.id, path.display());
    };
    if let Some(pcap) = &args.pcap {
        let file =
            std::fs::File::create(pcap).with_context(|| format!("creating {}", pcap.display()))?;
        evidence::write_pcap(&rec, std::io::BufWriter::new(file))
            .with_context(|| format!("writing {}", pcap.display()))?;
    }
    if let Some(wav) = &args.wav {
        let pcm = evidence::decoded_audio(&rec);
        if pcm.is_empty() {
            bail!("probe {} has no early media to write as WAV", rec.id);
        }
        let file =
            std::fs::File::create(wav).with_context(|| format!("creating {}", wav.display()))?;
        evidence::write_wav(&pcm, std::io::BufWriter::new(file))
            .with_context(|| format!("writing {}", wav.display()))?;
    }
    print!("{}", evidence::text(&rec));
    if let Some(wav) = &args.wav {
        println!("\nWAV written to {}", wav.display());
    }
    if let Some(pcap) = &args.pcap {
        println!("\npcap written to {}", pcap.display());
    }
    Ok(ExitCode::SUCCESS)
}
