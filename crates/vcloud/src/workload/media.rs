//! [`MediaHandle`]: an ISO or floppy image in a catalog (vCD `Media`).

use nebulair_core::Result;

use super::catalog::CatalogHandle;
use super::error::WorkloadError;
use super::id::{EntityKind, Locator};
use super::ops::{Pending, Workloads};
use super::{Core, pick};
use crate::client::ApiRequest;
use crate::model::vcd::Media;

/// A media (ISO or floppy image), by id, or by name among the items of a catalog. See
/// [`CatalogHandle::media`].
#[derive(Debug, Clone)]
pub struct MediaHandle {
    pub(crate) core: Core,
    catalog: Option<CatalogHandle>,
}

impl MediaHandle {
    pub(crate) fn known(ws: Workloads, href: String, name: Option<String>) -> Self {
        MediaHandle {
            core: Core::known(ws, EntityKind::Media, href, name),
            catalog: None,
        }
    }

    pub(crate) fn in_catalog(ws: Workloads, loc: Locator, catalog: CatalogHandle) -> Self {
        MediaHandle {
            core: Core::new(ws, loc, EntityKind::Media),
            catalog: Some(catalog),
        }
    }

    /// The name the handle was made with or listed with.
    pub fn name(&self) -> Option<String> {
        self.core.name()
    }

    /// The media's href (looking a name up among its catalog's items the first time).
    ///
    /// # Errors
    /// [`WorkloadError::NotFound`] / [`WorkloadError::Ambiguous`] for a name (only media
    /// items count); request errors.
    pub async fn href(&self) -> Result<String> {
        let catalog = self.catalog.clone();
        self.core
            .href(|name| async move {
                let Some(catalog) = catalog else {
                    return Err(WorkloadError::NotFound {
                        kind: EntityKind::Media,
                        name,
                        scope: None,
                    }
                    .into());
                };
                let cands = catalog.media_candidates().await?;
                let scope = catalog.name().map(|n| format!("catalog {n:?}"));
                Ok(pick(EntityKind::Media, &name, scope, cands)?.href)
            })
            .await
    }

    /// The Media document (with `Files` while it is uploaded or offered for download).
    ///
    /// # Errors
    /// As [`href`](Self::href); request and decoding errors.
    pub async fn get(&self) -> Result<Media> {
        let href = self.href().await?;
        self.core.ws.get_document(&href).await
    }

    /// Deletes the media and its catalog item (vCD refuses while it is inserted in a VM).
    pub fn delete(&self) -> Pending {
        let me = self.clone();
        Pending::new(&self.core.ws, async move {
            let href = me.href().await?;
            me.core.ws.submit_task(ApiRequest::delete(href)).await
        })
    }

    /// Makes the media's file downloadable (`action/enableDownload`); a task.
    pub fn enable_download(&self) -> Pending {
        let me = self.clone();
        Pending::new(&self.core.ws, async move {
            let href = me.href().await?;
            me.core
                .ws
                .submit_task(ApiRequest::post(format!(
                    "{}/action/enableDownload",
                    href.trim_end_matches('/')
                )))
                .await
        })
    }

    /// Whether the media is ready (`status="1"`: its upload has finished).
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn is_ready(&self) -> Result<bool> {
        Ok(self.get().await?.status == Some(1))
    }
}
