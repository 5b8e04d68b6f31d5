//! Fit and encode timings of the three semantic-ID methods on synthetic matrices.
//!
//! ```text
//! cargo bench -p semid --bench fit -- [--sizes 12000x384,100000x768] [--methods rqkmeans,hkmeans,rqvae]
//!                                     [--rqvae-epochs 1] [--seed 42]
//! ```
//! The synthetic rows are unit vectors around 2000 random unit centres (a rough
//! stand-in for sentence embeddings). 90% of the rows are fitted; encode throughput
//! is measured on the remaining 10% as new items, one batched call.

use std::time::Instant;

use semid::{EmbeddingMatrix, FitConfig, Method, Quantizer, kmeans};

type Inner = burn::backend::Flex;
type Train = burn::backend::Autodiff<Inner>;

fn splitmix(state: &mut u64) -> f64 {
    (recdata::rng::splitmix64(state) >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

fn normalize(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= n);
}

fn synthetic(rows: usize, dim: usize, seed: u64) -> EmbeddingMatrix {
    let mut s = seed;
    let centres: Vec<Vec<f32>> = (0..2000)
        .map(|_| {
            let mut c: Vec<f32> = (0..dim).map(|_| splitmix(&mut s) as f32).collect();
            normalize(&mut c);
            c
        })
        .collect();
    let mut data = Vec::with_capacity(rows * dim);
    for _ in 0..rows {
        let c = &centres[((splitmix(&mut s) + 1.0) / 2.0 * 1999.0) as usize];
        let mut row: Vec<f32> = c
            .iter()
            .map(|&x| x + 0.6 * splitmix(&mut s) as f32 / (dim as f32).sqrt())
            .collect();
        normalize(&mut row);
        data.extend(row);
    }
    EmbeddingMatrix::new(data, dim).expect("finite synthetic data")
}

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.into())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sizes = arg(&args, "--sizes", "12000x384,100000x768");
    let methods = arg(&args, "--methods", "rqkmeans,hkmeans,rqvae");
    let epochs: usize = arg(&args, "--rqvae-epochs", "1")
        .parse()
        .expect("--rqvae-epochs");
    let seed: u64 = arg(&args, "--seed", "42").parse().expect("--seed");
    let device = Default::default();
    for size in sizes.split(',') {
        let (rows, dim) = size.split_once('x').expect("--sizes ROWSxDIM");
        let (rows, dim): (usize, usize) = (rows.parse().unwrap(), dim.parse().unwrap());
        let x = synthetic(rows, dim, seed);
        let fitted = rows * 9 / 10;
        let mask: Vec<bool> = (0..rows).map(|i| i < fitted).collect();
        println!("== {rows} x {dim}, fitted {fitted}, K = 256, seed {seed}");

        // Nearest-centroid search, the k-means inner loop: plain loops vs one backend matmul.
        let centroids = x.as_slice()[..256 * dim].to_vec();
        let block = &x.as_slice()[..rows.min(12000) * dim];
        let t = Instant::now();
        let (a, _) = kmeans::nearest_host(block, dim, &centroids);
        let host = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let (b, _) = kmeans::nearest::<Inner>(block, dim, &centroids, &device);
        let flex = t.elapsed().as_secs_f64();
        let agree = a.iter().zip(&b).filter(|(p, q)| p == q).count() as f64 / a.len() as f64;
        println!(
            "nearest of {} rows among 256: plain loops {host:.3} s, Flex matmul {flex:.3} s ({:.1}x), agreement {:.4}",
            block.len() / dim,
            host / flex,
            agree
        );

        for method in methods.split(',') {
            let method: Method = method.parse().expect("--methods");
            let mut config = FitConfig::new(method);
            config.seed = seed;
            // Timing only: a short RQ-VAE run can leave large collision groups, so the
            // identification digit is made wide enough for any grouping.
            config.id_size = Some(rows);
            config.rqvae_train = config.rqvae_train.clone().with_epochs(epochs);
            let t = Instant::now();
            let (model, report) = semid::fit::<Train>(&config, &x, &mask, &device, &mut |p| {
                if let semid::FitProgress::Epoch(e) = p {
                    println!(
                        "  epoch {}/{}: recon {:.5} commit {:.5}",
                        e.epoch, e.epochs, e.reconstruction, e.commitment
                    );
                }
            })
            .expect("fit");
            let total = t.elapsed().as_secs_f64();
            let new_rows =
                EmbeddingMatrix::new(x.as_slice()[fitted * dim..].to_vec(), dim).unwrap();
            let t = Instant::now();
            let codes = model.quantizer.encode(&new_rows).expect("encode");
            let enc = t.elapsed().as_secs_f64();
            assert_eq!(codes.len(), new_rows.rows() * 3);
            println!("{report}");
            println!(
                "  {method}: fit {:.2} s (total with encoding and report {total:.2} s); encode {} new items in {enc:.3} s = {:.0} items/s",
                report.fit_seconds,
                new_rows.rows(),
                new_rows.rows() as f64 / enc
            );
            if method == Method::RqVae {
                println!(
                    "  (RQ-VAE fit time is for {epochs} epoch(s) plus the k-means initialisation)"
                );
            }
        }
    }
}
