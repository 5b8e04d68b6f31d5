//! `specgr recommend` and `specgr items` (#25 §1–2) on a tiny synthetic run: every
//! method answers JSON lines, bad lines are refused naming the line and the field, an
//! item added online is recommended right away and has exactly the semantic ID and
//! drafter vectors a batch rebuild gives it, and a removed item is never recommended.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use bench::cmd::eval::Needs;
use bench::cmd::serving::Served;
use bench::cmd::serving::overlay::AddedItem;
use drafters::Drafter;
use recdata::ItemId;

const BIN: &str = env!("CARGO_BIN_EXE_specgr");
type B = burn::backend::Flex;

fn specgr(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("SPECGR_DATA")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn ok(args: &[&str], stdin: &str) -> String {
    let out = specgr(args, stdin);
    assert!(out.status.success(), "specgr {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"))).collect()
}

/// A tiny trained run (rqkmeans IDs, TIGER `tiny`, UniSRec, an untrained SpecGR++),
/// built once for the tests of this module; each test copies what it changes.
fn trained_run() -> &'static Path {
    static RUN: OnceLock<tempfile::TempDir> = OnceLock::new();
    RUN.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let runs = tmp.path().display().to_string();
        crate::resume::write_embeddings(tmp.path());
        let fit = ["semid", "fit", "--dataset", "synthetic", "--method", "rqkmeans", "--codebook-size", "8", "--runs", &runs];
        ok(&fit, "");
        ok(
            &[
                "train", "tiger", "--dataset", "synthetic", "--preset", "tiny", "--ids", "rqkmeans", "--epochs", "1",
                "--batch-size", "64", "--train-limit", "128", "--valid-limit", "16", "--runs", &runs,
            ],
            "",
        );
        ok(&["train", "unisrec", "--dataset", "synthetic", "--epochs", "1", "--runs", &runs], "");
        let tiger = tmp.path().join("synthetic/tiger-rqkmeans-tiny/best").display().to_string();
        ok(
            &[
                "train", "specgr++", "--dataset", "synthetic", "--preset", "tiny", "--ids", "rqkmeans", "--init", &tiger,
                "--stage1-epochs", "0", "--stage2-epochs", "0", "--runs", &runs,
            ],
            "",
        );
        tmp
    })
    .path()
}

/// A copy of the trained run that a test may change (its catalog overlay).
pub fn copy_of_run() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(trained_run(), tmp.path());
    tmp
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub fn dataset() -> recdata::Dataset {
    recdata::load_dataset_with("synthetic", Path::new("."), None).unwrap().dataset
}

fn recommend_args<'a>(runs: &'a str, method: &'a str, k: &'a str) -> Vec<&'a str> {
    vec![
        "recommend", "--dataset", "synthetic", "--ids", "rqkmeans", "--preset", "tiny", "--method", method, "--k", k,
        "--draft-size", "10", "--beam-size", "10", "--batch-size", "2", "--threshold=-3", "--runs", runs,
    ]
}

#[test]
fn every_method_recommends_and_bad_lines_are_refused_naming_line_and_field() {
    let runs = trained_run().display().to_string();
    let keys = dataset().catalog.keys().to_vec();
    let request = |id: usize, history: &[&str]| serde_json::json!({"id": id, "history": history}).to_string();
    let input = [request(1, &[&keys[0], &keys[1]]), request(2, &[&keys[5]]), request(3, &[&keys[2], &keys[3], &keys[4]])]
        .join("\n");
    for &method in bench::cmd::eval::MethodId::all() {
        let out = json_lines(&ok(&recommend_args(&runs, method.id(), "5"), &input));
        assert_eq!(out.len(), 3, "{method}: one answer per request");
        for (i, answer) in out.iter().enumerate() {
            assert_eq!(answer["line"], i + 1, "{method}: {answer}");
            assert_eq!(answer["id"], i + 1, "{method}: the request id is echoed");
            assert_eq!(answer["method"], method.id());
            let items = answer["items"].as_array().unwrap_or_else(|| panic!("{method}: {answer}"));
            assert!(!items.is_empty() && items.len() <= 5, "{method}: {answer}");
            for it in items {
                assert!(keys.contains(&it["item"].as_str().unwrap().to_string()), "{method}: {it}");
                assert!(it["unseen"].is_boolean() && (it["score"].is_number() || it["score"].is_null()), "{method}: {it}");
            }
        }
    }

    // Bad lines: each refused with its line and field, the good ones still answered.
    let good = request(9, &[&keys[0]]);
    let bad = [
        (r#"{"history": ["no-such-item"], "id": "u-bad"}"#.to_string(), "history[0]", "unknown item id"),
        (r#"{"history": []}"#.to_string(), "history", "empty"),
        (r#"{"history": ["#.to_string(), "", "malformed JSON"),
        (format!(r#"{{"history": ["{}"], "k": 6}}"#, keys[0]), "k", "from 1 to 5"),
        (format!(r#"{{"history": ["{}"], "k": -1}}"#, keys[0]), "k", "out of range"),
        (r#"{"history": [1.5]}"#.to_string(), "history[0]", "expected an item id"),
    ];
    let mut lines = vec![good.clone()];
    lines.extend(bad.iter().map(|(l, _, _)| l.clone()));
    lines.push(String::new());
    lines.push(good);
    let out = specgr(&recommend_args(&runs, "semantic-knn", "5"), &lines.join("\n"));
    assert!(!out.status.success(), "refused lines make the command fail");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("6 of 8 requests refused"), "{err}");
    let answers = json_lines(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(answers.len(), 8, "every request line answered, the blank one skipped");
    assert!(answers[0]["items"].is_array() && answers[7]["items"].is_array());
    assert_eq!(answers[7]["line"], 9, "lines are numbered as in the input, blank ones counted");
    assert_eq!(answers[1]["id"], "u-bad", "a refused line echoes its id");
    for ((_, field, fragment), answer) in bad.iter().zip(&answers[1..7]) {
        assert_eq!(answer["error"]["field"], *field, "{answer}");
        assert!(answer["error"]["message"].as_str().unwrap().contains(fragment), "{answer}");
    }
    // K beyond the catalog is refused before any work.
    let out = specgr(&recommend_args(&runs, "semantic-knn", "100000"), "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("the catalog has only"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The new item's semantic ID (identification digit included) and its vectors in the
/// SemanticKNN, UniSRec and SpecGR++ indexes, added online, equal those of a batch
/// rebuild over the catalog with the item appended.
#[test]
fn an_item_added_online_gets_the_id_and_index_entries_of_a_batch_rebuild() {
    let tmp = copy_of_run();
    let runs = tmp.path().to_path_buf();
    let device = Default::default();
    let needs = Needs { tiger: false, knn: true, unisrec: true, specgr_pp: true, popularity: false };
    let open = || {
        Served::<B>::open(&dataset_args(), &runs, ids(), gr_model::TigerPreset::Tiny, needs, &device).unwrap()
    };
    let mut served = open();
    let base = served.resources.ids().len();
    let (embeddings, _) = text_encoder::Embeddings::load(&runs.join("synthetic/embeddings/embeddings.safetensors")).unwrap();
    // A copy of item 3's embedding shares its codes: its identification digit is the
    // group's next number. A second item lands wherever its vector takes it.
    let twin = embeddings.row(3).to_vec();
    let other: Vec<f32> = embeddings.row(7).iter().zip(embeddings.row(11)).map(|(a, b)| 0.5 * (a + b)).collect();
    let new = [("twin", twin), ("blend", other)];
    for (id, e) in &new {
        served.add(AddedItem { id: id.to_string(), text: format!("{id}."), embedding: e.clone() }).unwrap();
    }
    served.persist().unwrap();

    // The batch rebuild: the frozen quantiser over every row, IDs numbered in row order.
    let mut all = embeddings.as_slice().to_vec();
    new.iter().for_each(|(_, e)| all.extend_from_slice(e));
    let dim = embeddings.dim();
    let matrix = semid::EmbeddingMatrix::new(all.clone(), dim).unwrap();
    let q = &served.resources.semid.quantizer;
    let codes = semid::Quantizer::encode(q, &matrix).unwrap();
    let batch = semid::SemanticIds::from_codes(*served.resources.ids().layout(), &codes).unwrap();
    let online = served.resources.ids();
    assert_eq!(online.len(), base + 2);
    for item in 0..online.len() as u32 {
        assert_eq!(online.codes(item), batch.codes(item), "item {item}");
    }
    let twin_id = online.codes(base as u32);
    assert_eq!(&twin_id[..3], &online.codes(3)[..3], "the twin shares item 3's codes");
    assert!(twin_id[3] > 0, "and is numbered after it: {twin_id:?}");
    assert!(served.resources.semid.trie().items_with_prefix(twin_id).contains(&(base as u32)), "the trie spells it");

    let items: Vec<ItemId> = (0..online.len() as u32).map(ItemId).collect();
    let knn = drafters::SemanticKnn::new(drafters::SemanticKnnConfig::new(dim), &items, &all).unwrap();
    let unisrec_dir = runs.join("synthetic/unisrec");
    let unisrec = drafters::UniSRec::<B>::load(&unisrec_dir, drafters::KnnConfig::new(0), &device, &items, &all).unwrap();
    let pp_dir = runs.join("synthetic/specgr-pp-rqkmeans-tiny");
    let pp_best = bench::cmd::specgr_pp::best_checkpoint(&recdata::RunDir::new(&runs, "synthetic"), ids(), gr_model::TigerPreset::Tiny);
    let pp = gr_model::SpecGrPp::<B>::load(&pp_best, &device).unwrap();
    let pp_batch = pp.embed_all_items(&batch, 64, &device).unwrap();
    assert!(pp_dir.is_dir());
    for (n, _) in new.iter().enumerate() {
        let item = ItemId((base + n) as u32);
        let r = &served.resources;
        assert_eq!(r.knn().unwrap().index().vector(item), knn.index().vector(item), "SemanticKNN, item {item:?}");
        close(r.unisrec().unwrap().index().vector(item).unwrap(), unisrec.index().vector(item).unwrap(), "UniSRec");
        close(r.specgr_pp().unwrap().drafter.index().vector(item).unwrap(), &normalised(pp_batch.row(item.index())), "SpecGR++");
    }

    // Another process sees the same catalog: the overlay gives the same IDs back.
    let again = open();
    assert_eq!(again.resources.ids(), served.resources.ids());
    assert_eq!(again.item("twin"), Some(ItemId(base as u32)));
    assert_eq!(again.resources.knn().unwrap().num_items(), base + 2);
}

fn normalised(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / norm).collect()
}

/// Equal within float rounding: batched and single-row forward passes may sum in
/// another order.
fn close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    let worst = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "{what}: online and batch vectors differ by {worst}");
}

fn ids() -> bench::cmd::IdsName {
    "rqkmeans".parse().unwrap()
}

fn dataset_args() -> bench::cmd::DatasetArgs {
    bench::cmd::DatasetArgs { dataset: "synthetic".into(), data_root: None, datasets_dir: None, manifest: None }
}

#[test]
fn added_items_are_recommended_at_once_and_removed_ones_never() {
    let tmp = copy_of_run();
    let runs = tmp.path().display().to_string();
    let keys = dataset().catalog.keys().to_vec();
    let (embeddings, _) = text_encoder::Embeddings::load(&PathBuf::from(&runs).join("synthetic/embeddings/embeddings.safetensors")).unwrap();
    let items = |run: &[&str]| -> Vec<String> {
        let line = serde_json::json!({"history": [keys[4]]}).to_string();
        let out = json_lines(&ok(run, &line));
        out[0]["items"].as_array().unwrap().iter().map(|i| i["item"].as_str().unwrap().to_string()).collect()
    };
    let knn = recommend_args(&runs, "semantic-knn", "3");
    assert!(!items(&knn).contains(&"fresh".to_string()));

    // The new item's text embedding is item 4's: nearest to a history of item 4.
    let add = ["items", "add", "--dataset", "synthetic", "--ids", "rqkmeans", "--runs", &runs];
    let line = serde_json::json!({"id": "fresh", "text": "A fresh item.", "embedding": embeddings.row(4)}).to_string();
    let out = json_lines(&ok(&add, &line));
    assert_eq!(out[0]["id"], "fresh");
    assert_eq!(out[0]["item"], keys.len());
    assert_eq!(out[0]["semantic_id"].as_array().unwrap().len(), 4);
    let listed = items(&knn);
    assert!(listed.contains(&"fresh".to_string()), "recommended right after the add: {listed:?}");
    let answer = json_lines(&ok(&knn, &serde_json::json!({"history": [keys[4]]}).to_string()));
    let fresh = answer[0]["items"].as_array().unwrap().iter().find(|i| i["item"] == "fresh").unwrap();
    assert_eq!(fresh["unseen"], true, "an added item is unseen: {fresh}");
    // And it can be part of a history.
    let line = serde_json::json!({"history": ["fresh"]}).to_string();
    for method in ["specgr-knn", "specgr-aux", "specgr-pp", "tiger"] {
        ok(&recommend_args(&runs, method, "3"), &line);
    }

    // All or nothing: a batch with one bad item adds none.
    let bad = [
        serde_json::json!({"id": "ok-1", "text": "Fine.", "embedding": embeddings.row(1)}).to_string(),
        serde_json::json!({"id": "fresh", "text": "Again.", "embedding": embeddings.row(2)}).to_string(),
        serde_json::json!({"id": "short", "text": "Short.", "embedding": [1.0, 2.0]}).to_string(),
        r#"{"id": "x", "text": "Y.", "embedding": [1, 2"#.to_string(),
    ];
    let out = specgr(&add, &bad.join("\n"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    for f in ["line 2: field `id`: item `fresh` is already in the catalog", "line 3: field `embedding`: 2 values", "line 4: malformed JSON", "3 of 4 items refused; nothing was added"] {
        assert!(err.contains(f), "`{f}` in:\n{err}");
    }
    let overlay: serde_json::Value = serde_json::from_slice(&std::fs::read(PathBuf::from(&runs).join("synthetic/catalog/overlay.json")).unwrap()).unwrap();
    assert_eq!(overlay["added"].as_array().unwrap().len(), 1);
    assert_eq!(overlay["version"], 1);

    // Removed: never recommended again, for any method; unknown ids are refused.
    let remove = |ids: &[&str]| {
        let mut a = vec!["items", "remove", "--dataset", "synthetic", "--ids", "rqkmeans", "--runs", &runs];
        a.extend_from_slice(ids);
        specgr(&a, "")
    };
    let out = remove(&["fresh", "nope"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no item `nope` in the catalog; nothing was removed"));
    let out = remove(&["fresh", &keys[4]]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for method in ["semantic-knn", "specgr-knn", "unisrec", "tiger", "tiger-c", "specgr-aux", "specgr-pp", "specgr-pp-drafter"] {
        let listed = items(&recommend_args(&runs, method, "5"));
        assert!(!listed.contains(&"fresh".to_string()) && !listed.contains(&keys[4]), "{method}: {listed:?}");
        // TIGER's beams are constrained to the live items: still K of them (before,
        // beams could end on removed items, dropped afterwards, leaving fewer than K).
        assert_eq!(listed.len(), 5, "{method}: {listed:?}");
    }
    // Sharper: remove every item TIGER's 10 beams end on. With the full trie its
    // beams ended on the same ten again and nothing was left to answer.
    let top = items(&recommend_args(&runs, "tiger", "10"));
    assert_eq!(top.len(), 10, "{top:?}");
    let out = remove(&top.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed = items(&recommend_args(&runs, "tiger", "5"));
    assert!(listed.len() == 5 && listed.iter().all(|i| !top.contains(i)), "{listed:?} after removing {top:?}");
    let out = specgr(&add, &serde_json::json!({"id": "fresh", "text": "Back.", "embedding": embeddings.row(4)}).to_string());
    assert!(String::from_utf8_lossy(&out.stderr).contains("removed ids are not reused"));
    // A text to embed and no encoder at hand: refused with what to do, nothing panics.
    let out = Command::new(BIN)
        .args(add)
        .env_remove("SPECGR_DATA")
        .env("SPECGR_MODELS", tmp.path().join("no-models"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(br#"{"id": "texty", "text": "Only a text."}"#)?;
            c.wait_with_output()
        })
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("loading the sentence encoder from") && err.contains("`--encoder DIR`"), "{err}");
    // An overlay on other embeddings is refused, naming both.
    let emb = PathBuf::from(&runs).join("synthetic/embeddings/embeddings.safetensors");
    let flipped: Vec<f32> = embeddings.as_slice().iter().map(|x| -x).collect();
    text_encoder::Embeddings::new(embeddings.dim(), flipped).unwrap().save(&emb, Default::default()).unwrap();
    let out = specgr(&knn, "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("overlay.json extends embeddings with SHA-256") && err.contains("Move it aside"), "{err}");
}

/// `--method specgr-pp-drafter` (the SpecGR++ drafter alone) lists exactly the items a
/// brute-force cosine ranking gives: every item's vector recomputed from the model
/// (`embed_all_items`, not the checkpoint's saved table), the history's vector from
/// the encoder and head, all pairs scored, the best K taken.
#[test]
fn the_specgr_pp_drafter_alone_is_the_brute_force_cosine_top_k() {
    let runs = trained_run();
    let device = Default::default();
    let needs = Needs { specgr_pp: true, ..Needs::default() };
    let served = Served::<B>::open(&dataset_args(), runs, ids(), gr_model::TigerPreset::Tiny, needs, &device).unwrap();
    let pp_best = bench::cmd::specgr_pp::best_checkpoint(&recdata::RunDir::new(runs, "synthetic"), ids(), gr_model::TigerPreset::Tiny);
    let pp = gr_model::SpecGrPp::<B>::load(&pp_best, &device).unwrap();
    let all = pp.embed_all_items(served.resources.ids(), 64, &device).unwrap();
    let keys = dataset().catalog.keys().to_vec();
    let runs_text = runs.display().to_string();
    let k = 7;
    for history in [vec![0usize, 1], vec![5], vec![2, 3, 4, 9, 11]] {
        let history_ids: Vec<u32> = history.iter().map(|&i| served.item(&keys[i]).unwrap().0).collect();
        let encoded = pp.tiger.encode(&[history_ids.as_slice()], served.resources.ids(), &device).unwrap();
        let query = normalised(&pp.query_vectors(&encoded).unwrap()[0]);
        let mut scored: Vec<(u32, f32)> = (0..all.num_items as u32)
            .map(|item| (item, normalised(all.row(item as usize)).iter().zip(&query).map(|(a, b)| a * b).sum()))
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        let line = serde_json::json!({"history": history.iter().map(|&i| &keys[i]).collect::<Vec<_>>()}).to_string();
        let answer = json_lines(&ok(&recommend_args(&runs_text, "specgr-pp-drafter", &k.to_string()), &line));
        let listed = answer[0]["items"].as_array().unwrap();
        assert_eq!(listed.len(), k, "{answer:?}");
        for (rank, (got, (item, score))) in listed.iter().zip(&scored).enumerate() {
            assert_eq!(got["item"].as_str().unwrap(), served.key(ItemId(*item)), "rank {rank} for history {history:?}");
            let got_score = got["score"].as_f64().unwrap() as f32;
            assert!((got_score - score).abs() < 1e-4, "rank {rank}: score {got_score} vs brute force {score}");
        }
    }
}

/// `--drafter-popularity-prior W`: the SpecGR++ drafter ranks by the brute-force
/// `cos + W·ln(1 + n)`, `n` the training examples that target the item; `specgr eval`
/// names the prior in its report's settings, and refuses a weight that is not finite.
#[test]
fn a_popularity_prior_on_the_specgr_pp_drafter_is_the_brute_force_ranking() {
    let runs = trained_run();
    let device = Default::default();
    let needs = Needs { specgr_pp: true, ..Needs::default() };
    let mut served = Served::<B>::open(&dataset_args(), runs, ids(), gr_model::TigerPreset::Tiny, needs, &device).unwrap();
    let mut counts = std::collections::HashMap::new();
    for e in &served.run.split.train {
        *counts.entry(e.target).or_insert(0usize) += 1;
    }
    let weight = 0.3f32;
    let prior = drafters::PopularityPrior { weight, counts: counts.clone() };
    served.resources.specgr_pp.as_mut().unwrap().set_popularity_prior(prior).unwrap();
    let pp_best = bench::cmd::specgr_pp::best_checkpoint(&recdata::RunDir::new(runs, "synthetic"), ids(), gr_model::TigerPreset::Tiny);
    let pp = gr_model::SpecGrPp::<B>::load(&pp_best, &device).unwrap();
    let all = pp.embed_all_items(served.resources.ids(), 64, &device).unwrap();
    let k = 9;
    for history in [vec![0u32, 1], vec![5], vec![2, 3, 4, 9, 11]] {
        let encoded = pp.tiger.encode(&[history.as_slice()], served.resources.ids(), &device).unwrap();
        let query = pp.query_vectors(&encoded).unwrap().remove(0);
        let mut scored: Vec<(u32, f32)> = (0..all.num_items as u32)
            .map(|item| {
                let cos: f32 = normalised(all.row(item as usize)).iter().zip(&normalised(&query)).map(|(a, b)| a * b).sum();
                (item, cos + weight * (counts.get(&ItemId(item)).copied().unwrap_or(0) as f32).ln_1p())
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        let items: Vec<ItemId> = history.iter().map(|&i| ItemId(i)).collect();
        let q = drafters::Query::new(&items).with_vector(&query);
        let drafted = served.resources.specgr_pp().unwrap().drafter.draft(&[q], &[drafters::DraftFilter::all()], k).unwrap().remove(0);
        for (rank, (got, (item, score))) in drafted.iter().zip(&scored).enumerate() {
            assert_eq!(got.item, ItemId(*item), "rank {rank} for history {history:?}");
            assert!((got.score - score).abs() < 1e-4, "rank {rank}: score {} vs brute force {score}", got.score);
        }
    }
    let runs_text = runs.display().to_string();
    let report = tempfile::tempdir().unwrap();
    let report_dir = report.path().join("r").display().to_string();
    let eval = |w: &str, dir: &str| {
        specgr(
            &[
                "eval", "--dataset", "synthetic", "--ids", "rqkmeans", "--preset", "tiny", "--runs", &runs_text, "--part", "valid",
                "--limit", "16", "--k", "10", "--methods", "specgr-pp-drafter", "--drafter-popularity-prior", w, "--report", dir,
            ],
            "",
        )
    };
    let out = eval("0.3", &report_dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(report.path().join("r/results.json")).unwrap()).unwrap();
    assert!(results.to_string().contains("\"drafter_popularity_prior\":0.3"), "{results}");
    let md = std::fs::read_to_string(report.path().join("r/results.md")).unwrap();
    assert!(md.contains("SpecGR++ drafter + 0.3·ln(1 + training count)"), "{md}");
    let out = eval("nan", &report.path().join("n").display().to_string());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--drafter-popularity-prior"), "{err}");
}
