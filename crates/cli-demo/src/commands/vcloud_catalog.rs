//! `nebulair vcloud catalog|media|template ...`: catalogs of the org (list, show, create,
//! delete), and uploads into / downloads from them: ISO and floppy media, OVF packages
//! and OVAs as vApp templates, in resumable chunks with a progress bar.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use nebulair_vcloud::VcdClient;
use nebulair_vcloud::workload::{CatalogHandle, TransferOptions, TransferProgress, UploadReport};
use serde::Serialize;

use crate::Ctx;
use crate::commands::common::{io_failure, print_deleted};
use crate::output::{Table, key_values};
use crate::report::{Context as _, Failure};

const MIB: u64 = 1024 * 1024;

/// The catalog commands.
#[derive(Debug, Subcommand)]
pub(crate) enum CatalogSub {
    /// The catalogs of the org.
    List,
    /// One catalog and its items.
    Show {
        /// The catalog (name or id).
        catalog: String,
    },
    /// Create an empty catalog.
    Create {
        /// Its name.
        name: String,
        /// A description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Delete a catalog (one that holds items only with --recursive).
    Delete {
        /// The catalog (name or id).
        catalog: String,
        /// Delete its templates and media too.
        #[arg(long)]
        recursive: bool,
    },
}

/// Options shared by uploads and downloads.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct TransferArgs {
    /// The catalog (name or id).
    #[arg(long)]
    catalog: String,
    /// Chunk size in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 50)]
    chunk_mb: u64,
    /// How often a failed chunk is retried.
    #[arg(long, value_name = "N", default_value_t = 5)]
    retries: u32,
    /// No progress bar, even on a terminal.
    #[arg(long)]
    no_progress: bool,
}

/// The media commands.
#[derive(Debug, Subcommand)]
pub(crate) enum MediaSub {
    /// Upload an ISO (.iso) or floppy image (.flp, .img, .vfd); an interrupted upload of
    /// the same name is continued where the server stopped.
    Upload {
        /// The file.
        file: PathBuf,
        #[command(flatten)]
        transfer: TransferArgs,
        /// The item name (default: the file name).
        #[arg(long)]
        name: Option<String>,
        /// A description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Download a media to a file.
    Download {
        /// The media item's name.
        name: String,
        #[command(flatten)]
        transfer: TransferArgs,
        /// The file to write (default: the item name).
        #[arg(long, value_name = "FILE")]
        to: Option<PathBuf>,
    },
}

/// The vApp template commands.
#[derive(Debug, Subcommand)]
pub(crate) enum TemplateSub {
    /// Upload an OVA (.ova) or an OVF package (.ovf with its files beside it); manifest
    /// (.mf) digests are checked; an interrupted upload of the same name is continued.
    Upload {
        /// The .ova or .ovf file.
        file: PathBuf,
        #[command(flatten)]
        transfer: TransferArgs,
        /// The item name (default: the file name without its extension).
        #[arg(long)]
        name: Option<String>,
        /// A description.
        #[arg(long, default_value = "")]
        description: String,
        /// Do not check the manifest's digests.
        #[arg(long)]
        no_verify: bool,
    },
    /// Download a vApp template as an OVA.
    Download {
        /// The template item's name.
        name: String,
        #[command(flatten)]
        transfer: TransferArgs,
        /// The OVA to write (default: `<name>.ova`).
        #[arg(long, value_name = "FILE")]
        to: Option<PathBuf>,
    },
}

/// A catalog as listed.
#[derive(Debug, Serialize)]
struct CatalogRow {
    name: String,
    href: String,
    items: usize,
    published: bool,
    description: String,
}

/// A catalog item as shown.
#[derive(Debug, Serialize)]
struct ItemRow {
    name: String,
    kind: &'static str,
    href: String,
}

/// An upload's result as printed.
#[derive(Debug, Serialize)]
struct UploadView {
    item: String,
    entity: String,
    bytes: u64,
    resumed_bytes: u64,
    files: usize,
    chunks: u64,
    retries: u64,
    task: Option<String>,
}

fn upload_view(r: &UploadReport) -> UploadView {
    UploadView {
        item: r.item.name().unwrap_or_default(),
        entity: r.entity_href.clone(),
        bytes: r.bytes,
        resumed_bytes: r.resumed_bytes,
        files: r.files,
        chunks: r.chunks,
        retries: r.retries,
        task: r.task.as_ref().map(|t| t.status.to_string()),
    }
}

fn upload_text(v: &UploadView) -> String {
    key_values(&[
        ("item", v.item.clone()),
        ("entity", v.entity.clone()),
        (
            "sent",
            format!("{} bytes in {} chunk(s)", v.bytes, v.chunks),
        ),
        (
            "already on the server",
            format!("{} bytes", v.resumed_bytes),
        ),
        ("files", v.files.to_string()),
        ("retries", v.retries.to_string()),
        ("import task", v.task.clone().unwrap_or_else(|| "-".into())),
    ])
}

/// A byte progress bar on stderr, drawn only when stderr is a terminal.
fn byte_bar(label: &str, hidden: bool) -> Option<ProgressBar> {
    if hidden || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{prefix} [{bar:40.cyan/blue}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {eta} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(label.to_owned());
    bar.enable_steady_tick(Duration::from_millis(150));
    Some(bar)
}

fn options(t: &TransferArgs, bar: Option<ProgressBar>) -> Result<TransferOptions, Failure> {
    if t.chunk_mb == 0 {
        return Err(Failure::new(
            "reading --chunk-mb",
            nebulair_core::Error::invalid_input("the chunk size must be at least 1 MiB"),
        ));
    }
    let mut o = TransferOptions::default()
        .chunk_size(t.chunk_mb.saturating_mul(MIB))
        .chunk_retries(t.retries);
    if let Some(bar) = bar {
        o = o.on_progress(move |p: &TransferProgress| {
            bar.set_length(p.total_bytes.max(p.bytes));
            bar.set_position(p.bytes);
            bar.set_message(format!(
                "{} ({}/{} files)",
                p.file, p.files_done, p.files_total
            ));
            if p.files_total > 0 && p.files_done == p.files_total {
                bar.finish_and_clear();
            }
        });
    }
    Ok(o)
}

async fn catalog_rows(client: &VcdClient) -> Result<Vec<CatalogRow>, Failure> {
    let mut rows = Vec::new();
    for c in client
        .current_org()
        .catalogs()
        .await
        .during("listing the catalogs")?
    {
        let doc = c.get().await.during("reading a catalog")?;
        rows.push(CatalogRow {
            name: doc.name.clone().unwrap_or_default(),
            href: doc.href.clone().unwrap_or_default(),
            items: doc
                .catalog_items
                .as_ref()
                .map_or(0, |i| i.catalog_items.len()),
            published: doc.is_published.unwrap_or(false),
            description: doc.description.clone().unwrap_or_default(),
        });
    }
    Ok(rows)
}

async fn show_catalog(cat: &CatalogHandle, ctx: &Ctx) -> Result<(), Failure> {
    let doc = cat.get().await.during("reading the catalog")?;
    let mut items = Vec::new();
    for item in cat.items().await.during("listing the items")? {
        let d = item.get().await.during("reading an item")?;
        let entity = d.entity.as_deref();
        let kind = match entity.and_then(|e| e.type_.as_deref()) {
            Some(t) if t.contains("vAppTemplate") => "template",
            Some(t) if t.contains("media") => "media",
            _ => "other",
        };
        items.push(ItemRow {
            name: d.name.clone().unwrap_or_default(),
            kind,
            href: entity.and_then(|e| e.href.clone()).unwrap_or_default(),
        });
    }
    let value = serde_json::json!({
        "name": doc.name, "href": doc.href, "description": doc.description,
        "published": doc.is_published, "items": items,
    });
    ctx.printer
        .print(&value, || {
            let mut out = key_values(&[
                ("name", doc.name.clone().unwrap_or_default()),
                ("href", doc.href.clone().unwrap_or_default()),
                ("description", doc.description.clone().unwrap_or_default()),
                ("published", doc.is_published.unwrap_or(false).to_string()),
            ]);
            let mut t = Table::new(["ITEM", "KIND"]);
            for i in &items {
                t.row([i.name.clone(), i.kind.to_owned()]);
            }
            out.push('\n');
            out.push_str(&t.render());
            out
        })
        .map_err(io_failure)
}

/// Runs a catalog command.
pub(crate) async fn catalog(sub: CatalogSub, client: &VcdClient, ctx: Ctx) -> Result<(), Failure> {
    let p = ctx.printer;
    match sub {
        CatalogSub::List => {
            let rows = catalog_rows(client).await?;
            p.print(&rows, || {
                let mut t = Table::new(["NAME", "ITEMS", "PUBLISHED", "DESCRIPTION"]);
                for r in &rows {
                    t.row([
                        r.name.clone(),
                        r.items.to_string(),
                        if r.published { "yes" } else { "no" }.to_owned(),
                        r.description.clone(),
                    ]);
                }
                t.render()
            })
            .map_err(io_failure)
        }
        CatalogSub::Show { catalog } => show_catalog(&client.catalog(catalog.as_str()), &ctx).await,
        CatalogSub::Create { name, description } => {
            let cat = client
                .current_org()
                .create_catalog(&name, &description)
                .await
                .during("creating the catalog")?;
            show_catalog(&cat, &ctx).await
        }
        CatalogSub::Delete { catalog, recursive } => {
            let cat = client.catalog(catalog.as_str());
            let name = cat
                .get()
                .await
                .during("reading the catalog")?
                .name
                .unwrap_or(catalog);
            cat.delete(recursive)
                .await
                .during("deleting the catalog")
                .map_err(|f| {
                    if recursive {
                        f
                    } else {
                        f.hint("a catalog that holds items is deleted with --recursive")
                    }
                })?;
            print_deleted(&p, "catalog", &name)
        }
    }
}

fn default_target(name: &str, ext: Option<&str>) -> PathBuf {
    let base: String = name
        .chars()
        .map(|c| if c == '/' || c == '\\' { '_' } else { c })
        .collect();
    match ext {
        Some(e) if !base.to_ascii_lowercase().ends_with(e) => PathBuf::from(format!("{base}{e}")),
        _ => PathBuf::from(base),
    }
}

fn print_download(ctx: &Ctx, name: &str, to: &Path, bytes: u64) -> Result<(), Failure> {
    let path = to.display().to_string();
    ctx.printer
        .print(
            &serde_json::json!({ "item": name, "file": path, "bytes": bytes }),
            || format!("downloaded {name} to {path} ({bytes} bytes)\n"),
        )
        .map_err(io_failure)
}

/// Runs a media command.
pub(crate) async fn media(sub: MediaSub, client: &VcdClient, ctx: Ctx) -> Result<(), Failure> {
    match sub {
        MediaSub::Upload {
            file,
            transfer,
            name,
            description,
        } => {
            let bar = byte_bar("upload", transfer.no_progress);
            let mut o = options(&transfer, bar.clone())?.description(description);
            if let Some(n) = name {
                o = o.item_name(n);
            }
            let r = client
                .catalog(transfer.catalog.as_str())
                .upload_media(&file, &o)
                .await
                .during("uploading the media")
                .map_err(|f| f.hint("run the same command again to continue where it stopped"))?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            let v = upload_view(&r);
            ctx.printer
                .print(&v, || upload_text(&v))
                .map_err(io_failure)
        }
        MediaSub::Download { name, transfer, to } => {
            let bar = byte_bar("download", transfer.no_progress);
            let o = options(&transfer, bar.clone())?;
            let to = to.unwrap_or_else(|| default_target(&name, None));
            let n = client
                .catalog(transfer.catalog.as_str())
                .media(name.as_str())
                .download(&to, &o)
                .await
                .during("downloading the media")?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            print_download(&ctx, &name, &to, n)
        }
    }
}

/// Runs a vApp template command.
pub(crate) async fn template(
    sub: TemplateSub,
    client: &VcdClient,
    ctx: Ctx,
) -> Result<(), Failure> {
    match sub {
        TemplateSub::Upload {
            file,
            transfer,
            name,
            description,
            no_verify,
        } => {
            let bar = byte_bar("upload", transfer.no_progress);
            let mut o = options(&transfer, bar.clone())?
                .description(description)
                .verify_manifest(!no_verify);
            if let Some(n) = name {
                o = o.item_name(n);
            }
            let cat = client.catalog(transfer.catalog.as_str());
            let is_ovf = file
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("ovf"));
            let r = if is_ovf {
                cat.upload_ovf(&file, &o).await
            } else {
                cat.upload_ova(&file, &o).await
            }
            .during("uploading the template")?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            let v = upload_view(&r);
            ctx.printer
                .print(&v, || upload_text(&v))
                .map_err(io_failure)
        }
        TemplateSub::Download { name, transfer, to } => {
            let bar = byte_bar("download", transfer.no_progress);
            let o = options(&transfer, bar.clone())?;
            let to = to.unwrap_or_else(|| default_target(&name, Some(".ova")));
            let n = client
                .catalog(transfer.catalog.as_str())
                .template(name.as_str())
                .download_ova(&to, &o)
                .await
                .during("downloading the template")?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            print_download(&ctx, &name, &to, n)
        }
    }
}
