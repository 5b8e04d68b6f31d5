//! The compute device, chosen at run time with `--device`.
//!
//! Library crates are generic over Burn's `Backend`; this binary picks one. Each
//! backend other than the CPU sits behind a cargo feature (`wgpu`, `cuda`, `tch`), and
//! [`with_backend!`](crate::with_backend) monomorphises a command for the chosen one.
//! We use a plain `match` rather than Burn 0.21's `Dispatch` backend: Dispatch decides
//! autodiff by the device value, so our training loops would have to thread a second,
//! non-autodiff device through validation; a match keeps `Autodiff<B>` and `B` as
//! separate types, as the libraries expect, at the cost of one copy of the code per
//! enabled backend.

/// Where tensors live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceKind {
    /// Burn's Flex CPU backend (always available).
    #[default]
    Cpu,
    /// WGPU (Vulkan/Metal/DX12) on the default adapter (build with `--features wgpu`).
    #[cfg(feature = "wgpu")]
    Wgpu,
    /// CUDA on GPU 0 (build with `--features cuda`; the driver is loaded at run time).
    #[cfg(feature = "cuda")]
    Cuda,
    /// LibTorch on the CPU (`--features tch`, libtorch 2.9; see docs/backends.md).
    #[cfg(feature = "tch")]
    Tch,
    /// LibTorch on CUDA GPU 0 (a CUDA build of libtorch).
    #[cfg(feature = "tch")]
    TchCuda,
}

/// Refuses `--matmul bf16` on a backend without bfloat16 products: WGPU's shaders
/// (WGSL) have no bfloat16 type. Flex computes them (by converting to float32, slowly:
/// [`matmul_warning`]), LibTorch and CUDA have kernels for them.
pub fn check_matmul(kind: DeviceKind, matmul: gr_model::MatmulPrecision) -> anyhow::Result<()> {
    #[cfg(feature = "wgpu")]
    if kind == DeviceKind::Wgpu && matmul == gr_model::MatmulPrecision::Bf16 {
        anyhow::bail!("--matmul bf16: WGPU has no bfloat16 products; use --device tch (LibTorch), cuda or cpu");
    }
    if let Some(warning) = matmul_warning(kind, matmul) {
        tracing::warn!("{warning}");
    }
    Ok(())
}

/// What to tell a user whose `--matmul` makes the run slower than it need be: bf16 on
/// Flex rounds every product's inputs through a float32 conversion, which costs more
/// than the float32 product it emulates (a 64-example SpecGR++ evaluation took 1.4–2.0×
/// as long as with `--matmul f32` on Flex and 2.2× as with bf16 on `--device tch`:
/// `experiments/results/gr-model/bf16-flex/`).
pub fn matmul_warning(kind: DeviceKind, matmul: gr_model::MatmulPrecision) -> Option<String> {
    (kind == DeviceKind::Cpu && matmul == gr_model::MatmulPrecision::Bf16).then(|| {
        "--matmul bf16 on the Flex CPU backend (--device cpu) emulates bfloat16 products by \
         converting to float32, which is slower than --matmul f32 here (1.4-2x in our \
         measurements); --device tch (a LibTorch build) has bfloat16 kernels"
            .to_string()
    })
}

/// Runs `$body` with the type `$B` bound to the chosen backend and `$device` to its device.
#[macro_export]
macro_rules! with_backend {
    ($kind:expr, |$B:ident, $device:ident| $body:expr) => {{
        use $crate::cmd::backend::DeviceKind;
        match $kind {
            DeviceKind::Cpu => {
                type $B = burn::backend::Flex;
                let $device = burn::backend::flex::FlexDevice::default();
                $body
            }
            #[cfg(feature = "wgpu")]
            DeviceKind::Wgpu => {
                type $B = burn::backend::Wgpu;
                let $device = burn::backend::wgpu::WgpuDevice::DefaultDevice;
                $body
            }
            #[cfg(feature = "cuda")]
            DeviceKind::Cuda => {
                type $B = burn::backend::Cuda;
                let $device = burn::backend::cuda::CudaDevice::default();
                $body
            }
            #[cfg(feature = "tch")]
            DeviceKind::Tch => {
                type $B = burn::backend::LibTorch;
                let $device = burn::backend::libtorch::LibTorchDevice::Cpu;
                $body
            }
            #[cfg(feature = "tch")]
            DeviceKind::TchCuda => {
                type $B = burn::backend::LibTorch;
                let $device = burn::backend::libtorch::LibTorchDevice::Cuda(0);
                $body
            }
        }
    }};
}

/// One entry of `--devices`: a backend and a device index, written `cpu`, `cuda:1`,
/// `wgpu:0`, `tch-cuda:2` (no index: 0; `wgpu` alone: the default adapter). The CPU
/// backend has one device value: `cpu,cpu` makes two replicas of the model on it (a
/// test of the multi-device path, no faster than `--shards 2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceSpec {
    /// The backend.
    pub kind: DeviceKind,
    /// The device index within the backend (`None`: not given).
    pub index: Option<usize>,
}

impl std::str::FromStr for DeviceSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, index) = match s.split_once(':') {
            Some((name, index)) => {
                let index = index
                    .parse::<usize>()
                    .map_err(|_| format!("`{s}`: the device index after `:` must be a number (e.g. cuda:1)"))?;
                (name, Some(index))
            }
            None => (s, None),
        };
        let kind = <DeviceKind as clap::ValueEnum>::from_str(name, true).map_err(|_| {
            let known: Vec<String> = <DeviceKind as clap::ValueEnum>::value_variants()
                .iter()
                .filter_map(|v| clap::ValueEnum::to_possible_value(v).map(|p| p.get_name().to_owned()))
                .collect();
            format!("`{s}`: unknown device kind `{name}` (this build has {})", known.join(", "))
        })?;
        if index.is_some() && matches!(kind, DeviceKind::Cpu) && index != Some(0) {
            return Err(format!("`{s}`: the CPU backend has one device; write `cpu` for each replica"));
        }
        #[cfg(feature = "tch")]
        if index.is_some() && matches!(kind, DeviceKind::Tch) {
            return Err(format!("`{s}`: LibTorch's CPU has one device; write `tch` for each replica"));
        }
        Ok(Self { kind, index })
    }
}

/// The backend kind that every entry of `specs` names, or an error: one run trains on
/// one backend type.
pub fn one_kind(specs: &[DeviceSpec]) -> Result<DeviceKind, String> {
    let Some(first) = specs.first() else {
        return Err("--devices: name at least one device".into());
    };
    if let Some(other) = specs.iter().find(|s| s.kind != first.kind) {
        return Err(format!(
            "--devices: all devices must be of one backend ({:?} and {:?} given)",
            first.kind, other.kind
        ));
    }
    Ok(first.kind)
}

/// Runs `$body` with the type `$B` bound to the backend that all of `$specs` (a
/// `&[DeviceSpec]` of one kind, [`one_kind`]) name and `$devices` to a `Vec` of their
/// devices, in order.
#[macro_export]
macro_rules! with_backend_devices {
    ($specs:expr, |$B:ident, $devices:ident| $body:expr) => {{
        use $crate::cmd::backend::{DeviceKind, DeviceSpec};
        let specs: &[DeviceSpec] = $specs;
        match $crate::cmd::backend::one_kind(specs).map_err(|e| anyhow::anyhow!(e))? {
            DeviceKind::Cpu => {
                type $B = burn::backend::Flex;
                let $devices: Vec<burn::backend::flex::FlexDevice> = specs.iter().map(|_| Default::default()).collect();
                $body
            }
            #[cfg(feature = "wgpu")]
            DeviceKind::Wgpu => {
                type $B = burn::backend::Wgpu;
                let $devices: Vec<burn::backend::wgpu::WgpuDevice> = specs
                    .iter()
                    .map(|s| match s.index {
                        Some(i) => burn::backend::wgpu::WgpuDevice::DiscreteGpu(i),
                        None => burn::backend::wgpu::WgpuDevice::DefaultDevice,
                    })
                    .collect();
                $body
            }
            #[cfg(feature = "cuda")]
            DeviceKind::Cuda => {
                type $B = burn::backend::Cuda;
                let $devices: Vec<burn::backend::cuda::CudaDevice> = specs
                    .iter()
                    .map(|s| burn::backend::cuda::CudaDevice { index: s.index.unwrap_or(0) })
                    .collect();
                $body
            }
            #[cfg(feature = "tch")]
            DeviceKind::Tch => {
                type $B = burn::backend::LibTorch;
                let $devices: Vec<burn::backend::libtorch::LibTorchDevice> =
                    specs.iter().map(|_| burn::backend::libtorch::LibTorchDevice::Cpu).collect();
                $body
            }
            #[cfg(feature = "tch")]
            DeviceKind::TchCuda => {
                type $B = burn::backend::LibTorch;
                let $devices: Vec<burn::backend::libtorch::LibTorchDevice> = specs
                    .iter()
                    .map(|s| burn::backend::libtorch::LibTorchDevice::Cuda(s.index.unwrap_or(0)))
                    .collect();
                $body
            }
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_lists_parse_and_refuse_mixed_or_indexed_cpus() {
        let parse = |s: &str| s.parse::<DeviceSpec>();
        assert_eq!(parse("cpu"), Ok(DeviceSpec { kind: DeviceKind::Cpu, index: None }));
        assert_eq!(parse("CPU:0"), Ok(DeviceSpec { kind: DeviceKind::Cpu, index: Some(0) }));
        assert!(parse("cpu:1").unwrap_err().contains("one device"));
        assert!(parse("cpu:x").unwrap_err().contains("must be a number"));
        assert!(parse("tpu:0").unwrap_err().contains("unknown device kind `tpu`"));
        let cpu = DeviceSpec { kind: DeviceKind::Cpu, index: None };
        assert_eq!(one_kind(&[cpu, cpu]), Ok(DeviceKind::Cpu));
        assert!(one_kind(&[]).is_err());
    }

    /// bf16 on Flex is emulated and slower than float32: the user hears so, and only then.
    #[test]
    fn bf16_on_flex_warns_and_nothing_else_does() {
        use gr_model::MatmulPrecision::{Bf16, F32};
        let warning = matmul_warning(DeviceKind::Cpu, Bf16).expect("bf16 on Flex warns");
        assert!(warning.contains("--device tch") && warning.contains("--matmul f32"), "{warning}");
        assert_eq!(matmul_warning(DeviceKind::Cpu, F32), None);
        #[cfg(feature = "tch")]
        assert_eq!(matmul_warning(DeviceKind::Tch, Bf16), None);
        assert!(check_matmul(DeviceKind::Cpu, Bf16).is_ok(), "a warning, not a refusal");
    }
}
