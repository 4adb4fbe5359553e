//! The daemon's event loop: the thin async shell around the pure planner.
//!
//! One task owns the store, the planner and the snapshot. It starts the
//! calls the planner says are due (each call is its own task running
//! [`crate::probe::run_one`]), and for every finished call it stores the
//! record (before anything else sees it), tells the planner, re-assesses the
//! number, sends an alert for every (number, carrier) state change and
//! publishes a new snapshot. Signals arrive as parameters (mini-redis style).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use tokio::sync::{mpsc, watch};

use super::snapshot::{NumberView, Snapshot};
use crate::alerts::{Alerter, StateChange};
use crate::classify::Outcome;
use crate::clock;
use crate::config::Config;
use crate::probe::{self, ProbeError, ProbeRecord, ProbeTarget, Trunk};
use crate::reputation::{NumberReport, Params, State};
use crate::schedule::{Pair, PairHistory, Planned, Planner};
use crate::store::Store;

/// How long a stopping daemon waits for calls in flight to be cancelled and recorded.
const STOP_GRACE: Duration = Duration::from_secs(8);
/// How long a stopping daemon tries to deliver queued alerts.
const ALERT_GRACE: Duration = Duration::from_secs(2);
/// The assessment window the daemon publishes (same default as `history`).
const WINDOW_DAYS: i64 = 30;

/// What the shell tells the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Re-read the configuration (SIGHUP).
    Reload,
    /// Stop: no new calls, cancel the ones in flight, record, exit (SIGTERM/SIGINT).
    Stop,
}

/// Where the daemon gets its configuration and database.
#[derive(Debug, Clone)]
pub struct DaemonPaths {
    /// The config file (re-read on reload).
    pub config: PathBuf,
    /// `--db` override.
    pub db: Option<PathBuf>,
}

/// The start of the local day (in the schedule's timezone) containing `now`.
fn local_midnight(cfg: &Config, now: DateTime<Utc>) -> DateTime<Utc> {
    let tz = cfg.schedule.timezone;
    let local = now.with_timezone(&tz).date_naive();
    local
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(tz).earliest())
        .map_or(now - TimeDelta::days(1), |t| t.with_timezone(&Utc))
}

/// What the store says about every pair (last start, last outcome) and
/// today's calls per number, so a restart continues where it left off.
/// (caller ID, carrier, destination).
type PairKey = (String, String, String);

/// What the store says at start-up, so a restart continues where it left off.
struct StoreHistory {
    /// Last start and outcome of every pair.
    pairs: Vec<PairHistory>,
    /// Calls per owned number in the current local day (the budget).
    today: Vec<(crate::config::E164, u32)>,
    /// The end of a 503 Retry-After pause still running (clamped to a day).
    hold_until: Option<DateTime<Utc>>,
}

fn history(cfg: &Config, store: &Store, now: DateTime<Utc>) -> anyhow::Result<StoreHistory> {
    let lookback = now
        - TimeDelta::from_std(cfg.schedule.blocked_every.max(cfg.schedule.every) * 2)
            .unwrap_or(TimeDelta::days(2));
    let midnight = local_midnight(cfg, now);
    // (caller ID, carrier, destination) -> (last start, last outcome)
    let mut last: HashMap<PairKey, (Option<DateTime<Utc>>, Outcome)> = HashMap::new();
    let mut today = Vec::new();
    let mut hold_until: Option<DateTime<Utc>> = None;
    for n in &cfg.numbers {
        for r in store.probes_for_number(n.number.as_str(), lookback.min(midnight), None)? {
            let at = started(&r);
            if let (Outcome::Unavailable, Some(at), Some(secs)) = (r.outcome, at, r.retry_after_s) {
                let until =
                    at + TimeDelta::seconds(i64::try_from(secs.min(86_400)).unwrap_or(86_400));
                if until > now && hold_until.is_none_or(|h| until > h) {
                    hold_until = Some(until);
                }
            }
            last.insert((r.caller_id, r.carrier, r.destination), (at, r.outcome));
        }
        let calls = store.calls_for_number_between(
            n.number.as_str(),
            midnight,
            now + TimeDelta::seconds(1),
        )?;
        today.push((n.number.clone(), u32::try_from(calls).unwrap_or(u32::MAX)));
    }
    let pairs = Pair::all(cfg)
        .into_iter()
        .map(|pair| {
            let key = (
                pair.number.to_string(),
                pair.carrier.clone(),
                pair.destination.to_string(),
            );
            let rec = last.get(&key);
            PairHistory {
                last_started: rec.and_then(|(at, _)| *at),
                last_outcome: rec.map(|(_, o)| *o),
                pair,
            }
        })
        .collect();
    Ok(StoreHistory {
        pairs,
        today,
        hold_until,
    })
}

fn started(r: &ProbeRecord) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&r.started_at)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Assess one owned number from the store, as `history` does.
fn assess(
    cfg: &Config,
    store: &Store,
    number: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<NumberReport> {
    let window = TimeDelta::days(WINDOW_DAYS);
    let carriers: Vec<String> = cfg.carriers.iter().map(|c| c.name.clone()).collect();
    // Fresh = within two probe intervals: the daemon keeps evidence current.
    let fresh = TimeDelta::from_std(cfg.schedule.blocked_every.max(cfg.schedule.every) * 2)
        .unwrap_or(window);
    let params = Params {
        fresh: fresh.min(window),
        ..Params::new(window)
    };
    Ok(store.assess_number(number, &carriers, None, &params, now)?)
}

/// The daemon's state, owned by its loop.
struct Daemon {
    cfg: Config,
    store: Store,
    planner: Planner,
    /// Shared with every call in flight: a reload swaps in a new one while
    /// calls started on the old trunk (and its in-process lab) finish on it.
    trunk: Arc<Trunk>,
    alerter: Alerter,
    snapshot: Snapshot,
    publish: watch::Sender<Arc<Snapshot>>,
    hangup: watch::Sender<bool>,
    in_flight: usize,
}

type Finished = (Planned, DateTime<Utc>, Result<ProbeRecord, ProbeError>);

impl Daemon {
    fn number_view(&self, number: &str, report: NumberReport) -> NumberView {
        let label = self
            .cfg
            .numbers
            .iter()
            .find(|n| n.number.as_str() == number)
            .and_then(|n| n.label.clone());
        NumberView {
            number: number.to_string(),
            label,
            report,
        }
    }

    /// Assess every owned number (start-up and reload).
    fn rebuild_snapshot(&mut self, now: DateTime<Utc>) -> anyhow::Result<()> {
        let mut views = Vec::new();
        for n in &self.cfg.numbers {
            let report = assess(&self.cfg, &self.store, n.number.as_str(), now)?;
            views.push(self.number_view(n.number.as_str(), report));
        }
        self.snapshot.numbers = views;
        self.snapshot.carriers = self.cfg.carriers.iter().map(|c| c.name.clone()).collect();
        self.publish(now);
        Ok(())
    }

    fn publish(&mut self, now: DateTime<Utc>) {
        let mut states: std::collections::BTreeMap<String, u64> =
            ["clean", "suspect", "blocked", "unknown"]
                .into_iter()
                .map(|s| (s.to_string(), 0))
                .collect();
        for v in &self.snapshot.numbers {
            for c in &v.report.carriers {
                *states.entry(c.state.as_str().to_string()).or_default() += 1;
            }
        }
        let m = &mut self.snapshot.metrics;
        m.number_state = states;
        m.calls_in_flight = self.in_flight as u64;
        m.trunk_paused = self.planner.trunk_paused_until().is_some_and(|t| t > now);
        let stats = self.alerter.stats();
        m.alerts_queued = stats.queued;
        m.alerts_dropped = stats.dropped;
        self.snapshot.generated_at = rfc3339(now);
        let _ = self.publish.send(Arc::new(self.snapshot.clone()));
    }

    /// Start every call that is due now.
    fn start_due(&mut self, done: &mpsc::UnboundedSender<Finished>) {
        let now = clock::wall();
        let mut started = false;
        while let Some(planned) = self.planner.poll(now, self.in_flight) {
            self.in_flight += 1;
            started = true;
            let lag = (now - planned.planned_at).num_milliseconds().max(0) as f64 / 1000.0;
            self.snapshot.metrics.scheduler_lag_seconds = lag;
            let target = ProbeTarget {
                caller_id: planned.pair.number.clone(),
                carrier: planned.pair.carrier.clone(),
                destination: planned.pair.destination.clone(),
            };
            tracing::info!(number = %target.caller_id, carrier = %target.carrier, lag_s = lag, "probe starting");
            let trunk = self.trunk.clone();
            let hangup = self.hangup.subscribe();
            let done = done.clone();
            tokio::spawn(async move {
                let result = probe::run_one(&trunk.settings, &target, hangup).await;
                drop(trunk);
                let _ = done.send((planned, now, result));
            });
        }
        // Only when something changed: a publish clones every number's view.
        if started {
            self.publish(now);
        }
    }

    /// A call finished: store it first, then plan, assess, alert, publish.
    fn finish(&mut self, (planned, started_at, result): Finished) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let now = clock::wall();
        let record = match result {
            Ok(record) => record,
            Err(err) => {
                tracing::error!(number = %planned.pair.number, carrier = %planned.pair.carrier, error = %err, "probe could not be placed");
                // Could not be placed (socket, ICMP): let the trunk back off as for a timeout.
                self.planner
                    .on_finished(&planned.pair, started_at, now, Outcome::Timeout, None);
                self.publish(now);
                return;
            }
        };
        if let Err(err) = self.store.insert_probe(&record) {
            tracing::error!(probe = %record.id, error = %format!("{err:#}"), "probe NOT recorded");
        }
        self.planner.on_finished(
            &planned.pair,
            started_at,
            now,
            record.outcome,
            record.retry_after_s,
        );
        tracing::info!(
            probe = %record.id, number = %record.caller_id, carrier = %record.carrier,
            outcome = record.outcome.as_str(), status = record.status, call_id = %record.call_id,
            "probe finished"
        );
        let m = &mut self.snapshot.metrics;
        *m.probes_total
            .entry(record.carrier.clone())
            .or_default()
            .entry(record.outcome.as_str().to_string())
            .or_default() += 1;
        if let Some(pdd) = record.pdd_ms {
            m.pdd_seconds
                .entry(record.carrier.clone())
                .or_default()
                .observe(pdd as f64 / 1000.0);
        }
        match assess(&self.cfg, &self.store, &record.caller_id, now) {
            Ok(report) => self.replace_report(&record.caller_id, report, now),
            Err(err) => tracing::error!(error = %format!("{err:#}"), "assessment failed"),
        }
        self.publish(now);
    }

    /// Swap in a number's new report and alert on every pair whose state changed.
    fn replace_report(&mut self, number: &str, report: NumberReport, now: DateTime<Utc>) {
        let view = self.number_view(number, report);
        let old = self
            .snapshot
            .numbers
            .iter()
            .position(|v| v.number == number);
        let previous: HashMap<&str, State> = old
            .map(|i| &self.snapshot.numbers[i])
            .map(|v| {
                v.report
                    .carriers
                    .iter()
                    .map(|c| (c.carrier.as_str(), c.state))
                    .collect()
            })
            .unwrap_or_default();
        for c in &view.report.carriers {
            let from = previous
                .get(c.carrier.as_str())
                .copied()
                .unwrap_or(State::Unknown);
            if from != c.state {
                tracing::warn!(number, carrier = %c.carrier, from = from.as_str(), to = c.state.as_str(), "state change");
                self.alerter.send(StateChange {
                    number: number.to_string(),
                    label: view.label.clone(),
                    carrier: c.carrier.clone(),
                    from,
                    to: c.state,
                    at: rfc3339(now),
                    report: c.clone(),
                });
            }
        }
        match old {
            Some(i) => self.snapshot.numbers[i] = view,
            None => self.snapshot.numbers.push(view),
        }
    }

    async fn reload(&mut self, paths: &DaemonPaths) {
        let cfg = match Config::load(&paths.config) {
            Ok(cfg) => cfg,
            Err(err) => {
                tracing::error!(error = %err, "reload rejected: keeping the running configuration");
                return;
            }
        };
        if cfg.trunk != self.cfg.trunk || cfg.lab != self.cfg.lab || cfg.call != self.cfg.call {
            match Trunk::start(&cfg).await {
                Ok(t) => self.trunk = Arc::new(t),
                Err(err) => {
                    tracing::error!(error = %format!("{err:#}"), "reload rejected: trunk settings unusable");
                    return;
                }
            }
        }
        let now = clock::wall();
        self.planner
            .reconfigure(&cfg.schedule, Pair::all(&cfg), now);
        self.cfg = cfg;
        if let Err(err) = self.rebuild_snapshot(now) {
            tracing::error!(error = %format!("{err:#}"), "re-assessing after reload failed");
        }
        tracing::info!(config = %paths.config.display(), "configuration reloaded");
    }
}

/// Run the daemon until `control` says stop. Returns when every call in
/// flight was cancelled and recorded (or `STOP_GRACE` passed).
pub async fn run(
    paths: DaemonPaths,
    mut control: mpsc::UnboundedReceiver<Control>,
    started: Option<tokio::sync::oneshot::Sender<std::net::SocketAddr>>,
) -> anyhow::Result<()> {
    let cfg = Config::load(&paths.config)?;
    let db = paths.db.clone().unwrap_or_else(|| cfg.store.path.clone());
    let store = Store::open(&db)?;
    let now = clock::wall();
    let hist = history(&cfg, &store, now)?;
    let mut planner = Planner::new(
        &cfg.schedule,
        Pair::all(&cfg),
        &hist.pairs,
        &hist.today,
        now,
        clock::rng(),
    );
    if let Some(until) = hist.hold_until {
        tracing::warn!(
            until = %rfc3339(until),
            "trunk paused: a 503 Retry-After recorded before the restart is still running"
        );
        planner.hold_until(until);
    }
    let trunk = Arc::new(Trunk::start(&cfg).await?);
    let (publish, snapshots) = watch::channel(Arc::new(Snapshot::default()));
    let (hangup, _) = watch::channel(false);

    // HTTP: read-only, over the published snapshot.
    let listener = tokio::net::TcpListener::bind(cfg.http.listen)
        .await
        .with_context(|| format!("binding [http] listen {}", cfg.http.listen))?;
    let http_addr = listener.local_addr()?;
    let token = match &cfg.http.token_env {
        Some(var) => Some(std::env::var(var).with_context(|| {
            format!("[http] token_env: environment variable `{var}` is not set")
        })?),
        None => None,
    };
    let (http_stop_tx, http_stop_rx) = tokio::sync::oneshot::channel::<()>();
    let http = tokio::spawn(crate::http::serve(
        listener,
        snapshots,
        crate::http::HttpOptions {
            token,
            number_labels: cfg.http.number_labels,
        },
        async move {
            let _ = http_stop_rx.await;
        },
    ));
    tracing::info!(http = %http_addr, db = %db.display(), pairs = Pair::all(&cfg).len(), "ringwatch daemon started");
    if let Some(tx) = started {
        let _ = tx.send(http_addr);
    }

    let alerter = Alerter::start(&cfg.alerts);
    let mut d = Daemon {
        snapshot: Snapshot {
            started_at: rfc3339(now),
            ..Snapshot::default()
        },
        cfg,
        store,
        planner,
        trunk,
        alerter,
        publish,
        hangup,
        in_flight: 0,
    };
    d.rebuild_snapshot(now)?;

    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Finished>();
    loop {
        d.start_due(&done_tx);
        let now = clock::wall();
        let wake = d
            .planner
            .next_wakeup(now)
            .map_or(Duration::from_secs(1), |t| {
                (t - now).to_std().unwrap_or(Duration::ZERO)
            })
            .min(Duration::from_secs(1));
        tokio::select! {
            Some(finished) = done_rx.recv() => d.finish(finished),
            ctl = control.recv() => match ctl {
                Some(Control::Reload) => d.reload(&paths).await,
                Some(Control::Stop) | None => break,
            },
            () = tokio::time::sleep(wake) => {}
        }
    }

    // Stop: no new calls; CANCEL the ones ringing; record what finishes.
    tracing::info!(
        in_flight = d.in_flight,
        "stopping: cancelling calls in flight"
    );
    let _ = d.hangup.send(true);
    let deadline = tokio::time::Instant::from_std(clock::now()) + STOP_GRACE;
    while d.in_flight > 0 {
        match tokio::time::timeout_at(deadline, done_rx.recv()).await {
            Ok(Some(finished)) => d.finish(finished),
            _ => break,
        }
    }
    if d.in_flight > 0 {
        tracing::warn!(
            in_flight = d.in_flight,
            "calls still in flight at exit were not recorded"
        );
    }
    let Daemon { alerter, .. } = d;
    alerter.shutdown(ALERT_GRACE).await;
    let _ = http_stop_tx.send(());
    let _ = http.await;
    tracing::info!("ringwatch daemon stopped");
    Ok(())
}
