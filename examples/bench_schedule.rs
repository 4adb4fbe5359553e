//! Scheduler figures for issue 4: runs the 30-day, 1,000 numbers × 5
//! carriers planner simulation (`ringwatch::schedule::sim`, virtual time)
//! and prints the planner's CPU per call, polls per second, state size and
//! its accuracy (actual start minus planned start).
//!
//! ```text
//! cargo run --release --example bench_schedule [-- --seeds N]
//! ```
//!
//! Wall-clock reads go through `ringwatch::clock` (the sanctioned reader).

use std::time::{Duration, Instant};

use ringwatch::schedule::sim::{self, SimConfig, Spread, Stopwatch};

#[derive(Default)]
struct Cpu {
    started: Option<Instant>,
    total: Duration,
    calls: u64,
}

impl Stopwatch for Cpu {
    fn start(&mut self) {
        self.started = Some(ringwatch::clock::now());
    }
    fn stop(&mut self) {
        if let Some(t) = self.started.take() {
            self.total += ringwatch::clock::now().duration_since(t);
            self.calls += 1;
        }
    }
}

fn secs(ms: i64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

fn spread(s: &Spread) -> String {
    format!(
        "p50 {}  p90 {}  p99 {}  max {}",
        secs(s.p50_ms),
        secs(s.p90_ms),
        secs(s.p99_ms),
        secs(s.max_ms)
    )
}

/// Peak resident set size of this process, from /proc (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let seeds: u64 = std::env::args()
        .skip_while(|a| a != "--seeds")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    for seed in 0..seeds {
        let mut cfg = SimConfig::issue4();
        cfg.seed = cfg.seed.wrapping_add(seed);
        let mut cpu = Cpu::default();
        let wall = ringwatch::clock::now();
        let r = sim::run(&cfg, &mut cpu);
        let wall = wall.elapsed();
        let planner_s = cpu.total.as_secs_f64();
        println!(
            "scheduler simulation, seed {}: {} pairs, {} days, {} starts",
            cfg.seed, r.pairs, cfg.days, r.starts
        );
        println!("  violations          {}", r.violation_count);
        println!(
            "  planner CPU         {:.3} s total, {:.2} us per started call, {:.2} us per planner call",
            planner_s,
            planner_s * 1e6 / r.starts.max(1) as f64,
            planner_s * 1e6 / cpu.calls.max(1) as f64
        );
        println!(
            "  polls               {} ({:.0} polls/s of planner CPU); next_wakeup {}",
            r.polls,
            r.polls as f64 / planner_s.max(1e-9),
            r.wakeups
        );
        println!(
            "  simulation wall     {:.2} s (planner + simulated calls + checks)",
            wall.as_secs_f64()
        );
        println!(
            "  planner state       {:.2} MiB ({} bytes/pair)",
            r.state_bytes as f64 / 1_048_576.0,
            r.state_bytes / r.pairs.max(1)
        );
        println!("  accuracy (start - planned): {}", spread(&r.lateness));
        println!(
            "    outside trunk pauses:     {}",
            spread(&r.lateness_no_pause)
        );
        println!(
            "  coverage            {:.4} of (pair, day) probed; ordinary {:.2}/day, blocked {:.2}/day; {} missed pair-days",
            r.coverage, r.ordinary_per_day, r.blocked_per_day, r.missed_pair_days
        );
        println!(
            "  limits seen         max {}/number/day, max {} in flight, max {} starts in 1 s, {} trunk pauses",
            r.max_per_number_day, r.max_in_flight, r.max_starts_per_second, r.pauses
        );
        println!(
            "  gaps                min {:.2} h between starts of a pair, min {:.2} h after a block",
            r.min_gap_s as f64 / 3600.0,
            r.min_blocked_gap_s as f64 / 3600.0
        );
        println!(
            "  restart             {} starts in the 15 min after it ({} a day earlier), {} in the hour ({})",
            r.restart_next_15min,
            r.restart_prev_day_15min,
            r.restart_next_hour,
            r.restart_prev_day_hour
        );
    }
    if let Some(kib) = peak_rss_kib() {
        println!(
            "peak RSS of this process: {:.1} MiB (simulation bookkeeping included)",
            kib as f64 / 1024.0
        );
    }
}
