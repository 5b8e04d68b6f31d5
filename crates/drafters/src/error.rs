//! The crate's error type is the interface's [`DrafterError`] (every drafter reports
//! the same errors to the loop); this module keeps the helpers that use it.

pub use rec_core::DrafterError;

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, DrafterError>;

/// Checks that `v` has `dim` finite elements.
pub(crate) fn check_vector(what: impl FnOnce() -> String, v: &[f32], dim: usize) -> Result<()> {
    if v.len() != dim {
        return Err(DrafterError::Dimension { what: what(), expected: dim, got: v.len() });
    }
    if let Some((index, &value)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
        return Err(DrafterError::NotFinite { what: what(), index, value });
    }
    Ok(())
}
