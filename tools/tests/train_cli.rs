//! `lic train`: a tiny run, interrupted and resumed, ends exactly where an uninterrupted run
//! does; bad configs are clear errors.

use std::path::Path;

use assert_cmd::Command;

fn lic() -> Command {
    Command::cargo_bin("lic").expect("lic binary is built")
}

fn write_config(dir: &Path, out: &Path, data: &Path) -> std::path::PathBuf {
    write_config_with(dir, out, data, "")
}

/// A tiny run's config with `extra` lines at the top level.
fn write_config_with(dir: &Path, out: &Path, data: &Path, extra: &str) -> std::path::PathBuf {
    let config = format!(
        r#"seed = 7
datasets = ["{}"]
out = "{}"
patch = 64
batch = 2
steps = 100
validate_every = 0
{extra}
[model]
n = 8
m = 16
z_channels = 8
slices = [4, 4, 8]
context_hidden = 8
"#,
        data.display(),
        out.display()
    );
    let path = dir.join(format!("{}.toml", out.file_name().and_then(|n| n.to_str()).unwrap_or("run")));
    std::fs::write(&path, config).expect("config");
    path
}

/// Three small synthetic training images in `dir/images`.
fn tiny_dataset(dir: &Path) -> std::path::PathBuf {
    let data = dir.join("images");
    std::fs::create_dir(&data).expect("mkdir");
    for i in 0..3u32 {
        image::RgbImage::from_fn(80, 72, |x, y| {
            image::Rgb([(x * 3 + i * 40) as u8, (y * 3) as u8, ((x ^ y) * 2) as u8])
        })
        .save(data.join(format!("{i}.png")))
        .expect("write");
    }
    data
}

/// Exports `config`'s checkpoint to `dir/name` and returns the file's bytes.
fn export(dir: &Path, config: &Path, name: &str) -> Vec<u8> {
    let path = dir.join(name);
    lic().args(["train", "--config"]).arg(config).arg("--export").arg(&path).assert().success();
    std::fs::read(&path).expect("export")
}

#[test]
fn resumed_training_matches_uninterrupted_training() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = tiny_dataset(dir.path());
    let straight = write_config(dir.path(), &dir.path().join("straight"), &data);
    let resumed = write_config(dir.path(), &dir.path().join("resumed"), &data);
    lic().args(["train", "--config"]).arg(&straight).args(["--max-steps", "3"]).assert().success();
    lic().args(["train", "--config"]).arg(&resumed).args(["--max-steps", "2"]).assert().success();
    lic().args(["train", "--config"]).arg(&resumed).args(["--max-steps", "1"]).assert().success();
    // Checkpoints embed per-process parameter ids, so compare the exported weights instead.
    let (a, b) =
        (export(dir.path(), &straight, "a.safetensors"), export(dir.path(), &resumed, "b.safetensors"));
    assert!(a == b, "resumed run diverged from the uninterrupted one");
    let log = std::fs::read_to_string(dir.path().join("resumed").join("train.csv")).expect("log");
    assert_eq!(log.lines().count(), 1 + 3, "{log}");
    // Started over, a run logs its own steps only.
    let restarted = write_config(dir.path(), &dir.path().join("restarted"), &data);
    lic().args(["train", "--config"]).arg(&restarted).args(["--max-steps", "2"]).assert().success();
    lic()
        .args(["train", "--config"])
        .arg(&restarted)
        .args(["--max-steps", "1", "--restart"])
        .assert()
        .success();
    let log = std::fs::read_to_string(dir.path().join("restarted").join("train.csv")).expect("log");
    assert_eq!(log.lines().count(), 1 + 1, "{log}");

    // Export makes a loadable model that codes an image.
    let exported = dir.path().join("tiny.safetensors");
    lic().args(["train", "--config"]).arg(&resumed).arg("--export").arg(&exported).assert().success();
    let coded = dir.path().join("x.lic");
    lic()
        .arg("encode")
        .arg(data.join("0.png"))
        .arg("-o")
        .arg(&coded)
        .arg("--model")
        .arg(&exported)
        .assert()
        .success();
    lic()
        .arg("decode")
        .arg(&coded)
        .arg("-o")
        .arg(dir.path().join("x.png"))
        .arg("--model")
        .arg(&exported)
        .assert()
        .success();
    // Without `--model` no embedded model matches a file made with the tiny one.
    let out = lic().arg("decode").arg(&coded).arg("-o").arg(dir.path().join("y.png")).assert().failure();
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("does not embed"));

    // A new run with another slicing starts from the trained transforms (the slicing
    // ablation's setup), and only when the parameters it keeps all fit.
    let from = |name: &str, slices: &str, fresh: &str| {
        let text = std::fs::read_to_string(&resumed)
            .expect("config")
            .replace("slices = [4, 4, 8]", &format!("slices = {slices}"))
            .replace(
                &format!("out = \"{}\"", dir.path().join("resumed").display()),
                &format!(
                    "out = \"{}\"\ninit_from = \"{}\"\n{fresh}",
                    dir.path().join(name).display(),
                    dir.path().join("resumed").display()
                ),
            );
        let path = dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, text).expect("config");
        lic().args(["train", "--config"]).arg(&path).args(["--max-steps", "1"]).assert()
    };
    let out = from("even", "[4, 4, 4, 4]", "init_fresh = [\"slice_params\", \"slice_lrp\"]").success();
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("starting from"));
    let out = from("unfit", "[4, 4, 4, 4]", "").failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("does not fit") && !err.contains("panicked"), "{err}");
}

/// With `ema`, the run keeps a moving average of its weights in its checkpoint, resumes it
/// exactly, and ships it: the export is the average, not the last step's weights.
#[test]
fn weights_average_resumes_exactly_and_is_what_ships() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = tiny_dataset(dir.path());
    let config =
        |name: &str, extra: &str| write_config_with(dir.path(), &dir.path().join(name), &data, extra);
    let (straight, resumed, plain) =
        (config("straight", "ema = 0.5"), config("resumed", "ema = 0.5"), config("plain", ""));
    let out = lic().args(["train", "--config"]).arg(&straight).args(["--max-steps", "3"]).assert().success();
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("weights average starts at step 0"));
    assert!(dir.path().join("straight").join("checkpoint.ema.bpk").is_file());
    lic().args(["train", "--config"]).arg(&resumed).args(["--max-steps", "2"]).assert().success();
    let out = lic().args(["train", "--config"]).arg(&resumed).args(["--max-steps", "1"]).assert().success();
    assert!(!String::from_utf8_lossy(&out.get_output().stderr).contains("weights average starts"));
    lic().args(["train", "--config"]).arg(&plain).args(["--max-steps", "3"]).assert().success();

    let (a, b) =
        (export(dir.path(), &straight, "a.safetensors"), export(dir.path(), &resumed, "b.safetensors"));
    assert!(a == b, "the resumed average diverged from the uninterrupted one");
    // Same seed and steps without the average: the same trained weights, so the exports
    // differ only because one ships the average.
    assert!(export(dir.path(), &plain, "c.safetensors") != a, "the export is not the average");

    // Turning the average off removes it, so a later export cannot ship a stale one.
    let off = std::fs::read_to_string(&resumed).expect("config").replace("ema = 0.5", "");
    std::fs::write(&resumed, off).expect("config");
    lic().args(["train", "--config"]).arg(&resumed).args(["--max-steps", "1"]).assert().success();
    assert!(!dir.path().join("resumed").join("checkpoint.ema.bpk").exists());
}

#[test]
fn bad_configs_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "out = \"x\"\nsteps = 10\nbogus = 1\n[model]\nn = 8\nm = 16\nz_channels = 8\nslices = [4, 4, 8]\ncontext_hidden = 8\n").expect("write");
    let out = lic().args(["train", "--config"]).arg(&bad).assert().failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("bogus") && !err.contains("panicked"), "{err}");
    std::fs::write(&bad, "out = \"x\"\nsteps = 10\n[model]\nn = 8\nm = 16\nz_channels = 8\nslices = [4, 4]\ncontext_hidden = 8\n").expect("write");
    let out = lic().args(["train", "--config"]).arg(&bad).assert().failure();
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("do not partition"));
}

/// Every tensor of a weights file by name, as raw bytes.
fn tensors(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let file = safetensors::SafeTensors::deserialize(bytes).expect("safetensors");
    file.tensors().into_iter().map(|(name, view)| (name, view.data().to_vec())).collect()
}

/// `train_only` trains one side of the model from a run's average and leaves every tensor of
/// the other side bit for bit as it was, so a synthesis fine-tune keeps every file's bits and
/// an encoder fine-tune keeps the decoder.
#[test]
fn partial_training_leaves_the_frozen_side_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = tiny_dataset(dir.path());
    let base = write_config_with(dir.path(), &dir.path().join("base"), &data, "ema = 0.5");
    lic().args(["train", "--config"]).arg(&base).args(["--max-steps", "2"]).assert().success();
    let shipped = tensors(&export(dir.path(), &base, "base.safetensors"));
    let from = format!("init_from = \"{}\"\ninit_average = true\n", dir.path().join("base").display());

    // The synthesis grows a residual block and trains alone.
    let config = write_config_with(
        dir.path(),
        &dir.path().join("synthesis"),
        &data,
        &format!("{from}train_only = \"synthesis\"\ninit_fresh = [\"g_s.blocks\"]"),
    );
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, text.replace("context_hidden = 8", "context_hidden = 8\nsynthesis_blocks = [1]"))
        .expect("config");
    lic().args(["train", "--config"]).arg(&config).args(["--max-steps", "2"]).assert().success();
    let grown = tensors(&export(dir.path(), &config, "synthesis.safetensors"));
    let decoder_side = |name: &str| name.starts_with("g_s.") || name == "log_inv_gain";
    for (name, bytes) in &shipped {
        if !decoder_side(name) {
            assert!(grown.get(name) == Some(bytes), "{name} changed in a synthesis-only run");
        }
    }
    assert!(shipped.iter().any(|(name, bytes)| decoder_side(name) && grown.get(name) != Some(bytes)));
    assert!(grown.keys().any(|name| name.starts_with("g_s.blocks.")), "no residual block in the file");

    // The encoder trains alone: the decoder's networks, prior tables included, stay.
    let config = write_config_with(
        dir.path(),
        &dir.path().join("encoder"),
        &data,
        &format!("{from}train_only = \"encoder\""),
    );
    lic().args(["train", "--config"]).arg(&config).args(["--max-steps", "2"]).assert().success();
    let tuned = tensors(&export(dir.path(), &config, "encoder.safetensors"));
    let encoder_side =
        |name: &str| name.starts_with("g_a.") || name.starts_with("h_a.") || name == "log_gain";
    for (name, bytes) in &shipped {
        if !encoder_side(name) {
            assert!(tuned.get(name) == Some(bytes), "{name} changed in an encoder-only run");
        }
    }
    assert!(shipped.iter().any(|(name, bytes)| encoder_side(name) && tuned.get(name) != Some(bytes)));

    // The context model grows a checkerboard and trains alone: transforms, hyperprior, latent
    // residual prediction and gains stay, so temporal networks trained on them stay valid.
    let config = write_config_with(
        dir.path(),
        &dir.path().join("context"),
        &data,
        &format!("{from}train_only = \"context\"\ninit_fresh = [\"slice_spatial\"]"),
    );
    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, text.replace("context_hidden = 8", "context_hidden = 8\ncheckerboard = true"))
        .expect("config");
    lic().args(["train", "--config"]).arg(&config).args(["--max-steps", "2"]).assert().success();
    let tuned = tensors(&export(dir.path(), &config, "context.safetensors"));
    let context = |name: &str| name.starts_with("slice_params.") || name.starts_with("slice_spatial.");
    for (name, bytes) in &shipped {
        if !context(name) {
            assert!(tuned.get(name) == Some(bytes), "{name} changed in a context-only run");
        }
    }
    assert!(shipped.iter().any(|(name, bytes)| context(name) && tuned.get(name) != Some(bytes)));
    assert!(tuned.keys().any(|name| name.starts_with("slice_spatial.")), "no spatial network in the file");
}
