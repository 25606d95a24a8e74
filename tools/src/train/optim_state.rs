//! Optimiser state files that fit the repository's 25 MB limit on a committed file.
//!
//! Adam keeps two moments per parameter, twice the weights in f32: 29.5 MB for the
//! M = 192 model. A state that large could not be committed, so every session on a fresh
//! machine restarted Adam and the run no longer resumed exactly. A state larger than
//! [`PART_BYTES`] is therefore written as consecutive byte ranges `NAME.part1ofN` …
//! `NAME.partNofN` (the burnpack bytes themselves, cut, not re-encoded), and read back by
//! joining them. A state that fits stays one file, `NAME`, as before.

use std::path::{Path, PathBuf};

use burn::optim::ModuleOptimizer;
use burn::tensor::Bytes;

/// The largest file written: under the 25 MB limit, with room to spare.
pub(crate) const PART_BYTES: usize = 24_000_000;

/// Writes `optim`'s state for `path` (see the module docs), replacing whatever layout was
/// there. Each file is written beside its final name and renamed, as the other checkpoint
/// files are.
pub(crate) fn save(optim: &ModuleOptimizer, path: &Path) -> Result<(), String> {
    save_parts(optim, path, PART_BYTES)
}

fn save_parts(optim: &ModuleOptimizer, path: &Path, part_bytes: usize) -> Result<(), String> {
    let bytes = optim.into_bytes().map_err(|e| format!("saving optimiser: {e}"))?;
    let chunks: Vec<&[u8]> =
        if bytes.len() <= part_bytes { vec![&bytes[..]] } else { bytes.chunks(part_bytes).collect() };
    let finals: Vec<PathBuf> = if chunks.len() == 1 {
        vec![path.to_path_buf()]
    } else {
        (1..=chunks.len()).map(|k| part_path(path, k, chunks.len())).collect()
    };
    // `NAME.partKofN.tmp`: `with_extension` would give every part the same name.
    let tmp = |p: &Path| {
        let mut name = p.as_os_str().to_os_string();
        name.push(".tmp");
        PathBuf::from(name)
    };
    for (chunk, f) in chunks.iter().zip(&finals) {
        std::fs::write(tmp(f), chunk).map_err(|e| format!("writing {}: {e}", tmp(f).display()))?;
    }
    // Remove the other layout's files first (any parts, complete or not), so that a reader
    // never sees two layouts.
    let single = path.is_file().then(|| path.to_path_buf());
    let parts = part_files(path)?.into_iter().map(|(_, _, f)| f);
    for stale in single.into_iter().chain(parts).filter(|f| !finals.contains(f)) {
        std::fs::remove_file(&stale).map_err(|e| format!("removing {}: {e}", stale.display()))?;
    }
    for f in &finals {
        std::fs::rename(tmp(f), f).map_err(|e| format!("renaming {}: {e}", f.display()))?;
    }
    Ok(())
}

/// Loads the state written by [`save`] for `path` into `optim`: the one file `path`, or all
/// of its parts. A missing part, parts of two different counts, or a file and parts side by
/// side are errors, not a silently truncated state.
pub(crate) fn load(optim: ModuleOptimizer, path: &Path) -> Result<ModuleOptimizer, String> {
    let files = existing_layout(path)?;
    let parts = files.iter().filter(|f| f.as_path() != path).count();
    let bytes = match (path.is_file(), parts) {
        (true, 0) => std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?,
        (true, _) => {
            return Err(format!(
                "{} exists beside its .partKofN files: remove the stale layout",
                path.display()
            ));
        }
        (false, 0) => return Err(format!("{}: no such file (nor any .partKofN of it)", path.display())),
        (false, _) => {
            let mut all = Vec::new();
            for f in &files {
                all.extend(std::fs::read(f).map_err(|e| format!("reading {}: {e}", f.display()))?);
            }
            all
        }
    };
    optim.from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| format!("loading {}: {e}", path.display()))
}

fn part_path(path: &Path, k: usize, n: usize) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".part{k}of{n}"));
    path.with_file_name(name)
}

/// The files that now hold the state for `path`: `path` itself if present, then its parts
/// in order. Parts must be one complete set `1ofN` … `NofN`.
fn existing_layout(path: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    if path.is_file() {
        files.push(path.to_path_buf());
    }
    let mut found = part_files(path)?;
    if found.is_empty() {
        return Ok(files);
    }
    found.sort_unstable();
    let n = found[0].1;
    if found.iter().any(|&(_, m, _)| m != n) || found.len() != n {
        return Err(format!(
            "{}: the parts {} are not one complete set of {n}",
            path.display(),
            found.iter().map(|(k, m, _)| format!("{k}of{m}")).collect::<Vec<_>>().join(", ")
        ));
    }
    files.extend(found.into_iter().map(|(_, _, f)| f));
    Ok(files)
}

/// Every `NAME.partKofN` beside `path`, as `(K, N, file)`, in no particular order. A file
/// that starts `NAME.part` but is not named so is an error: it may be a part renamed by hand.
fn part_files(path: &Path) -> Result<Vec<(usize, usize, PathBuf)>, String> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Ok(Vec::new());
    };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let prefix = format!("{name}.part");
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(found) };
    for entry in entries.flatten() {
        let file = entry.file_name();
        // Skip a part being written (or left by an interrupted save): only renamed parts count.
        let Some(rest) = file.to_str().filter(|f| !f.ends_with(".tmp")).and_then(|f| f.strip_prefix(&prefix))
        else {
            continue;
        };
        let parsed = rest.split_once("of").and_then(|(k, n)| Some((k.parse().ok()?, n.parse().ok()?)));
        match parsed {
            Some((k, n)) if k >= 1 && k <= n => found.push((k, n, dir.join(&file))),
            _ => return Err(format!("{}: not a part name (NAME.partKofN)", dir.join(&file).display())),
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::optim::GradientsParams;
    use burn::tensor::Device;
    use lic_models::net::ImageModel;

    /// An Adam state with moments in it: one step of the prior's auxiliary loss on a tiny
    /// model.
    fn stepped() -> ModuleOptimizer {
        let device = Device::flex().autodiff();
        let config = crate::train::test_util::tiny_config();
        let model = ImageModel::new(&config, &device);
        let mut optim = super::super::adam().init();
        let grads = GradientsParams::from_grads(model.prior.aux_loss().backward(), &model);
        let _ = optim.step(1e-3, model, grads);
        optim
    }

    fn state(optim: &ModuleOptimizer) -> Vec<u8> {
        optim.into_bytes().expect("serialise").to_vec()
    }

    #[test]
    fn a_large_state_is_split_and_joined_exactly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("checkpoint.optim.bin");
        let optim = stepped();
        let want = state(&optim);
        assert!(want.len() >= 300, "the test state is too small to split: {} bytes", want.len());
        let part = want.len() / 3 + 1; // three parts
        save_parts(&optim, &path, part).expect("save");
        assert!(!path.exists(), "a split state leaves no single file");
        for k in 1..=3 {
            let p = part_path(&path, k, 3);
            assert!(std::fs::metadata(&p).expect("part").len() as usize <= part, "{}", p.display());
        }
        let back = load(super::super::adam().init(), &path).expect("load");
        assert_eq!(state(&back), want);

        // Saving a state that fits replaces the parts with one file, and it loads the same.
        save_parts(&optim, &path, usize::MAX).expect("save whole");
        assert!(path.is_file() && !part_path(&path, 1, 3).exists());
        assert_eq!(state(&load(super::super::adam().init(), &path).expect("load whole")), want);
    }

    /// The error of a load that must fail (`ModuleOptimizer` has no `Debug` for `expect_err`).
    fn refused(r: Result<ModuleOptimizer, String>, what: &str) -> String {
        match r {
            Ok(_) => panic!("{what}: accepted"),
            Err(e) => e,
        }
    }

    #[test]
    fn missing_mixed_or_stale_parts_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("temporal.optim.bin");
        let fresh = || super::super::adam().init();
        let err = refused(load(fresh(), &path), "nothing there");
        assert!(err.contains("no such file"), "{err}");

        let optim = stepped();
        let part = state(&optim).len() / 3 + 1;
        save_parts(&optim, &path, part).expect("save");
        std::fs::remove_file(part_path(&path, 2, 3)).expect("remove a part");
        let err = refused(load(fresh(), &path), "a part missing");
        assert!(err.contains("complete set"), "{err}");

        save_parts(&optim, &path, part).expect("save again");
        std::fs::write(&path, b"stale").expect("a stale single file");
        let err = refused(load(fresh(), &path), "two layouts");
        assert!(err.contains("beside"), "{err}");
    }
}
