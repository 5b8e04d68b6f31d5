//! Which optional backends this machine can run: a Vulkan adapter for WGPU, an NVIDIA
//! GPU for CUDA. Shared by the `backends` tests and the `backend_timings` example
//! (`#[path]`), which skip what is absent instead of letting Burn panic on it.

#![allow(dead_code)]

use std::sync::OnceLock;

/// Runs a future that completes without waiting (wgpu's native adapter requests do).
fn ready<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            return out;
        }
        std::thread::yield_now();
    }
}

/// The adapter Burn's WGPU backend takes by default, or why there is none. cubecl asks
/// wgpu for the high-performance adapter of its graphics API (Vulkan on Linux and
/// Windows); this asks the same question first, because Burn panics on its first
/// operation without an adapter.
pub fn wgpu_adapter_info() -> &'static Result<wgpu::AdapterInfo, String> {
    static ADAPTER: OnceLock<Result<wgpu::AdapterInfo, String>> = OnceLock::new();
    ADAPTER.get_or_init(|| {
        let api = wgpu::Backends::VULKAN;
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: api,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let options = wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            force_fallback_adapter: false,
            compatible_surface: None,
        };
        ready(instance.request_adapter(&options))
            .map(|adapter| adapter.get_info())
            .map_err(|e| {
                format!(
                    "no Vulkan adapter ({e}); scripts/install-test-deps.sh installs Mesa's \
                     software driver lavapipe (Debian/Ubuntu: apt-get install mesa-vulkan-drivers)"
                )
            })
    })
}

/// [`wgpu_adapter_info`] in words: name, type, API and driver (for lavapipe the
/// driver info carries the Mesa and LLVM versions).
pub fn describe(i: &wgpu::AdapterInfo) -> String {
    format!(
        "{} ({:?}, {:?}, driver {}: {})",
        i.name, i.device_type, i.backend, i.driver, i.driver_info
    )
}

/// The WGPU adapter in words, or why there is none.
pub fn wgpu_adapter() -> &'static Result<String, String> {
    static DESCRIBED: OnceLock<Result<String, String>> = OnceLock::new();
    DESCRIBED.get_or_init(|| wgpu_adapter_info().as_ref().map(describe).map_err(Clone::clone))
}

/// The first GPU `nvidia-smi -L` lists, or why there is none. (CUDA's driver library
/// is opened at run time and Burn panics without it; asking `nvidia-smi` needs no
/// unsafe code.)
pub fn cuda_gpu() -> &'static Result<String, String> {
    static GPU: OnceLock<Result<String, String>> = OnceLock::new();
    GPU.get_or_init(|| match std::process::Command::new("nvidia-smi").arg("-L").output() {
        Err(e) => Err(format!(
            "no CUDA device: nvidia-smi cannot be run ({e}); CUDA needs an NVIDIA GPU and its driver (docs/backends.md)"
        )),
        Ok(out) => {
            let list = String::from_utf8_lossy(&out.stdout);
            match list.lines().find(|l| l.starts_with("GPU ")) {
                Some(gpu) if out.status.success() => Ok(gpu.trim().to_owned()),
                _ => Err(format!(
                    "no CUDA device: `nvidia-smi -L` lists none ({})",
                    String::from_utf8_lossy(&out.stderr).trim()
                )),
            }
        }
    })
}
