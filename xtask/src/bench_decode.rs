//! `cargo xtask bench-decode`: the VM pool decode benchmark that cannot flatter us.
//!
//! Every measurement runs in a fresh process (`crates/opennebula/benches/decode_probe.rs`,
//! or `benches/pyone_decode.py` for PyONE), so no run inherits a warm allocator, a grown
//! heap or the page cache state of another; the variants are interleaved (round `r` starts
//! with variant `r`), so a burst of load on the shared machine hits all of them alike; and
//! each ratio is taken inside one round (against that round's faster scan, the floor)
//! before the median is taken. The 1-minute load
//! average is read before every process and summarised.
//!
//! ```text
//! cargo xtask bench-decode [--rounds N] [--pyone-rounds M] [--vms N] [--real N]
//!                          [--only synthetic|real-info|real-extended] [--offline]
//!                          [--variants scan,typed,...]
//! ```
//!
//! Data sets, written into `$CARGO_TARGET_DIR/nebulair-bench/` (default `target/`):
//! * `synthetic`: `benches/gen_vmpool.py N` (10,000 VMs: 41.5 MB of XML, 61.8 MB of body);
//! * `real-info` / `real-extended`: `benches/real_pool.py`, 2,003 VMs repeated from the
//!   `one.vmpool.info` / `one.vmpool.infoextended` answers recorded from a real oned 7.5.80
//!   (`benches/data/`), in the recorded envelope.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Options {
    rounds: usize,
    pyone_rounds: usize,
    vms: usize,
    real: usize,
    only: Option<String>,
    offline: bool,
    variants: Option<Vec<String>>,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        rounds: 7,
        pyone_rounds: 3,
        vms: 10_000,
        real: 2_003,
        only: None,
        offline: false,
        variants: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> Result<usize, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match a.as_str() {
            "--rounds" => o.rounds = num("--rounds")?.max(1),
            "--pyone-rounds" => o.pyone_rounds = num("--pyone-rounds")?,
            "--vms" => o.vms = num("--vms")?.max(1),
            "--real" => o.real = num("--real")?.max(1),
            "--only" => o.only = it.next().cloned(),
            "--offline" => o.offline = true,
            "--variants" => {
                o.variants = it.next().map(|v| v.split(',').map(str::to_owned).collect())
            }
            other => return Err(format!("bench-decode: unknown option {other:?}")),
        }
    }
    Ok(o)
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

fn run_ok(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Builds the probe with `cargo bench --no-run` and returns its path.
fn build_probe(root: &Path, offline: bool) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root).args([
        "bench",
        "--no-run",
        "-p",
        "nebulair-opennebula",
        "--bench",
        "decode_probe",
        "--message-format=json-render-diagnostics",
    ]);
    if offline {
        cmd.arg("--offline");
    }
    let out = run_ok(&mut cmd)?;
    for line in out.lines() {
        if !line.contains("\"decode_probe\"") {
            continue;
        }
        if let Some(rest) = line.split("\"executable\":\"").nth(1)
            && let Some(path) = rest.split('"').next()
        {
            return Ok(PathBuf::from(path));
        }
    }
    Err("cargo bench --no-run did not report the decode_probe executable".into())
}

fn python() -> String {
    std::env::var("NEBULAIR_PYTHON").unwrap_or_else(|_| "python3".into())
}

struct DataSet {
    name: &'static str,
    what: String,
    body: PathBuf,
}

fn prepare(root: &Path, probe: &Path, o: &Options) -> Result<Vec<DataSet>, String> {
    let dir = target_dir(root).join("nebulair-bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let benches = root.join("crates/opennebula/benches");
    let mut sets = Vec::new();
    let want = |n: &str| o.only.as_deref().is_none_or(|w| w == n);
    if want("synthetic") {
        let doc = dir.join(format!("vmpool-{}.xml", o.vms));
        if !doc.exists() {
            run_ok(
                Command::new("python3")
                    .arg(benches.join("gen_vmpool.py"))
                    .arg(o.vms.to_string())
                    .arg(&doc),
            )?;
        }
        let body = dir.join(format!("body-synthetic-{}.xml", o.vms));
        if !body.exists() {
            run_ok(Command::new(probe).arg("envelope").arg(&doc).arg(&body))?;
        }
        sets.push(DataSet {
            name: "synthetic",
            what: format!("gen_vmpool.py {} VMs", o.vms),
            body,
        });
    }
    for (name, recorded) in [
        ("real-info", "one.vmpool.info__recorded_5_vms.xml"),
        (
            "real-extended",
            "one.vmpool.infoextended__recorded_3_vms.xml",
        ),
    ] {
        if !want(name) {
            continue;
        }
        let body = dir.join(format!("body-{name}-{}.xml", o.real));
        if !body.exists() {
            run_ok(
                Command::new("python3")
                    .arg(benches.join("real_pool.py"))
                    .arg(o.real.to_string())
                    .arg(benches.join("data").join(recorded))
                    .arg(&body),
            )?;
        }
        sets.push(DataSet {
            name,
            what: format!("{} VMs from the recorded {recorded}", o.real),
            body,
        });
    }
    Ok(sets)
}

/// One probe line, parsed.
#[derive(Debug, Clone, Default)]
struct Sample {
    wall_ns: f64,
    cpu_ns: f64,
    items: u64,
    input_bytes: u64,
    base_kb: u64,
    hwm_kb: u64,
    load1: f64,
}

fn parse_probe(out: &str) -> Result<Sample, String> {
    let line = out
        .lines()
        .find(|l| l.starts_with("probe "))
        .ok_or_else(|| format!("no probe line in {out:?}"))?;
    let mut kv = BTreeMap::new();
    for part in line.split_whitespace().skip(1) {
        if let Some((k, v)) = part.split_once('=') {
            kv.insert(k, v);
        }
    }
    let num = |k: &str| -> Result<f64, String> {
        kv.get(k)
            .and_then(|v| v.parse::<f64>().ok())
            .ok_or_else(|| format!("probe line lacks {k}: {line}"))
    };
    Ok(Sample {
        wall_ns: num("ns")?,
        cpu_ns: num("cpu_ns")?,
        items: num("items")? as u64,
        input_bytes: num("input_bytes")? as u64,
        base_kb: num("base_kb")? as u64,
        hwm_kb: num("hwm_kb")? as u64,
        load1: 0.0,
    })
}

fn load1() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(f64::NAN)
}

fn uptime() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| {
            let f: Vec<&str> = s.split_whitespace().take(3).collect();
            format!("load average: {}", f.join(", "))
        })
        .unwrap_or_default()
}

fn measure(probe: &Path, root: &Path, variant: &str, body: &Path) -> Result<Sample, String> {
    let load = load1();
    let out = if variant == "pyone" {
        run_ok(
            Command::new(python())
                .arg(root.join("crates/opennebula/benches/pyone_decode.py"))
                .arg(body),
        )?
    } else {
        run_ok(Command::new(probe).arg(variant).arg(body))?
    };
    let mut s = parse_probe(&out)?;
    s.load1 = load;
    Ok(s)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

const VARIANTS: &[(&str, &str)] = &[
    ("memcpy", "memcpy of the body (floor)"),
    ("scan", "bare quick-xml scan of the document (floor)"),
    ("scan-checked", "the same scan, end names checked"),
    ("typed", "ours: document -> VmPool"),
    (
        "typed-touch",
        "ours: document -> VmPool, then every template read",
    ),
    ("full", "ours: HTTP body -> VmPool (envelope included)"),
    (
        "stream",
        "ours: body file -> one VmPoolVm at a time (rpc::stream::PoolReader), pool never held",
    ),
    (
        "pyone",
        "PyONE 7: xmlrpc.client + bindings.parseString on the body",
    ),
];

fn bench_set(probe: &Path, root: &Path, set: &DataSet, o: &Options) -> Result<(), String> {
    let body_len = std::fs::metadata(&set.body)
        .map_err(|e| format!("{}: {e}", set.body.display()))?
        .len() as f64;
    println!(
        "\n### {} ({}): body {} bytes ({:.1} MB)\n",
        set.name,
        set.what,
        body_len as u64,
        body_len / 1e6
    );
    let names: Vec<&str> = VARIANTS
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| {
            o.variants
                .as_ref()
                .is_none_or(|w| w.iter().any(|x| x == n) || *n == "scan")
        })
        .collect();
    let mut samples: BTreeMap<&str, Vec<Sample>> = BTreeMap::new();
    // Per-round ratios to the scan of the same round.
    let mut ratios: BTreeMap<&str, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    let mut loads = Vec::new();
    for round in 0..o.rounds {
        let mut this_round: BTreeMap<&str, Sample> = BTreeMap::new();
        for k in 0..names.len() {
            let v = names[(k + round) % names.len()];
            if v == "pyone" && round >= o.pyone_rounds {
                continue;
            }
            let s = measure(probe, root, v, &set.body)?;
            loads.push(s.load1);
            eprintln!(
                "  {} round {round} {v:<13} {:>9.1} ms wall {:>9.1} ms cpu  hwm {:>7} kB  load {:.2}",
                set.name,
                s.wall_ns / 1e6,
                s.cpu_ns / 1e6,
                s.hwm_kb,
                s.load1
            );
            this_round.insert(v, s.clone());
            samples.entry(v).or_default().push(s);
        }
        // The floor of the round: the faster of the two scans, so a slow scan never
        // flatters the ratios.
        let floor = |f: fn(&Sample) -> f64| {
            ["scan", "scan-checked"]
                .iter()
                .filter_map(|n| this_round.get(n).map(f))
                .fold(f64::INFINITY, f64::min)
        };
        let (fw, fc) = (floor(|s| s.wall_ns), floor(|s| s.cpu_ns));
        if fw.is_finite() {
            for (v, s) in &this_round {
                let r = ratios.entry(v).or_default();
                r.0.push(s.wall_ns / fw);
                r.1.push(s.cpu_ns / fc);
            }
        }
    }
    println!(
        "| variant | wall median (min-max) ms | CPU median (min-max) ms | / floor, wall | / floor, CPU | VmHWM median | peak above start / body |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, what) in VARIANTS {
        let Some(s) = samples.get(name) else { continue };
        let mut wall: Vec<f64> = s.iter().map(|x| x.wall_ns / 1e6).collect();
        let mut cpu: Vec<f64> = s.iter().map(|x| x.cpu_ns / 1e6).collect();
        let mut hwm: Vec<f64> = s.iter().map(|x| x.hwm_kb as f64).collect();
        let mut peak: Vec<f64> = s
            .iter()
            .map(|x| x.hwm_kb.saturating_sub(x.base_kb) as f64 * 1024.0 / body_len)
            .collect();
        let (wmin, wmax) = (
            wall.iter().copied().fold(f64::INFINITY, f64::min),
            wall.iter().copied().fold(0.0, f64::max),
        );
        let (cmin, cmax) = (
            cpu.iter().copied().fold(f64::INFINITY, f64::min),
            cpu.iter().copied().fold(0.0, f64::max),
        );
        let (rw, rc) = ratios
            .get_mut(name)
            .map(|(w, c)| (median(w), median(c)))
            .unwrap_or((f64::NAN, f64::NAN));
        println!(
            "| `{name}`: {what} ({} runs, {} items) | {:.1} ({:.1}-{:.1}) | {:.1} ({:.1}-{:.1}) | {:.2} | {:.2} | {:.1} MB | {:.2}x |",
            s.len(),
            s[0].items,
            median(&mut wall),
            wmin,
            wmax,
            median(&mut cpu),
            cmin,
            cmax,
            rw,
            rc,
            median(&mut hwm) / 1024.0,
            median(&mut peak),
        );
        let _ = s[0].input_bytes;
    }
    let lmin = loads.iter().copied().fold(f64::INFINITY, f64::min);
    let lmax = loads.iter().copied().fold(0.0, f64::max);
    println!(
        "\n1-minute load average before each process: median {:.2}, min {lmin:.2}, max {lmax:.2} ({} processes)",
        median(&mut loads.clone()),
        loads.len()
    );
    Ok(())
}

/// Runs the benchmark and prints Markdown tables (progress goes to stderr).
pub(crate) fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let o = parse_args(args)?;
    eprintln!("bench-decode: building the probe (cargo bench --no-run, release profile)");
    let probe = build_probe(root, o.offline)?;
    let sets = prepare(root, &probe, &o)?;
    let start = chrono_free_now();
    println!("## bench-decode\n");
    println!(
        "Command: `cargo xtask bench-decode{}`; started {start}; {}; {} rounds ({} with PyONE), every run a fresh process, variants interleaved.",
        args.iter().fold(String::new(), |acc, a| acc + " " + a),
        uptime(),
        o.rounds,
        o.pyone_rounds.min(o.rounds)
    );
    for set in &sets {
        bench_set(&probe, root, set, &o)?;
    }
    println!("\nFinished with {}.", uptime());
    Ok(())
}

/// UTC date and time from the system clock, without a date crate.
fn chrono_free_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_lines_parse() {
        let s = parse_probe(
            "noise\nprobe variant=scan ns=12 cpu_ns=10 items=3 input_bytes=99 base_kb=1 hwm_kb=5 rss_kb=4\n",
        )
        .expect("parses");
        assert_eq!((s.wall_ns, s.cpu_ns, s.items, s.hwm_kb), (12.0, 10.0, 3, 5));
        assert!(parse_probe("probe variant=scan ns=x").is_err());
        assert!(parse_probe("").is_err());
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn options() {
        let o = parse_args(&["--rounds".into(), "3".into(), "--offline".into()]).expect("ok");
        assert_eq!((o.rounds, o.offline), (3, true));
        assert!(parse_args(&["--bogus".into()]).is_err());
        assert!(parse_args(&["--rounds".into()]).is_err());
    }
}
