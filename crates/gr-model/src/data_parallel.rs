//! Data-parallel TIGER training across devices ([`crate::train_on_devices`]): one model
//! replica per device, each batch split into one shard per device, and the shards'
//! gradients summed across devices with Burn's collective all-reduce
//! (`burn::collective`, through `GradientsParams::all_reduce`), after which every
//! replica applies the same optimizer step to the same summed gradients. That is
//! PyTorch's DistributedDataParallel; docs/multi-device.md says why it was chosen over
//! burn-train's DDP strategy and over reducing onto one device.
//!
//! Peer 0 is the caller's model on the first device: the one that is validated,
//! checkpointed and returned. Peers 1.. are replicas that live for one
//! [`DataParallel`] (one call of the training function): they are forked from peer 0
//! and take a copy of its optimizer state, so a run resumed from a checkpoint (which
//! holds only peer 0) continues with replicas identical to the ones it had.
//!
//! The numbers are those of [`crate::sharded_grads`] with as many shards as devices:
//! the same shard bounds, weights (shard size over batch size), dropout seeding (peer
//! `p` draws from `stream + p * 0xD1B5_4A32_D192_ED03`), loss sum order, and with two
//! peers the same gradient sum (one IEEE addition, which commutes). With three or more
//! peers burn-collective's tree sums in an order that depends on device ids (and on a
//! hash map's order among equal ids, e.g. CPU devices), so results then agree with the
//! threaded shards up to rounding.

use std::marker::PhantomData;
use std::sync::{Mutex, MutexGuard};

use burn::collective::{
    CollectiveConfig, PeerId, ReduceOperation, finish_collective, register, reset_collective,
};
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, Tensor};

use crate::ops::DropoutRng;
use crate::{Tiger, TigerError, TrainBatch, TrainExample};

/// burn-collective keeps one local collective server per backend type for the whole
/// process, which knows one set of peers at a time: data-parallel runs in one process
/// (tests run in parallel) take turns.
static SESSION: Mutex<()> = Mutex::new(());

/// The dropout stream of peer `p` of a step whose stream is `stream` (the one
/// [`crate::sharded_grads`] gives its shard `p`).
fn peer_stream(stream: u64, peer: usize) -> u64 {
    stream.wrapping_add((peer as u64).wrapping_mul(0xD1B5_4A32_D192_ED03))
}

/// The registration of `devices.len()` local peers with burn-collective, for the
/// backend `B` (the autodiff backend's inner one: gradients live there). Unregisters
/// them when dropped.
struct Session<B: Backend> {
    peers: usize,
    _turn: MutexGuard<'static, ()>,
    _backend: PhantomData<B>,
}

impl<B: Backend> Session<B> {
    fn start(devices: &[B::Device]) -> Result<Self, TigerError> {
        let turn = SESSION.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Forget the peers of an earlier session that ended in an error.
        reset_collective::<B>();
        let config = CollectiveConfig::default().with_num_devices(devices.len());
        // `register` returns once every peer has registered: one thread each.
        let results: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = devices
                .iter()
                .enumerate()
                .map(|(p, device)| {
                    let (device, config) = (device.clone(), config.clone());
                    scope.spawn(move || register::<B>(PeerId::from(p), device, config))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect()
        });
        if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
            reset_collective::<B>();
            return Err(TigerError::Collective(format!("registering {} devices: {e:?}", devices.len())));
        }
        Ok(Self { peers: devices.len(), _turn: turn, _backend: PhantomData })
    }
}

impl<B: Backend> Drop for Session<B> {
    fn drop(&mut self) {
        for p in 0..self.peers {
            // Unregistering a peer that a reset already forgot fails harmlessly.
            let _ = finish_collective::<B>(PeerId::from(p));
        }
    }
}

/// Releases the other peers when this one unwinds: a reset of the collective server
/// fails their pending and future all-reduces instead of leaving them waiting for this
/// peer forever.
struct ReleaseOnPanic<B: Backend>(PhantomData<B>);

impl<B: Backend> Drop for ReleaseOnPanic<B> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            reset_collective::<B>();
        }
    }
}

/// How a peer clips the summed gradients before its optimizer step (per-tensor
/// clipping is the optimizer's own).
#[derive(Debug, Clone, Copy)]
pub(crate) struct GlobalClip(pub Option<f32>);

/// Data-parallel training state: the devices, the replicas on devices 1.. with their
/// optimizers, and the collective session.
pub(crate) struct DataParallel<B: AutodiffBackend, O> {
    devices: Vec<B::Device>,
    /// Empty until the first step: replicas are forked from peer 0 after its first
    /// forward pass, which draws its lazily initialised parameters exactly as a
    /// one-device run does (a fork of an unused model would draw its own values).
    replicas: Vec<(Tiger<B>, O)>,
    _session: Session<B::InnerBackend>,
}

impl<B: AutodiffBackend, O: Optimizer<Tiger<B>, B>> DataParallel<B, O> {
    /// Registers one peer per device (at least two).
    pub(crate) fn start(devices: &[B::Device]) -> Result<Self, TigerError> {
        if devices.len() < 2 {
            return Err(TigerError::InvalidConfig("data-parallel training needs at least two devices".into()));
        }
        let session = Session::<B::InnerBackend>::start(devices)?;
        Ok(Self { devices: devices.to_vec(), replicas: Vec::new(), _session: session })
    }

    /// One optimisation step on `examples`: their loss (the batch mean, summed from the
    /// shards' weighted losses) and `model` after the step. `optim` is peer 0's
    /// optimizer; `make_batch(part, start, device)` builds a shard's batch on its device
    /// (`start`: its first example's index in `examples`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn step(
        &mut self,
        model: Tiger<B>,
        optim: &mut O,
        examples: &[&TrainExample],
        stream: u64,
        lr: f64,
        clip: GlobalClip,
        make_batch: impl Fn(&[&TrainExample], usize, &B::Device) -> Result<TrainBatch<B>, TigerError>,
    ) -> Result<(f32, Tiger<B>), TigerError> {
        let peers = self.devices.len();
        let n = examples.len();
        // The shard bounds of `sharded_grads`; peers past the examples get none.
        let shards = peers.clamp(1, n.max(1));
        let bounds: Vec<usize> = (0..=shards).map(|j| j * n / shards).collect();
        // Every batch is built before any peer starts: a data error then stops the step
        // before a peer waits in an all-reduce for one that failed.
        let mut parts = Vec::with_capacity(peers);
        for (p, device) in self.devices.iter().enumerate() {
            parts.push(if p < shards {
                let (start, end) = (bounds[p], bounds[p + 1]);
                Some((make_batch(&examples[start..end], start, device)?, (end - start) as f32 / n as f32))
            } else {
                None
            });
        }
        let mut parts = parts.into_iter();
        let first = parts.next().expect("at least two peers");
        let mut first_pass = None;
        if self.replicas.is_empty() {
            first_pass = Some(pass(&model, first.as_ref()));
            self.replicas = self.devices[1..]
                .iter()
                .map(|device| {
                    let mut replica = model.clone().fork(device);
                    // A fresh generator: a clone shares peer 0's counter.
                    replica.dropout.rng = DropoutRng::default();
                    (replica, optim.clone())
                })
                .collect();
        }
        let replicas = std::mem::take(&mut self.replicas);
        let (main, others) = std::thread::scope(|scope| {
            let handles: Vec<_> = replicas
                .into_iter()
                .zip(parts)
                .enumerate()
                .map(|(i, ((replica, mut optim), part))| {
                    let peer = i + 1;
                    replica.seed_dropout(peer_stream(stream, peer));
                    scope.spawn(move || {
                        let _release = ReleaseOnPanic::<B::InnerBackend>(PhantomData);
                        let (value, grads) = pass(&replica, part.as_ref());
                        finish(peer, replica, &mut optim, grads, lr, clip).map(|replica| (value, replica, optim))
                    })
                })
                .collect();
            let main = {
                let _release = ReleaseOnPanic::<B::InnerBackend>(PhantomData);
                let (value, grads) = first_pass.unwrap_or_else(|| pass(&model, first.as_ref()));
                finish(0, model, optim, grads, lr, clip).map(|model| (value, model))
            };
            let others: Vec<_> = handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect();
            (main, others)
        });
        let (mut total, model) = main?;
        for result in others {
            let (value, replica, optim) = result?;
            total += value;
            self.replicas.push((replica, optim));
        }
        Ok((total, model))
    }
}

/// A peer's forward and backward pass on its shard, the loss weighted by the shard's
/// share of the batch (no shard: nothing).
fn pass<B: AutodiffBackend>(model: &Tiger<B>, part: Option<&(TrainBatch<B>, f32)>) -> (f32, GradientsParams) {
    match part {
        Some((batch, weight)) => {
            let loss = model.loss(batch) * *weight;
            let value = loss.clone().into_scalar().elem::<f32>();
            (value, GradientsParams::from_grads(loss.backward(), model))
        }
        None => (0.0, GradientsParams::new()),
    }
}

/// A peer's gradients summed with the other peers' (burn-collective's all-reduce),
/// clipped, and its optimizer step.
fn finish<B: AutodiffBackend, O: Optimizer<Tiger<B>, B>>(
    peer: usize,
    model: Tiger<B>,
    optim: &mut O,
    grads: GradientsParams,
    lr: f64,
    clip: GlobalClip,
) -> Result<Tiger<B>, TigerError> {
    let grads = with_every_gradient(&model, grads);
    let grads = grads
        .all_reduce::<B::InnerBackend>(PeerId::from(peer), ReduceOperation::Sum)
        .map_err(|e| {
            // Fail the other peers' all-reduces too rather than leave them waiting.
            reset_collective::<B::InnerBackend>();
            TigerError::Collective(format!("all-reduce of the gradients on device {peer}: {e:?}"))
        })?;
    let grads = match clip.0 {
        Some(norm) => crate::train::clip_global_norm(&model, grads, norm),
        None => grads,
    };
    Ok(optim.step(lr, model, grads))
}

/// `grads` with a zero gradient for each trainable parameter it lacks. The all-reduce
/// walks each peer's gradients by parameter id and needs the same ids on every peer;
/// a peer without a shard (a batch smaller than the device count) has none, and adds
/// zeros, which leaves the sum as it is.
fn with_every_gradient<B: AutodiffBackend>(model: &Tiger<B>, mut grads: GradientsParams) -> GradientsParams {
    struct Fill<'a> {
        grads: &'a mut GradientsParams,
    }
    impl<B: AutodiffBackend> ModuleVisitor<B> for Fill<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            let value = param.val();
            if value.is_require_grad() && self.grads.get::<B::InnerBackend, D>(param.id).is_none() {
                self.grads.register::<B::InnerBackend, D>(param.id, value.inner().zeros_like());
            }
        }
    }
    model.visit(&mut Fill { grads: &mut grads });
    grads
}
