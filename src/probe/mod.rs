//! One test call end to end, and a paced matrix of them.
//!
//! The thin async shell around [`crate::uac::Uac`]: it owns the UDP socket
//! (connected to the trunk, so the kernel tells us our real source address
//! and ICMP port-unreachable surfaces as an error), reserves the RTP port
//! offered in the SDP, feeds datagrams and deadlines to the UAC, records
//! every datagram both ways, and turns the UAC's summary into a
//! [`ProbeRecord`] through [`crate::classify`].

mod record;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::{Semaphore, mpsc, watch};
use tracing::Instrument;

use crate::classify::{self, CallFacts};
use crate::clock;
use crate::config::{Config, E164};
use crate::media::MediaSession;
use crate::sip::request;
use crate::uac::{CallSpec, Credentials, Event, Input, Output, Uac, UacConfig};

pub use record::{Direction, ExchangeEntry, ProbeRecord, Proto};

/// Largest datagram we accept (RFC 3261 §18.1.1 caps UDP well below this).
const MAX_DATAGRAM: usize = 65_535;

/// One call to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTarget {
    /// Owned caller ID (From / P-Asserted-Identity).
    pub caller_id: E164,
    /// Configured carrier name (or `adhoc` for a destination not in the matrix).
    pub carrier: String,
    /// Destination number.
    pub destination: E164,
}

/// Trunk and timing settings shared by every call of a run.
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    /// The trunk's resolved address.
    pub proxy: SocketAddr,
    /// Host of Request-URI and To.
    pub domain: String,
    /// Host of From and PAI (default: our local IP).
    pub from_domain: Option<String>,
    /// Add `;user=phone`.
    pub user_phone: bool,
    /// Timers.
    pub uac: UacConfig,
    /// Digest credentials, password taken from the environment.
    pub credentials: Option<Credentials>,
}

/// Why a call could not be placed at all (exit code 2). Protocol outcomes are
/// never errors: a 603 is a [`ProbeRecord`].
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// DNS resolution of the proxy failed.
    #[error("cannot resolve trunk proxy `{host}`: {source}")]
    Resolve {
        /// The configured host.
        host: String,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The environment variable holding the trunk password is not set.
    #[error("trunk password: environment variable `{0}` is not set (see [trunk] password_env)")]
    MissingPassword(String),
    /// A socket could not be opened or used.
    #[error("socket error towards {proxy}: {source}")]
    Socket {
        /// The trunk address.
        proxy: SocketAddr,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The trunk answered with ICMP port/host unreachable before any SIP response.
    #[error("trunk {proxy} unreachable: {source}")]
    Unreachable {
        /// The trunk address.
        proxy: SocketAddr,
        /// The ICMP error as the kernel reported it.
        #[source]
        source: io::Error,
    },
    /// A URI could not be built from the configuration.
    #[error(transparent)]
    Uri(#[from] request::UriError),
    /// `[trunk] proxy = "lab"` but the built-in lab could not start.
    #[error("starting the built-in lab: {0}")]
    Lab(#[source] io::Error),
}

/// Where calls go for a run: the probe settings and, with
/// `[trunk] proxy = "lab"`, the built-in lab answering inside this process on
/// a loopback port. The lab lives as long as the `Trunk` (calls in flight
/// keep it alive by holding an `Arc<Trunk>`).
#[derive(Debug)]
pub struct Trunk {
    /// What every call of the run uses.
    pub settings: Arc<ProbeSettings>,
    lab: Option<crate::lab::LabHandle>,
}

impl Trunk {
    /// Start the lab when configured, resolve the trunk, read credentials.
    pub async fn start(cfg: &Config) -> Result<Self, ProbeError> {
        let lab = if cfg.trunk_is_lab() {
            let any: SocketAddr = (Ipv4Addr::LOCALHOST, 0).into();
            Some(crate::lab::start(cfg, any).await.map_err(ProbeError::Lab)?)
        } else {
            None
        };
        let settings = ProbeSettings::from_config(cfg, lab.as_ref().map(|l| l.addr)).await?;
        Ok(Self {
            settings: Arc::new(settings),
            lab,
        })
    }

    /// Stop the in-process lab, if any, logging its counters.
    pub async fn stop(self) {
        if let Some(lab) = self.lab {
            match lab.stop().await {
                Ok(stats) => tracing::debug!(?stats, "lab stopped"),
                Err(err) => tracing::warn!(error = %err, "lab did not stop cleanly"),
            }
        }
    }
}

impl ProbeSettings {
    /// Resolve the trunk (unless `proxy` is already known, e.g. the
    /// in-process lab) and read credentials from the environment.
    pub async fn from_config(cfg: &Config, proxy: Option<SocketAddr>) -> Result<Self, ProbeError> {
        let trunk = &cfg.trunk;
        let proxy = match proxy {
            Some(addr) => addr,
            None => tokio::net::lookup_host((trunk.proxy_host.as_str(), trunk.proxy_port))
                .await
                .map_err(|source| ProbeError::Resolve {
                    host: trunk.proxy_host.clone(),
                    source,
                })?
                .next()
                .ok_or_else(|| ProbeError::Resolve {
                    host: trunk.proxy_host.clone(),
                    source: io::Error::new(io::ErrorKind::NotFound, "no addresses"),
                })?,
        };
        let credentials = match (&trunk.username, &trunk.password_env) {
            (Some(username), Some(var)) => Some(Credentials {
                username: username.clone(),
                password: std::env::var(var)
                    .map_err(|_| ProbeError::MissingPassword(var.clone()))?,
            }),
            _ => None,
        };
        Ok(Self {
            proxy,
            domain: trunk.domain.clone(),
            from_domain: trunk.from_domain.clone(),
            user_phone: trunk.user_phone,
            uac: UacConfig {
                ring: cfg.call.ring,
                t1: cfg.call.t1,
                linger: cfg.call.linger,
                alert_timeout: cfg.call.alert_timeout,
                ..UacConfig::default()
            },
            credentials,
        })
    }
}

/// Bind a UDP socket "towards" `proxy` on the matching address family.
async fn connected_socket(proxy: SocketAddr) -> io::Result<UdpSocket> {
    let any = match proxy.ip() {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    let socket = UdpSocket::bind(SocketAddr::new(any, 0)).await?;
    socket.connect(proxy).await?;
    Ok(socket)
}

/// Reserve an even RTP port on `ip` (RFC 3550 §11) for the SDP offer; the
/// early-media receiver reads from it. Falls back to any port.
async fn reserve_media_port(ip: IpAddr) -> io::Result<UdpSocket> {
    let mut last = None;
    for _ in 0..16 {
        let socket = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        if socket.local_addr()?.port() % 2 == 0 {
            return Ok(socket);
        }
        last = Some(socket);
    }
    match last {
        Some(socket) => Ok(socket),
        None => UdpSocket::bind(SocketAddr::new(ip, 0)).await,
    }
}

fn is_unreachable(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
    )
}

/// Place one test call and classify it. `hangup` flips to `true` when the
/// caller wants the call ended early (shutdown): the UAC CANCELs it.
pub async fn run_one(
    settings: &ProbeSettings,
    target: &ProbeTarget,
    mut hangup: watch::Receiver<bool>,
) -> Result<ProbeRecord, ProbeError> {
    let proxy = settings.proxy;
    let socket_err = |source| ProbeError::Socket { proxy, source };
    let socket = connected_socket(proxy).await.map_err(socket_err)?;
    let local = socket.local_addr().map_err(socket_err)?;
    let media_socket = reserve_media_port(local.ip()).await.map_err(socket_err)?;
    let media_port = media_socket.local_addr().map_err(socket_err)?.port();

    let mut rng = clock::rng();
    let local_host = local.ip().to_string();
    let from_host = settings.from_domain.as_deref().unwrap_or(&local_host);
    let spec = CallSpec {
        local,
        request_uri: request::sip_uri(
            target.destination.as_str(),
            &settings.domain,
            settings.user_phone,
        )?,
        from_uri: request::sip_uri(target.caller_id.as_str(), from_host, settings.user_phone)?,
        sdp: crate::sdp::offer(
            local.ip(),
            media_port,
            u64::from(rand::Rng::r#gen::<u32>(&mut rng)),
        ),
        credentials: settings.credentials.clone(),
    };
    let started_at = clock::wall();
    let id = clock::probe_id(started_at, &mut rng);
    let start = clock::now();
    let mut rng_media = clock::rng();
    let mut uac = Uac::new(start, settings.uac.clone(), spec, rng);
    let call_id = uac.call_id().to_string();
    let span = tracing::info_span!("probe", %id, %call_id, carrier = %target.carrier);
    // The span follows the future (never held across an await by a guard).
    async move {

    let media_local = SocketAddr::new(local.ip(), media_port);
    let mut media = MediaSession::new(start, media_local, rand::RngCore::next_u32(&mut rng_media));
    let mut exchange = Vec::new();
    let mut heard_anything = false;
    let mut hangup_sent = false;
    let mut alerting_sent = false;
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut rtp_buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let now = clock::now();
        // Ringback in early media is alerting (IMS/mobile send only 183).
        if !alerting_sent && media.heard_ringback() {
            alerting_sent = true;
            uac.handle_input(Input::MediaAlerting(now));
        }
        let deadline = loop {
            match uac.poll_output() {
                Output::Transmit(t) => {
                    let now = clock::now();
                    exchange.push(ExchangeEntry::new(
                        start,
                        now,
                        Direction::Sent,
                        proxy,
                        &t.data,
                    ));
                    if let Err(err) = socket.send(&t.data).await {
                        if is_unreachable(&err) && !heard_anything {
                            return Err(ProbeError::Unreachable { proxy, source: err });
                        }
                        tracing::warn!(error = %err, "send failed");
                    }
                }
                Output::Event(Event::Sdp(body)) => match crate::sdp::parse_answer(&body) {
                    Ok(answer) => media.handle_answer(clock::now(), &answer),
                    Err(err) => tracing::debug!(error = %err, "unusable SDP answer"),
                },
                Output::Event(event) => tracing::debug!(?event, "uac"),
                Output::Timeout(at) => break Some(at),
                Output::Done => break None,
            }
        };
        let Some(deadline) = deadline else { break };
        // The silence burst that opens SBC latching, and the media timers.
        while let Some((to, packet)) = media.poll_transmit(clock::now()) {
            if let Err(err) = media_socket.send_to(&packet, to).await {
                tracing::debug!(error = %err, "RTP send failed");
            }
        }
        let deadline = media
            .poll_timeout()
            .filter(|m| *m > clock::now())
            .map_or(deadline, |m| m.min(deadline));
        tokio::select! {
            received = socket.recv(&mut buf) => match received {
                Ok(len) => {
                    let now = clock::now();
                    heard_anything = true;
                    exchange.push(ExchangeEntry::new(start, now, Direction::Received, proxy, &buf[..len]));
                    uac.handle_input(Input::Datagram(now, &buf[..len]));
                }
                Err(err) if is_unreachable(&err) && !heard_anything => {
                    return Err(ProbeError::Unreachable { proxy, source: err });
                }
                Err(err) => {
                    // ICMP after the trunk spoke (e.g. it went away after its
                    // final): UDP is lossy anyway; let the timers finish.
                    tracing::debug!(error = %err, "recv error ignored");
                }
            },
            received = media_socket.recv_from(&mut rtp_buf) => {
                if let Ok((len, from)) = received {
                    media.handle_packet(clock::now(), from, &rtp_buf[..len]);
                }
            }
            () = tokio::time::sleep_until(deadline.into()) => {
                uac.handle_input(Input::Timeout(clock::now()));
            }
            changed = hangup.changed(), if !hangup_sent => {
                if changed.is_err() || *hangup.borrow() {
                    hangup_sent = true;
                    uac.handle_input(Input::Hangup(clock::now()));
                }
            }
        }
    }
    drop(media_socket);
    let report = media.report();
    let intercepted = media.intercept().is_some() || report.is_intercept();
    exchange.extend(media.packets().iter().map(|p| {
        let (direction, remote) = if p.to == media_local {
            (Direction::Received, p.from)
        } else {
            (Direction::Sent, p.to)
        };
        ExchangeEntry {
            offset_us: p.offset_us,
            direction,
            remote,
            data: p.data.clone(),
            proto: Proto::Rtp,
        }
    }));
    exchange.sort_by_key(|e| e.offset_us);
    let summary = uac.into_summary();
    let classification = classify::classify(&CallFacts {
        final_response: summary.final_response.as_ref(),
        rang: summary.rang(),
        cancelled_by_us: summary.cancelled_by_us,
        auth_exhausted: summary.auth_exhausted,
        intercepted,
    });
    let mut record = ProbeRecord::new(
        id,
        target,
        started_at,
        call_id,
        proxy,
        local,
        &summary,
        classification,
        exchange,
    );
    record.media = (report.packets > 0).then_some(report);
    record.media_local = Some(media_local);
    Ok(record)
    }
    .instrument(span)
    .await
}

/// Place every target, at most `cps` call starts per second and at most
/// `max_concurrent` calls at once, reporting each result on `results` as it
/// finishes. Targets start in order.
pub async fn run_many(
    settings: Arc<ProbeSettings>,
    targets: Vec<ProbeTarget>,
    cps: f64,
    max_concurrent: usize,
    hangup: watch::Receiver<bool>,
    results: mpsc::UnboundedSender<(ProbeTarget, Result<ProbeRecord, ProbeError>)>,
) {
    let gap = Duration::try_from_secs_f64(1.0 / cps).unwrap_or(Duration::from_secs(1));
    let permits = Arc::new(Semaphore::new(max_concurrent.max(1)));
    let mut next_start = tokio::time::Instant::from_std(clock::now());
    let mut tasks = tokio::task::JoinSet::new();
    for target in targets {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        if *hangup.borrow() {
            break;
        }
        tokio::time::sleep_until(next_start).await;
        next_start = tokio::time::Instant::from_std(clock::now()) + gap;
        let settings = settings.clone();
        let hangup = hangup.clone();
        let results = results.clone();
        tasks.spawn(async move {
            let result = run_one(&settings, &target, hangup).await;
            drop(permit);
            let _ = results.send((target, result));
        });
    }
    while tasks.join_next().await.is_some() {}
}
