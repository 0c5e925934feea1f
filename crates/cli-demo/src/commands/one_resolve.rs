//! Names where ids are: `one vm show web-1` works like `onevm show web-1`.
//!
//! An argument that is a number is an id and costs no request. Anything else is looked
//! up by listing the pool (every object the user may see) and must match exactly one
//! object's name; none is a not-found error, several an error that lists their ids.
//! Lists of arguments are resolved together, with at most one pool listing, and every
//! one is checked before the command sends its first change.

use nebulair_core::{Error, ErrorKind};
use nebulair_opennebula::OneClient;
use nebulair_opennebula::pool::{PoolFilter, VmStateFilter};

use crate::report::Failure;

/// A family objects can be named in: how to list `(id, name)` pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Virtual machines (DONE ones excluded, like onevm).
    Vm,
    /// Hosts.
    Host,
    /// VM templates.
    Template,
    /// Images.
    Image,
    /// Virtual networks.
    Vnet,
    /// Virtual network templates.
    VnTemplate,
    /// Security groups.
    SecGroup,
    /// VM groups.
    VmGroup,
    /// Users.
    User,
    /// Groups.
    Group,
    /// Clusters.
    Cluster,
    /// Datastores.
    Datastore,
    /// Zones.
    Zone,
    /// VDCs.
    Vdc,
    /// Marketplaces.
    Market,
    /// Marketplace apps.
    MarketApp,
    /// Virtual routers.
    Vrouter,
    /// Hooks.
    Hook,
    /// Backup jobs.
    BackupJob,
    /// Documents.
    Document,
}

impl Kind {
    /// "VM", "host", ... for messages.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Kind::Vm => "VM",
            Kind::Host => "host",
            Kind::Template => "VM template",
            Kind::Image => "image",
            Kind::Vnet => "virtual network",
            Kind::VnTemplate => "virtual network template",
            Kind::SecGroup => "security group",
            Kind::VmGroup => "VM group",
            Kind::User => "user",
            Kind::Group => "group",
            Kind::Cluster => "cluster",
            Kind::Datastore => "datastore",
            Kind::Zone => "zone",
            Kind::Vdc => "VDC",
            Kind::Market => "marketplace",
            Kind::MarketApp => "marketplace app",
            Kind::Vrouter => "virtual router",
            Kind::Hook => "hook",
            Kind::BackupJob => "backup job",
            Kind::Document => "document",
        }
    }

    /// Every `(id, name)` of the pool.
    async fn names(self, c: &OneClient) -> nebulair_core::Result<Vec<(i32, Option<String>)>> {
        let all = PoolFilter::all();
        macro_rules! pairs {
            ($pool:expr, $field:ident) => {
                $pool
                    .$field
                    .into_iter()
                    .map(|o| (o.id.get(), o.name))
                    .collect()
            };
        }
        Ok(match self {
            Kind::Vm => pairs!(
                c.vms()
                    .info(&PoolFilter::all().state(VmStateFilter::NotDone))
                    .await?,
                vm
            ),
            Kind::Host => pairs!(c.hosts().info().await?, host),
            Kind::Template => pairs!(c.templates().info(&all).await?, vmtemplate),
            Kind::Image => pairs!(c.images().info(&all).await?, image),
            Kind::Vnet => pairs!(c.vnets().info(&all).await?, vnet),
            Kind::VnTemplate => pairs!(c.vn_templates().info(&all).await?, vntemplate),
            Kind::SecGroup => pairs!(c.secgroups().info(&all).await?, security_group),
            Kind::VmGroup => pairs!(c.vm_groups().info(&all).await?, vm_group),
            Kind::User => pairs!(c.users().info().await?, user),
            Kind::Group => pairs!(c.groups().info().await?, group),
            Kind::Cluster => pairs!(c.clusters().info().await?, cluster),
            Kind::Datastore => pairs!(c.datastores().info().await?, datastore),
            Kind::Zone => pairs!(c.zones().info().await?, zone),
            Kind::Vdc => pairs!(c.vdcs().info().await?, vdc),
            Kind::Market => pairs!(c.markets().info().await?, marketplace),
            Kind::MarketApp => pairs!(c.market_apps().info(&all).await?, marketplaceapp),
            Kind::Vrouter => pairs!(c.vrouters().info(&all).await?, vrouter),
            Kind::Hook => pairs!(c.hooks().info().await?, hook),
            Kind::BackupJob => pairs!(c.backup_jobs().info(&all).await?, backupjob),
            Kind::Document => pairs!(c.documents().info(&all, -1).await?, document),
        })
    }
}

/// The id an argument names, from `pairs` (`None` when it is a plain id).
fn pick(kind: Kind, arg: &str, pairs: &[(i32, Option<String>)]) -> Result<i32, Error> {
    let hits: Vec<i32> = pairs
        .iter()
        .filter(|(_, n)| n.as_deref() == Some(arg))
        .map(|(id, _)| *id)
        .collect();
    match hits.as_slice() {
        [id] => Ok(*id),
        [] => Err(Error::new(
            ErrorKind::NotFound,
            format!("no {} is named {arg:?}", kind.noun()),
        )),
        many => Err(Error::invalid_input(format!(
            "{} {}s are named {arg:?} (ids {}): give the id",
            many.len(),
            kind.noun(),
            many.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The id of one argument (an id, or a name looked up in the pool).
pub(crate) async fn one(c: &OneClient, kind: Kind, arg: &str) -> Result<i32, Failure> {
    Ok(many(c, kind, &[arg.to_owned()]).await?[0])
}

/// The ids of several arguments, in order, all checked before anything is changed.
pub(crate) async fn many(c: &OneClient, kind: Kind, args: &[String]) -> Result<Vec<i32>, Failure> {
    let action = format!("finding the {} to act on", kind.noun());
    let mut pairs: Option<Vec<(i32, Option<String>)>> = None;
    let mut out = Vec::with_capacity(args.len());
    for a in args {
        let a = a.trim();
        if a.is_empty() {
            return Err(Failure::new(
                action,
                Error::invalid_input(format!("an empty {} id or name", kind.noun())),
            ));
        }
        if let Ok(id) = a.parse::<i32>() {
            out.push(id);
            continue;
        }
        if pairs.is_none() {
            pairs =
                Some(kind.names(c).await.map_err(|e| {
                    Failure::new(format!("listing {}s to find {a:?}", kind.noun()), e)
                })?);
        }
        let id = pick(kind, a, pairs.as_deref().unwrap_or_default()).map_err(|e| {
            let f = Failure::new(action.clone(), e);
            f.hint(format!(
                "names must match exactly; `nebulair one {} list` shows what exists",
                list_command(kind)
            ))
        })?;
        out.push(id);
    }
    Ok(out)
}

/// The `one` subcommand that lists a family.
pub(crate) fn list_command(kind: Kind) -> &'static str {
    match kind {
        Kind::Vm => "vm",
        Kind::Host => "host",
        Kind::Template => "template",
        Kind::Image => "image",
        Kind::Vnet => "vnet",
        Kind::VnTemplate => "vntemplate",
        Kind::SecGroup => "secgroup",
        Kind::VmGroup => "vmgroup",
        Kind::User => "user",
        Kind::Group => "group",
        Kind::Cluster => "cluster",
        Kind::Datastore => "datastore",
        Kind::Zone => "zone",
        Kind::Vdc => "vdc",
        Kind::Market => "market",
        Kind::MarketApp => "marketapp",
        Kind::Vrouter => "vrouter",
        Kind::Hook => "hook",
        Kind::BackupJob => "backupjob",
        Kind::Document => "document",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_match_one_object() {
        let pairs = vec![
            (0, Some("web".to_owned())),
            (1, Some("db".to_owned())),
            (2, Some("db".to_owned())),
            (3, None),
        ];
        assert_eq!(pick(Kind::Vm, "web", &pairs).expect("web"), 0);
        let none = pick(Kind::Vm, "Web", &pairs).expect_err("case");
        assert_eq!(none.kind(), ErrorKind::NotFound);
        let two = pick(Kind::Vm, "db", &pairs).expect_err("two");
        assert!(two.to_string().contains("ids 1, 2"), "{two}");
    }
}
