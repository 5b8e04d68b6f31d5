//! A description of the machine a measurement ran on, for result files.

/// The machine: CPU model, logical cores, memory, and what orders the CPU backend's
/// float sums ([`float_path`]).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Machine {
    /// The CPU model name.
    pub cpu: String,
    /// Logical cores available to this process.
    pub cores: usize,
    /// Total memory, GiB.
    pub memory_gib: f64,
    /// The operating system.
    pub os: String,
    /// What decides the CPU backend's float summation order on this machine
    /// ([`float_path`]): two machines whose `float_path` differ give results that agree
    /// to rounding, not bit for bit.
    pub float_path: String,
}

impl Machine {
    /// Reads the current machine's description (Linux `/proc`; elsewhere what std knows).
    pub fn current() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name").map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned()))
            .unwrap_or_else(|| std::env::consts::ARCH.to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib: f64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|r| r.split_whitespace().next()?.parse().ok())
            .unwrap_or(0.0);
        Self {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_gib: memory_kib / (1024.0 * 1024.0),
            os: std::env::consts::OS.to_owned(),
            float_path: float_path(),
        }
    }

    /// Peak resident memory of this process so far, in MiB (Linux; `None` elsewhere).
    pub fn peak_rss_mib() -> Option<f64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let kib: f64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.split_whitespace().next()?.parse().ok()?;
        Some(kib / 1024.0)
    }
}

impl std::fmt::Display for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} cores, {:.0} GiB, {}; {})", self.cpu, self.cores, self.memory_gib, self.os, self.float_path)
    }
}

/// What decides, at run time, the order of the CPU backend's (Burn Flex's) float sums,
/// e.g. `simd avx512, L1d 48K/12-way`:
///
/// - `simd`: the widest instruction set Flex's element-wise and reduction kernels
///   (macerator) dispatch to. Sums over a row (LayerNorm's mean and variance, softmax's
///   denominator, ...) are accumulated in that many lanes, so AVX-512 (16 f32 lanes)
///   and AVX2 (8) round differently.
/// - `L1d`: the level-1 data cache's size and ways, from which gemm picks its K block
///   (`kc`): a matmul with K above 512 is summed in ceil(K / kc) blocks, so a 32K 8-way
///   cache (kc 512) and a 48K 12-way one (kc 768 for K = 1536, the sentence encoder's
///   feed-forward output) round differently.
///
/// Found when the synthetic `cargo xtask reproduce`, recorded on an AMD EPYC, gave other
/// last digits on an Intel Xeon with AVX-512 from the same commit; see
/// experiments/results/synthetic/README.md.
pub fn float_path() -> String {
    format!("simd {}, L1d {}", simd_level(), l1d_description(std::path::Path::new("/sys/devices/system/cpu/cpu0/cache")))
}

/// The instruction set macerator's dispatch picks (the same tests, in the same order).
fn simd_level() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! all {
            ($($f:tt),*) => { true $(&& std::is_x86_feature_detected!($f))* };
        }
        if all!("avx2", "fma", "f16c", "bmi1", "bmi2", "lzcnt", "avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl") {
            "avx512"
        } else if all!("avx2", "fma", "f16c", "bmi1", "bmi2", "lzcnt") {
            "avx2"
        } else {
            "sse"
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        std::env::consts::ARCH
    }
}

/// The level-1 data cache of one CPU as `<size>/<ways>-way` from its sysfs cache
/// directory (`/sys/devices/system/cpu/cpu0/cache`), `unknown` where it is not readable.
fn l1d_description(cache_dir: &std::path::Path) -> String {
    let read = |dir: &std::path::Path, name: &str| std::fs::read_to_string(dir.join(name)).ok().map(|s| s.trim().to_owned());
    let Ok(entries) = std::fs::read_dir(cache_dir) else {
        return "unknown".into();
    };
    let mut dirs: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    dirs.sort();
    dirs.iter()
        .filter(|d| d.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("index")))
        .find(|d| read(d, "level").as_deref() == Some("1") && read(d, "type").as_deref() == Some("Data"))
        .and_then(|d| Some(format!("{}/{}-way", read(d, "size")?, read(d, "ways_of_associativity")?)))
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The L1d description from a sysfs-like cache directory: the level-1 data cache,
    /// not the instruction cache beside it; `unknown` without one.
    #[test]
    fn l1d_description_reads_the_level_one_data_cache() {
        let dir = std::env::temp_dir().join(format!("specgr-l1d-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (index, level, kind, size, ways) in
            [("index0", "1", "Data", "32K", "8"), ("index1", "1", "Instruction", "32K", "8"), ("index2", "2", "Unified", "512K", "8")]
        {
            let d = dir.join(index);
            std::fs::create_dir_all(&d).unwrap();
            for (name, value) in [("level", level), ("type", kind), ("size", size), ("ways_of_associativity", ways)] {
                std::fs::write(d.join(name), format!("{value}\n")).unwrap();
            }
        }
        assert_eq!(l1d_description(&dir), "32K/8-way");
        std::fs::remove_dir_all(dir.join("index0")).unwrap();
        assert_eq!(l1d_description(&dir), "unknown");
        assert_eq!(l1d_description(&dir.join("missing")), "unknown");
        std::fs::remove_dir_all(&dir).unwrap();
        let now = float_path();
        assert!(now.starts_with("simd ") && now.contains(", L1d "), "{now}");
    }
}
