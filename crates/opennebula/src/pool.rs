//! Pool filters and pagination.
//!
//! [`PoolFilter`] says whose objects to list ([`Who`]), which id range, and for VMs which
//! state. Pools that oned paginates (VMs, templates, networks, images, security groups, VM
//! groups, virtual routers, network templates, marketplace apps, backup jobs) also have a
//! `stream(..)` method returning a [`futures::Stream`] of typed objects (the item types of
//! [`crate::model`], e.g. [`crate::model::VmPoolVm`]) that fetches pages with
//! `(offset, -page_size)` like the Ruby OCA and stops at the first short page (oned reads
//! an end id of -1 as "no limit", so a page of one cannot be asked for: a page size of 1
//! fetches pages of [`MIN_PAGE_SIZE`], see [`page_end_id`]);
//! `stream_raw(..)` yields each object's XML element instead. To read one large pool answer
//! (a whole `one.vmpool.info`) one object at a time without holding it, see
//! [`crate::rpc::stream`].
//!
//! ```
//! use nebulair_opennebula::ids::UserId;
//! use nebulair_opennebula::pool::{PoolFilter, VmStateFilter, Who};
//!
//! # fn main() -> nebulair_opennebula::Result<()> {
//! let f = PoolFilter::all();
//! assert_eq!(f.who(), Who::All);
//! let f = PoolFilter::user(UserId::new(5)).id_range(10, 20)?.state(VmStateFilter::Any);
//! assert_eq!(f.range(), (10, 20));
//! assert!(PoolFilter::mine().id_range(3, -5).is_err()); // end < -1 would mean "page"
//! # Ok(())
//! # }
//! ```

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::str::FromStr;

use futures::Stream;
use nebulair_core::{Error, Result};
use quick_xml::Reader;
use quick_xml::events::Event;

use crate::api::{
    BackupJobs, Images, MarketApps, SecGroups, Templates, VmGroups, Vms, VnTemplates, Vnets,
    Vrouters, XmlDocument, parse_document,
};
use crate::client::OneClient;
use crate::ids::UserId;
use crate::model;
use crate::rpc::RpcValue;

/// Whose objects a pool call lists (`filter_flag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    /// -3: objects the session user owns.
    Mine,
    /// -1: the user's objects and those of the user's groups.
    MineAndGroups,
    /// -4: objects of the user's primary group.
    Group,
    /// -2: every object the user may see.
    All,
    /// >= 0: objects owned by that user.
    User(UserId),
}

impl Who {
    /// The wire value.
    pub fn code(self) -> i32 {
        match self {
            Who::Mine => -3,
            Who::MineAndGroups => -1,
            Who::Group => -4,
            Who::All => -2,
            Who::User(u) => u.get(),
        }
    }
}

impl From<Who> for RpcValue {
    fn from(w: Who) -> RpcValue {
        RpcValue::Int(w.code())
    }
}

/// The VM state filter of `one.vmpool.info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum VmStateFilter {
    /// -2: every state, DONE included.
    Any,
    /// -1: every state except DONE (the default).
    #[default]
    NotDone,
    /// One `VM_STATE` code (0 INIT … 11 CLONING_FAILURE).
    State(u8),
}

impl VmStateFilter {
    /// The wire value.
    pub fn code(self) -> i32 {
        match self {
            VmStateFilter::Any => -2,
            VmStateFilter::NotDone => -1,
            VmStateFilter::State(s) => i32::from(s),
        }
    }
}

/// A pool filter: who, id range, VM state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PoolFilter {
    who: Who,
    start: i32,
    end: i32,
    state: VmStateFilter,
}

impl Default for PoolFilter {
    fn default() -> Self {
        PoolFilter::all()
    }
}

impl PoolFilter {
    /// Everything the user may see, any id, VMs in any state but DONE.
    pub fn all() -> Self {
        PoolFilter::with_who(Who::All)
    }

    /// The user's own objects.
    pub fn mine() -> Self {
        PoolFilter::with_who(Who::Mine)
    }

    /// The user's objects and those of the user's groups.
    pub fn mine_and_groups() -> Self {
        PoolFilter::with_who(Who::MineAndGroups)
    }

    /// Objects of the user's primary group.
    pub fn group() -> Self {
        PoolFilter::with_who(Who::Group)
    }

    /// Objects owned by `user`.
    pub fn user(user: UserId) -> Self {
        PoolFilter::with_who(Who::User(user))
    }

    /// A filter for `who`.
    pub fn with_who(who: Who) -> Self {
        PoolFilter {
            who,
            start: -1,
            end: -1,
            state: VmStateFilter::NotDone,
        }
    }

    /// Only ids in `start..=end`; -1 means unbounded on that side.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] when `start < -1` or `end < -1` (oned reads an
    /// end below -1 as a page size).
    pub fn id_range(mut self, start: i32, end: i32) -> Result<Self> {
        if start < -1 || end < -1 {
            return Err(Error::invalid_input(format!(
                "invalid id range {start}..={end}: bounds must be >= -1 (-1 = unbounded)"
            )));
        }
        self.start = start;
        self.end = end;
        Ok(self)
    }

    /// The VM state filter (VM pools only).
    pub fn state(mut self, state: VmStateFilter) -> Self {
        self.state = state;
        self
    }

    /// Who.
    pub fn who(&self) -> Who {
        self.who
    }

    /// The id range `(start, end)`.
    pub fn range(&self) -> (i32, i32) {
        (self.start, self.end)
    }

    /// The VM state filter.
    pub fn vm_state(&self) -> VmStateFilter {
        self.state
    }

    pub(crate) fn range_params(&self) -> [RpcValue; 3] {
        [self.who.into(), self.start.into(), self.end.into()]
    }

    pub(crate) fn vm_params(&self) -> [RpcValue; 4] {
        [
            self.who.into(),
            self.start.into(),
            self.end.into(),
            self.state.code().into(),
        ]
    }
}

/// Splits a pool document (`<VM_POOL><VM>…</VM>…</VM_POOL>`) into its child elements.
///
/// # Errors
/// [`crate::ErrorKind::Protocol`] for malformed XML.
pub fn split_pool(xml: &str) -> Result<Vec<XmlDocument>> {
    let bad = |e: &dyn std::fmt::Display| Error::protocol(format!("malformed pool document: {e}"));
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    let mut depth = 0usize;
    loop {
        let before = usize::try_from(reader.buffer_position()).map_err(|e| bad(&e))?;
        match reader.read_event().map_err(|e| bad(&e))? {
            Event::Start(s) => {
                if depth == 0 {
                    depth = 1;
                } else {
                    let name = s.name().as_ref().to_owned();
                    reader
                        .read_to_end(quick_xml::name::QName(&name))
                        .map_err(|e| bad(&e))?;
                    let after = usize::try_from(reader.buffer_position()).map_err(|e| bad(&e))?;
                    out.push(XmlDocument::new(&xml[before..after]));
                }
            }
            Event::Empty(_) => {
                if depth == 0 {
                    return Ok(out);
                }
                let after = usize::try_from(reader.buffer_position()).map_err(|e| bad(&e))?;
                out.push(XmlDocument::new(&xml[before..after]));
            }
            Event::End(_) => return Ok(out),
            Event::Eof => return Err(bad(&"no root element")),
            Event::Text(t) if t.as_bytes().iter().all(u8::is_ascii_whitespace) => {}
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
            _ => return Err(bad(&"unexpected text in a pool document")),
        }
    }
}

/// The smallest page oned can be asked for: the end id of a page is `-page_size`, and -1
/// means "no limit" (the whole pool from the offset on).
pub const MIN_PAGE_SIZE: u32 = 2;

/// The end id sent for a page of `page_size` objects: `-page_size`, never -1 (a requested
/// size of 0 or 1 asks for [`MIN_PAGE_SIZE`]) and at least `-i32::MAX`.
///
/// ```
/// use nebulair_opennebula::pool::page_end_id;
///
/// assert_eq!(page_end_id(1), -2);
/// assert_eq!(page_end_id(2), -2);
/// assert_eq!(page_end_id(300), -300);
/// assert_eq!(page_end_id(u32::MAX), -i32::MAX);
/// ```
pub fn page_end_id(page_size: u32) -> i32 {
    let size = i32::try_from(page_size.max(MIN_PAGE_SIZE)).unwrap_or(i32::MAX);
    -size
}

/// A pool document that oned paginates, and the objects a stream over it yields.
///
/// Implemented for the pools with `stream(..)` methods; the stream decodes each page into
/// the pool type and yields its objects one by one.
pub trait PagedPool: FromStr<Err = Error> + Send + 'static {
    /// The type of one object of the pool (`VmPoolVm` for `VM_POOL`, ...).
    type Item: Send + 'static;

    /// The objects of one decoded page, in the server's order.
    fn into_items(self) -> Vec<Self::Item>;
}

macro_rules! paged_pools {
    ($($pool:ident . $field:ident => $item:ident),+ $(,)?) => {$(
        impl PagedPool for model::$pool {
            type Item = model::$item;

            fn into_items(self) -> Vec<model::$item> {
                self.$field
            }
        }
    )+};
}

paged_pools! {
    VmPool.vm => VmPoolVm,
    VmPoolExtended.vm => Vm,
    VmTemplatePool.vmtemplate => VmTemplate,
    VnetPool.vnet => VnetPoolVnet,
    ImagePool.image => Image,
    SecurityGroupPool.security_group => SecurityGroup,
    VmGroupPool.vm_group => VmGroup,
    VirtualRouterPool.vrouter => VirtualRouter,
    VnTemplatePool.vntemplate => VnTemplate,
    MarketplaceAppPool.marketplaceapp => MarketplaceApp,
    BackupJobPool.backupjob => BackupJob,
}

/// What one page is decoded into.
trait PageDecoder: Send + 'static {
    type Item: Send + 'static;

    fn decode(xml: String) -> impl Future<Output = Result<Vec<Self::Item>>> + Send;
}

/// Pages decoded into the typed objects of pool `P`.
struct Typed<P>(PhantomData<fn() -> P>);

impl<P: PagedPool> PageDecoder for Typed<P> {
    type Item = P::Item;

    async fn decode(xml: String) -> Result<Vec<P::Item>> {
        parse_document::<P>(XmlDocument::new(xml))
            .await
            .map(PagedPool::into_items)
    }
}

/// Pages split into one XML element per object.
struct Raw;

impl PageDecoder for Raw {
    type Item = XmlDocument;

    async fn decode(xml: String) -> Result<Vec<XmlDocument>> {
        split_pool(&xml)
    }
}

struct PageState<T> {
    client: OneClient,
    method: &'static str,
    filter: PoolFilter,
    vm_state: bool,
    page_size: i32,
    offset: i32,
    buffer: VecDeque<T>,
    done: bool,
}

/// A stream (owning a clone of the client; `Send` and `Unpin`) of pool objects fetched page by page with
/// `(offset, -page_size)`, each page decoded by `D`.
fn paged<D: PageDecoder>(
    client: &OneClient,
    method: &'static str,
    filter: PoolFilter,
    vm_state: bool,
) -> impl Stream<Item = Result<D::Item>> + Send + Unpin + use<D> {
    // What is asked for is what a full page holds: a shorter page is the last one.
    let page_size = -page_end_id(client.page_size());
    let state = PageState {
        client: client.clone(),
        method,
        filter,
        vm_state,
        page_size,
        offset: 0,
        buffer: VecDeque::new(),
        done: false,
    };
    // Boxed so that the stream is `Unpin`: `while let Some(x) = stream.next().await` works
    // without pinning it first.
    Box::pin(futures::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(item) = st.buffer.pop_front() {
                return Some((Ok(item), st));
            }
            if st.done {
                return None;
            }
            if st.filter.range() != (-1, -1) {
                st.done = true;
                return Some((
                    Err(Error::invalid_input(
                        "a paginated pool stream cannot use an id range (oned uses the same \
                         parameters for both); filter by id with info() instead",
                    )),
                    st,
                ));
            }
            let mut p: Vec<RpcValue> = vec![
                st.filter.who().into(),
                st.offset.into(),
                page_end_id(st.page_size.unsigned_abs()).into(),
            ];
            if st.vm_state {
                p.push(st.filter.vm_state().code().into());
            }
            let page = match st.client.call_full(st.method, &p).await {
                Ok(v) => match v.into_string() {
                    Ok(xml) => D::decode(xml).await,
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            };
            match page {
                Ok(items) => {
                    let n = i32::try_from(items.len()).unwrap_or(i32::MAX);
                    if n < st.page_size {
                        st.done = true;
                    }
                    st.offset = st.offset.saturating_add(n);
                    st.buffer.extend(items);
                }
                Err(e) => {
                    st.done = true;
                    return Some((
                        Err(e.context(format!("{} page at offset {}", st.method, st.offset))),
                        st,
                    ));
                }
            }
        }
    }))
}

macro_rules! streams {
    ($($coll:ident => $method:literal, $pool:ident, $item:ident);+ $(;)?) => {$(
        impl $coll<'_> {
            #[doc = concat!("Every object of `", $method, "` matching `filter`, fetched page by page (`client.page_size()` per call) and decoded into [`model::", stringify!($item), "`].")]
            ///
            /// The stream ends after the first short page; an error ends it.
            ///
            /// # Errors
            /// Items are errors for failed calls, malformed pages, or a filter with an
            /// id range ([`crate::ErrorKind::InvalidInput`]).
            pub fn stream(&self, filter: PoolFilter) -> impl Stream<Item = Result<model::$item>> + use<> {
                paged::<Typed<model::$pool>>(self.client, $method, filter, false)
            }

            /// As `stream`, each item being the object's XML element as oned sent it.
            ///
            /// # Errors
            /// As `stream`.
            pub fn stream_raw(&self, filter: PoolFilter) -> impl Stream<Item = Result<XmlDocument>> + Send + Unpin + use<> {
                paged::<Raw>(self.client, $method, filter, false)
            }
        }
    )+};
}

streams! {
    Templates => "one.templatepool.info", VmTemplatePool, VmTemplate;
    Vnets => "one.vnpool.info", VnetPool, VnetPoolVnet;
    Images => "one.imagepool.info", ImagePool, Image;
    SecGroups => "one.secgrouppool.info", SecurityGroupPool, SecurityGroup;
    VmGroups => "one.vmgrouppool.info", VmGroupPool, VmGroup;
    Vrouters => "one.vrouterpool.info", VirtualRouterPool, VirtualRouter;
    VnTemplates => "one.vntemplatepool.info", VnTemplatePool, VnTemplate;
    MarketApps => "one.marketapppool.info", MarketplaceAppPool, MarketplaceApp;
    BackupJobs => "one.backupjobpool.info", BackupJobPool, BackupJob;
}

impl Vms<'_> {
    /// Every VM matching `filter` (who and state), fetched page by page with
    /// `one.vmpool.info` (short VM bodies) and decoded into [`model::VmPoolVm`]. oned
    /// lists VMs newest first.
    ///
    /// # Errors
    /// Items are errors for failed calls, malformed pages, or a filter with an id range.
    pub fn stream(
        &self,
        filter: PoolFilter,
    ) -> impl Stream<Item = Result<model::VmPoolVm>> + Send + Unpin + use<> {
        paged::<Typed<model::VmPool>>(self.client, "one.vmpool.info", filter, true)
    }

    /// As [`Vms::stream`] with full VM bodies (`one.vmpool.infoextended`), decoded into
    /// [`model::Vm`].
    ///
    /// # Errors
    /// As [`Vms::stream`].
    pub fn stream_extended(
        &self,
        filter: PoolFilter,
    ) -> impl Stream<Item = Result<model::Vm>> + Send + Unpin + use<> {
        paged::<Typed<model::VmPoolExtended>>(self.client, "one.vmpool.infoextended", filter, true)
    }

    /// As [`Vms::stream`], each item being the `<VM>` element as oned sent it.
    ///
    /// # Errors
    /// As [`Vms::stream`].
    pub fn stream_raw(
        &self,
        filter: PoolFilter,
    ) -> impl Stream<Item = Result<XmlDocument>> + Send + Unpin + use<> {
        paged::<Raw>(self.client, "one.vmpool.info", filter, true)
    }

    /// As [`Vms::stream_extended`], each item being the `<VM>` element as oned sent it.
    ///
    /// # Errors
    /// As [`Vms::stream`].
    pub fn stream_extended_raw(
        &self,
        filter: PoolFilter,
    ) -> impl Stream<Item = Result<XmlDocument>> + Send + Unpin + use<> {
        paged::<Raw>(self.client, "one.vmpool.infoextended", filter, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_pools() -> Result<()> {
        let docs = split_pool(
            "<?xml version=\"1.0\"?>\n<VM_POOL>\n  <VM><ID>2</ID><T><![CDATA[<x>]]></T></VM>\n  <VM><ID>1</ID></VM><VM/></VM_POOL>",
        )?;
        let texts: Vec<&str> = docs.iter().map(XmlDocument::as_str).collect();
        assert_eq!(
            texts,
            [
                "<VM><ID>2</ID><T><![CDATA[<x>]]></T></VM>",
                "<VM><ID>1</ID></VM>",
                "<VM/>"
            ]
        );
        assert!(split_pool("<VM_POOL></VM_POOL>")?.is_empty());
        assert!(split_pool("<VM_POOL/>")?.is_empty());
        assert!(split_pool("<VM_POOL><VM>").is_err());
        assert!(split_pool("").is_err());
        Ok(())
    }

    #[test]
    fn page_end_ids_are_never_minus_one() {
        for size in [0, 1, 2, 3, 100, u32::MAX] {
            let end = page_end_id(size);
            assert!(end <= -2, "page size {size} gave end id {end}");
        }
        assert_eq!(page_end_id(7), -7);
    }

    #[test]
    fn filters() -> Result<()> {
        assert_eq!(Who::MineAndGroups.code(), -1);
        assert_eq!(Who::Group.code(), -4);
        let p = PoolFilter::mine()
            .id_range(5, -1)?
            .state(VmStateFilter::State(3))
            .vm_params();
        let ints: Vec<i32> = p.iter().filter_map(RpcValue::as_i32).collect();
        assert_eq!(ints, vec![-3, 5, -1, 3]);
        assert!(PoolFilter::all().id_range(-2, 4).is_err());
        Ok(())
    }
}
