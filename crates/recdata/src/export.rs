//! Writing a dataset back out in the generic CSV layout, with a manifest.

use std::io::Write;
use std::path::Path;

use crate::dataset::Dataset;
use crate::error::{DataError, Result};

/// Writes `interactions.csv` (`user_id,item_id,timestamp` in ms), `items.csv`
/// (`item_id,title`) and `dataset.toml` (a generic-csv manifest with an 80/10/10
/// quantile split) into `dir`, each atomically.
pub fn write_generic_csv(data: &Dataset, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    write_atomic(&dir.join("items.csv"), |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(["item_id", "title"]).map_err(std::io::Error::other)?;
        for (key, text) in data.catalog.keys().iter().zip(data.catalog.texts()) {
            csv.write_record([key, text]).map_err(std::io::Error::other)?;
        }
        csv.flush()
    })?;
    write_atomic(&dir.join("interactions.csv"), |w| {
        writeln!(w, "user_id,item_id,timestamp")?;
        for x in &data.interactions {
            writeln!(w, "{},{},{}", data.users[x.user as usize], data.catalog.key(x.item), x.timestamp_ms)?;
        }
        Ok(())
    })?;
    write_atomic(&dir.join("dataset.toml"), |w| {
        write!(
            w,
            "name = \"{}\"\n\n[[format]]\nkind = \"generic-csv\"\nitem_column = \"item_id\"\n\
             timestamp_unit = \"milliseconds\"\n\n[split]\nkind = \"chronological\"\n\
             valid = {{ quantile = 0.8 }}\ntest = {{ quantile = 0.9 }}\n",
            data.name
        )
    })
}

/// Writes a file through `<path>.tmp` and a rename ([`crate::fsio`]), so a crash never
/// leaves a half file.
pub fn write_atomic(path: &Path, body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    Ok(crate::fsio::write_atomic_with(path, body)?)
}
