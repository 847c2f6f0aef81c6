//! This machine's health figures, read from Linux's `/proc`: CPU busy share (`/proc/stat`),
//! memory in use (`/proc/meminfo`), and network throughput summed over every interface,
//! loopback included (`/proc/net/dev`).
//!
//! CPU and network are counters since boot, so a figure is the change between two readings
//! divided by the time between them: the first [`Sampler::sample`] has none (`None`), every
//! later one does. A file that cannot be read or parsed (not Linux, a locked-down container)
//! gives `None` for its figures instead of an error: the dashboard shows a gap.

use std::fs;
use std::time::Instant;

/// Jiffies the CPUs spent, all CPUs together (the `cpu` line of `/proc/stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTimes {
    /// Time doing anything but idling or waiting for I/O.
    pub busy: u64,
    /// All time.
    pub total: u64,
}

/// Memory in bytes (`/proc/meminfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    /// `MemTotal`.
    pub total: u64,
    /// `MemAvailable`: what could be given to programs without swapping.
    pub available: u64,
}

/// Bytes received and sent since boot, every interface together (`/proc/net/dev`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetBytes {
    /// Received.
    pub rx: u64,
    /// Sent.
    pub tx: u64,
}

/// One reading of the machine's health.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sample {
    /// Share of CPU time busy since the previous sample, 0 to 100.
    pub cpu_percent: Option<f64>,
    /// Memory in use (total less available), bytes.
    pub mem_used: Option<u64>,
    /// All memory, bytes.
    pub mem_total: Option<u64>,
    /// Bytes received per second since the previous sample.
    pub rx_per_sec: Option<f64>,
    /// Bytes sent per second since the previous sample.
    pub tx_per_sec: Option<f64>,
}

/// Parse the aggregate `cpu` line of `/proc/stat`: user nice system idle iowait irq softirq
/// steal (guest time is already counted in user, so it is left out).
pub fn parse_cpu(stat: &str) -> Option<CpuTimes> {
    let line = stat.lines().find(|line| line.split_whitespace().next() == Some("cpu"))?;
    let fields: Vec<u64> = line.split_whitespace().skip(1).take(8).map(str::parse).collect::<Result<_, _>>().ok()?;
    if fields.len() < 4 {
        return None;
    }
    let total: u64 = fields.iter().sum();
    let idle = fields[3] + fields.get(4).copied().unwrap_or(0);
    Some(CpuTimes { busy: total - idle, total })
}

/// Parse `MemTotal` and `MemAvailable` from `/proc/meminfo` (given in kB there).
pub fn parse_meminfo(meminfo: &str) -> Option<Memory> {
    let field = |name: &str| -> Option<u64> {
        let line = meminfo.lines().find(|line| line.split(':').next() == Some(name))?;
        let kib: u64 = line.split(':').nth(1)?.split_whitespace().next()?.parse().ok()?;
        Some(kib * 1024)
    };
    Some(Memory { total: field("MemTotal")?, available: field("MemAvailable")? })
}

/// Sum the received and sent byte counters of every interface in `/proc/net/dev`.
pub fn parse_net_dev(net_dev: &str) -> Option<NetBytes> {
    let mut totals = NetBytes { rx: 0, tx: 0 };
    let mut interfaces = 0;
    // Two header lines, then `iface: rx_bytes rx_packets … (8 receive fields) tx_bytes …`.
    for line in net_dev.lines().skip(2) {
        let Some((_, counters)) = line.split_once(':') else { continue };
        let counters: Vec<&str> = counters.split_whitespace().collect();
        let (Some(rx), Some(tx)) = (counters.first(), counters.get(8)) else { continue };
        totals.rx += rx.parse::<u64>().ok()?;
        totals.tx += tx.parse::<u64>().ok()?;
        interfaces += 1;
    }
    (interfaces > 0).then_some(totals)
}

/// Takes samples, remembering the previous counters to turn them into rates.
#[derive(Debug, Default)]
pub struct Sampler {
    previous_cpu: Option<CpuTimes>,
    previous_net: Option<(NetBytes, Instant)>,
}

impl Sampler {
    /// A sampler with no previous reading.
    pub fn new() -> Self {
        Self::default()
    }

    /// Read `/proc` now.
    pub fn sample(&mut self) -> Sample {
        let read = |path: &str| fs::read_to_string(path).ok();
        let cpu = read("/proc/stat").as_deref().and_then(parse_cpu);
        let memory = read("/proc/meminfo").as_deref().and_then(parse_meminfo);
        let net = read("/proc/net/dev").as_deref().and_then(parse_net_dev);
        self.sample_from(cpu, memory, net, Instant::now())
    }

    /// Turn readings taken at `now` into a sample (separate from `sample` so it can be tested
    /// without `/proc`).
    pub fn sample_from(
        &mut self,
        cpu: Option<CpuTimes>,
        memory: Option<Memory>,
        net: Option<NetBytes>,
        now: Instant,
    ) -> Sample {
        let cpu_percent = match (self.previous_cpu, cpu) {
            (Some(before), Some(after)) if after.total > before.total => {
                let busy = after.busy.saturating_sub(before.busy) as f64;
                Some((busy / (after.total - before.total) as f64 * 100.0).clamp(0.0, 100.0))
            }
            _ => None,
        };
        let (rx_per_sec, tx_per_sec) = match (self.previous_net, net) {
            (Some((before, then)), Some(after)) if now > then => {
                let seconds = (now - then).as_secs_f64();
                (
                    Some(after.rx.saturating_sub(before.rx) as f64 / seconds),
                    Some(after.tx.saturating_sub(before.tx) as f64 / seconds),
                )
            }
            _ => (None, None),
        };
        self.previous_cpu = cpu.or(self.previous_cpu);
        if let Some(net) = net {
            self.previous_net = Some((net, now));
        }
        Sample {
            cpu_percent,
            mem_used: memory.map(|m| m.total.saturating_sub(m.available)),
            mem_total: memory.map(|m| m.total),
            rx_per_sec,
            tx_per_sec,
        }
    }
}
