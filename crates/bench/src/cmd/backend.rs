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
