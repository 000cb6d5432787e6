//! Originals on disk, content-addressed by SHA-256.
//!
//! An upload is streamed into a staging file in the same directory tree, hashed on the way,
//! synced, then renamed to `originals/<aa>/<sha256>` and the directory synced, so a row that
//! names a file can only be written after the file is durable. The same content is stored once.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

#[derive(Clone, Debug)]
pub struct FileStore {
    root: PathBuf,
}

/// An upload being written: bytes go to a staging file and through the hash.
pub struct StagedFile {
    path: PathBuf,
    file: tokio::fs::File,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
}

/// Bytes of the start of a file kept in memory for content sniffing.
const HEAD_BYTES: usize = 8 * 1024;

impl FileStore {
    /// Opens (creating) the store under `root`.
    pub async fn open(root: impl Into<PathBuf>) -> anyhow::Result<Self> {
        let root = root.into();
        for dir in ["originals", "staging", "reports"] {
            create_private_dir_all(&root.join(dir)).await?;
        }
        Ok(Self { root })
    }

    /// Starts a new staging file.
    pub async fn stage(&self) -> anyhow::Result<StagedFile> {
        let path = self.root.join("staging").join(crate::ids::new_id("upload"));
        let file = create_private_file(&path).await?;
        Ok(StagedFile { path, file, hasher: Sha256::new(), size: 0, head: Vec::new() })
    }

    /// Relative path (as stored in rows) of the original with this hash.
    pub fn relative_path(sha256: &str) -> String {
        format!("originals/{}/{}", &sha256[..2], sha256)
    }

    /// Absolute path of a stored relative path.
    pub fn absolute(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Moves a finished staging file to its content address and makes the move durable.
    /// Returns the relative path. If the content is already stored, the staging file is dropped.
    pub async fn commit(&self, staged: &StagedFile, sha256: &str) -> anyhow::Result<String> {
        let relative = Self::relative_path(sha256);
        let target = self.root.join(&relative);
        let dir = target.parent().context("content path has a parent")?.to_path_buf();
        create_private_dir_all(&dir).await?;
        if tokio::fs::try_exists(&target).await.unwrap_or(false) {
            remove_quietly(&staged.path).await;
            // Fresh again, so the sweeper of unreferenced originals leaves it to the row
            // about to name it.
            touch(&target).await;
            return Ok(relative);
        }
        tokio::fs::rename(&staged.path, &target)
            .await
            .with_context(|| format!("moving the upload to {}", target.display()))?;
        sync_dir(&dir).await?;
        Ok(relative)
    }

    /// Where the report of an analysis is (`reports/<analysis id>.<extension>`).
    pub fn report_path(&self, analysis_id: &str, extension: &str) -> PathBuf {
        self.root.join("reports").join(format!("{analysis_id}.{extension}"))
    }

    /// Writes a report durably: to a temporary file, synced, renamed into place, directory
    /// synced, so a reader finds the whole report or none.
    pub async fn write_report(&self, analysis_id: &str, extension: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let target = self.report_path(analysis_id, extension);
        let dir = self.root.join("reports");
        let temporary = dir.join(format!(".{analysis_id}.{extension}.{}", crate::ids::new_id("tmp")));
        let mut file = create_private_file(&temporary).await?;
        let written = async {
            file.write_all(bytes).await?;
            file.sync_all().await?;
            tokio::fs::rename(&temporary, &target).await
        }
        .await;
        if let Err(err) = written {
            remove_quietly(&temporary).await;
            return Err(anyhow::Error::new(err).context(format!("writing the report {}", target.display())));
        }
        sync_dir(&dir).await
    }

    /// Relative paths of the originals last written or reused longer than `min_age` ago (the
    /// candidates of the sweeper of unreferenced originals; younger ones may belong to an
    /// upload whose row is not committed yet).
    pub async fn originals_older_than(&self, min_age: std::time::Duration) -> anyhow::Result<Vec<String>> {
        let mut found = Vec::new();
        let mut shards = tokio::fs::read_dir(self.root.join("originals")).await?;
        while let Some(shard) = shards.next_entry().await? {
            let Ok(shard_name) = shard.file_name().into_string() else { continue };
            if !shard.file_type().await.is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let mut files = tokio::fs::read_dir(shard.path()).await?;
            while let Some(file) = files.next_entry().await? {
                let Ok(name) = file.file_name().into_string() else { continue };
                if is_older_than(&file, min_age).await {
                    found.push(format!("originals/{shard_name}/{name}"));
                }
            }
        }
        Ok(found)
    }

    /// Removes a stored file by its relative path (a purged original, a report); a file
    /// already gone is not an error.
    pub async fn remove(&self, relative: &str) -> anyhow::Result<()> {
        anyhow::ensure!(
            !relative.split('/').any(|part| part == ".." || part.is_empty()),
            "not a stored relative path: {relative}"
        );
        match tokio::fs::remove_file(self.root.join(relative)).await {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(anyhow::Error::new(err).context(format!("removing {relative}"))),
        }
    }

    /// Removes an original only if it is still older than `min_age` (an upload of the same
    /// content touches it before naming it in a row). Returns whether it removed it.
    pub async fn remove_if_older_than(&self, relative: &str, min_age: std::time::Duration) -> anyhow::Result<bool> {
        let path = self.root.join(relative);
        let old = tokio::fs::metadata(&path)
            .await
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|elapsed| elapsed > min_age);
        if old {
            self.remove(relative).await?;
        }
        Ok(old)
    }

    /// Removes staging files left by crashed uploads (older than `max_age`).
    pub async fn sweep_staging(&self, max_age: std::time::Duration) -> anyhow::Result<usize> {
        let mut removed = 0;
        let mut entries = tokio::fs::read_dir(self.root.join("staging")).await?;
        while let Some(entry) = entries.next_entry().await? {
            if is_older_than(&entry, max_age).await {
                remove_quietly(&entry.path()).await;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

impl StagedFile {
    pub async fn write(&mut self, chunk: &[u8]) -> anyhow::Result<()> {
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        if self.head.len() < HEAD_BYTES {
            let take = (HEAD_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.file.write_all(chunk).await.context("writing the staging file")
    }

    /// Flushes and syncs the data; returns (sha256 hex, size).
    pub async fn finish(&mut self) -> anyhow::Result<(String, u64)> {
        self.file.flush().await.context("flushing the staging file")?;
        self.file.sync_all().await.context("syncing the staging file")?;
        let sha = hex::encode(self.hasher.clone().finalize());
        Ok((sha, self.size))
    }

    /// The first bytes of the upload (up to 8 KiB).
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Deletes the staging file (upload rejected).
    pub async fn discard(self) {
        remove_quietly(&self.path).await;
    }
}

async fn is_older_than(entry: &tokio::fs::DirEntry, age: std::time::Duration) -> bool {
    entry
        .metadata()
        .await
        .ok()
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|elapsed| elapsed > age)
}

/// Creates `dir` and its missing parents readable by this user only (0700).
pub async fn create_private_dir_all(dir: &Path) -> anyhow::Result<()> {
    let path = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&path)
    })
    .await
    .context("joining a directory creation")?
    .with_context(|| format!("creating {}", dir.display()))
}

/// Creates (truncating) a file readable by this user only (0600).
async fn create_private_file(path: &Path) -> anyhow::Result<tokio::fs::File> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path).await.with_context(|| format!("creating {}", path.display()))
}

async fn touch(path: &Path) {
    let path = path.to_path_buf();
    let _ = tokio::task::spawn_blocking(move || {
        std::fs::File::options().write(true).open(&path).and_then(|f| f.set_modified(std::time::SystemTime::now()))
    })
    .await;
}

async fn remove_quietly(path: &Path) {
    if let Err(err) = tokio::fs::remove_file(path).await {
        if err.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), error = %err, "could not remove a staging file");
        }
    }
}

async fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || std::fs::File::open(&dir).and_then(|d| d.sync_all()))
        .await
        .context("joining the directory sync")?
        .context("syncing the originals directory")
}
