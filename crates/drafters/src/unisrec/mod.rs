//! UniSRec (Hou et al., KDD 2022) as an inductive drafter: a mixture-of-experts
//! adaptor over frozen text embeddings and a small transformer, trained with a
//! cosine softmax over all in-sample items.

mod drafter;
mod dropout;
mod encoder;
mod model;
mod moe;
mod run_state;
mod train;

pub use drafter::{CONFIG_FILE, MODEL_FILE, UniSRec, UniSRecEncoder, load_checkpoint, save_checkpoint};
pub use dropout::{DropoutRng, HostDropout};
pub use encoder::EncoderLayer;
pub use model::{UniSRecConfig, UniSRecModel, l2_normalize};
pub use moe::{MoeAdaptor, MoeAdaptorConfig};
pub use run_state::{UniSRecState, UniSRecValidation};
pub use train::{EvalMetrics, TrainProgress, TrainReport, UniSRecData, UniSRecTrainConfig, evaluate, train_unisrec, training_finished};
