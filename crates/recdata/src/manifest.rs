//! Dataset manifests (`datasets/*.toml`): where a dataset's files come from, the
//! layouts they may arrive in, and how the dataset is split.

use std::path::{Path, PathBuf};

use crate::error::{DataError, Result};
use crate::formats::{Format, LoadOptions};
use crate::split::SplitConfig;
use crate::synthetic::SyntheticConfig;
use crate::Dataset;

/// One file to download.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Download {
    /// The source URL.
    pub url: String,
    /// The file name inside the dataset directory.
    pub file: String,
    /// The expected SHA-256 (hex), when known.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Other URLs serving the same bytes, tried in order after `url`.
    #[serde(default)]
    pub mirrors: Vec<String>,
}

/// A dataset manifest.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The dataset's name, used on the command line and, unless `data_dir` says
    /// otherwise, as its directory name.
    pub name: String,
    /// The directory under the data root holding the files, when it is not `name`:
    /// a second manifest can then read another's files with its own split (e.g.
    /// `beauty-2014-loo` reads `beauty-2014/` and splits leave-one-out).
    #[serde(default)]
    pub data_dir: Option<String>,
    /// One line about the dataset.
    #[serde(default)]
    pub description: String,
    /// Layouts the data may be in, tried in order: the first whose files are all
    /// present in the dataset directory is loaded.
    #[serde(rename = "format")]
    pub formats: Vec<Format>,
    /// How the dataset is split.
    pub split: SplitConfig,
    /// Loader options.
    #[serde(default)]
    pub load: LoadOptions,
    /// Files `cargo xtask download` fetches.
    #[serde(default, rename = "download")]
    pub downloads: Vec<Download>,
}

/// The manifests shipped with this crate (copies of the repository's `datasets/`).
const BUILTIN: &[(&str, &str)] = &[
    ("beauty-2014", include_str!("../../../datasets/beauty-2014.toml")),
    ("beauty-2014-loo", include_str!("../../../datasets/beauty-2014-loo.toml")),
    ("games-2023", include_str!("../../../datasets/games-2023.toml")),
    ("office-2023", include_str!("../../../datasets/office-2023.toml")),
    ("phones-2023", include_str!("../../../datasets/phones-2023.toml")),
];

impl Manifest {
    /// Parses a manifest; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Self> {
        let m: Manifest = toml::from_str(text)
            .map_err(|e| DataError::Manifest { path: origin.to_owned(), message: e.to_string() })?;
        if m.formats.is_empty() {
            return Err(DataError::Manifest { path: origin.to_owned(), message: "no [[format]] given".into() });
        }
        Ok(m)
    }

    /// The directory, under the data root, that holds this dataset's files.
    pub fn dir_name(&self) -> &str {
        self.data_dir.as_deref().unwrap_or(&self.name)
    }

    /// Reads a manifest file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
        Self::from_toml(&text, path)
    }

    /// The manifest of a shipped dataset.
    pub fn builtin(name: &str) -> Option<Self> {
        BUILTIN.iter().find(|(n, _)| *n == name).map(|(n, text)| {
            Self::from_toml(text, Path::new(&format!("datasets/{n}.toml")))
                .expect("shipped manifests are checked by tests")
        })
    }

    /// Names of the shipped datasets, plus `synthetic`.
    pub fn known_names() -> Vec<&'static str> {
        std::iter::once("synthetic").chain(BUILTIN.iter().map(|(n, _)| *n)).collect()
    }

    /// What to tell a user whose data directory lacks this dataset's files.
    fn missing_data_hint(&self) -> String {
        if self.downloads.is_empty() {
            "put the files there, or point SPECGR_DATA / --data-root at the directory that holds them".into()
        } else {
            format!("run `cargo xtask download {}`, or set SPECGR_DATA / --data-root to where it is", self.name)
        }
    }

    /// Loads the dataset from `dir`, using the first layout whose files are there.
    pub fn load(&self, dir: &Path) -> Result<Dataset> {
        let format = self.formats.iter().find(|f| f.is_present(dir)).ok_or_else(|| {
            DataError::MissingData {
                name: self.name.clone(),
                dir: dir.to_owned(),
                hint: self.missing_data_hint(),
                expected: self
                    .formats
                    .iter()
                    .map(|f| f.files().join(" + "))
                    .collect::<Vec<_>>()
                    .join(", or "),
            }
        })?;
        tracing::info!(dataset = %self.name, dir = %dir.display(), "loading");
        format.load(&self.name, dir, self.load)
    }
}

/// The directory datasets live under: `$SPECGR_DATA`, else `./data`.
pub fn default_data_root() -> PathBuf {
    std::env::var_os("SPECGR_DATA").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("data"))
}

/// The names [`find_manifest`] resolves: those of `<datasets_dir>/*.toml`, then the
/// shipped ones and `synthetic`.
fn known_names_with(datasets_dir: Option<&Path>) -> Vec<String> {
    let mut own: Vec<String> = datasets_dir
        .and_then(|d| std::fs::read_dir(d).ok())
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    own.sort();
    for name in Manifest::known_names() {
        if !own.iter().any(|n| n == name) {
            own.push(name.to_owned());
        }
    }
    own
}

/// Resolves a dataset name to its manifest: a file `<datasets_dir>/<name>.toml`
/// when a directory is given and has it, else a shipped manifest. `synthetic` has
/// no manifest.
pub fn find_manifest(name: &str, datasets_dir: Option<&Path>) -> Result<Manifest> {
    if let Some(dir) = datasets_dir {
        let path = dir.join(format!("{name}.toml"));
        if path.is_file() {
            return Manifest::read(&path);
        }
    }
    Manifest::builtin(name).ok_or_else(|| DataError::UnknownDataset {
        name: name.to_owned(),
        dir: datasets_dir.map_or_else(|| PathBuf::from("(shipped manifests)"), Path::to_owned),
        known: known_names_with(datasets_dir).join(", "),
    })
}

/// A dataset ready to use: its data and the split its manifest asks for.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The loaded data.
    pub dataset: Dataset,
    /// The split to use.
    pub split: SplitConfig,
}

/// Loads a dataset by name: `synthetic` is generated (seed 0, default size);
/// any other name is looked up with [`find_manifest`] and loaded from
/// `<data_root>/<name>`.
pub fn load_dataset(name: &str, data_root: &Path) -> Result<Resolved> {
    load_dataset_with(name, data_root, None)
}

/// Loads the dataset a manifest file describes (a user's own data: `--manifest`), its
/// data files read from the manifest's own directory, not from the data root.
pub fn load_manifest_file(path: &Path) -> Result<Resolved> {
    let manifest = Manifest::read(path)?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let dataset = manifest.load(dir).map_err(|e| match e {
        // Neither a download nor SPECGR_DATA helps a manifest given by path.
        DataError::MissingData { name, dir, expected, .. } => DataError::MissingData {
            hint: format!(
                "--manifest {} reads its data files from the manifest's own directory, not from \
                 SPECGR_DATA; put them there, or name the dataset with `--dataset {name} \
                 --datasets-dir <manifests>` to read them from SPECGR_DATA/{name}",
                path.display()
            ),
            name,
            dir,
            expected,
        },
        other => other,
    })?;
    Ok(Resolved { dataset, split: manifest.split })
}

/// [`load_dataset`] with a directory of extra manifests searched first.
pub fn load_dataset_with(name: &str, data_root: &Path, datasets_dir: Option<&Path>) -> Result<Resolved> {
    if name == "synthetic" {
        return Ok(Resolved {
            dataset: SyntheticConfig::default().generate(0)?,
            split: SplitConfig::quantiles(0.8, 0.9),
        });
    }
    let manifest = find_manifest(name, datasets_dir)?;
    let dir = data_root.join(manifest.dir_name());
    if !dir.is_dir() {
        return Err(DataError::MissingData {
            name: name.to_owned(),
            dir,
            expected: "a directory".into(),
            hint: manifest.missing_data_hint(),
        });
    }
    Ok(Resolved { dataset: manifest.load(&dir)?, split: manifest.split.clone() })
}
