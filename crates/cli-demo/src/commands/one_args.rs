//! The arguments of `nebulair one ...`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use crate::commands::common::{Confirm, TlsArgs};
use crate::commands::one_family::{AclSub, FamilySub};

/// Where oned is and who you are. Each falls back like the `onevm` tools: `ONE_XMLRPC`
/// (then `~/.one/one_endpoint`, then `http://localhost:2633/RPC2`) and `ONE_AUTH` (a file
/// holding `user:password`, then `~/.one/one_auth`).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Connection options")]
pub(crate) struct OneConn {
    /// The XML-RPC endpoint, e.g. http://frontend:2633/RPC2 [env: ONE_XMLRPC]
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) endpoint: Option<String>,
    /// The user name; the password comes from --password-stdin or --password-file.
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) user: Option<String>,
    /// Read the password (or login token) from the first line of standard input.
    #[arg(
        long,
        global = true,
        requires = "user",
        conflicts_with = "password_file"
    )]
    pub(crate) password_stdin: bool,
    /// Read the password (or login token) from the first line of this file.
    #[arg(long, global = true, value_name = "FILE", requires = "user")]
    pub(crate) password_file: Option<PathBuf>,
    /// A file holding `user:password`, like ONE_AUTH [env: ONE_AUTH]
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "user")]
    pub(crate) auth_file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
}

/// Whose objects a list shows (the `who` filter of the pool calls).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum Who {
    /// Objects owned by you (-3).
    Mine,
    /// Yours and your groups' (-1).
    MineAndGroup,
    /// Your group's (-4).
    Group,
    /// Everything you may see (-2).
    #[default]
    All,
}

/// Pool filter flags shared by the list commands.
#[derive(Debug, Clone, Args)]
pub(crate) struct PoolArgs {
    /// Whose objects to list.
    #[arg(long, value_enum, default_value_t = Who::All, conflicts_with = "owner")]
    pub(crate) who: Who,
    /// Only the objects of this user id.
    #[arg(long, value_name = "UID")]
    pub(crate) owner: Option<i32>,
    /// First id of the range.
    #[arg(long, value_name = "ID")]
    pub(crate) start_id: Option<i32>,
    /// Last id of the range.
    #[arg(long, value_name = "ID")]
    pub(crate) end_id: Option<i32>,
}

/// How a list is shown: `--columns` (onevm's `--list`) picks table columns by name.
#[derive(Debug, Clone, Args)]
pub(crate) struct ColumnArgs {
    /// Table columns to show, comma separated (e.g. ID,NAME,STAT,IP); `-o wide` shows all.
    #[arg(
        long,
        visible_alias = "list",
        value_delimiter = ',',
        value_name = "COLS"
    )]
    pub(crate) columns: Vec<String>,
}

/// `nebulair one ...`
#[derive(Debug, Args)]
pub(crate) struct OneCmd {
    #[command(flatten)]
    pub(crate) conn: OneConn,
    #[command(subcommand)]
    pub(crate) command: OneSub,
}

#[derive(Debug, Subcommand)]
pub(crate) enum OneSub {
    /// Virtual machines.
    #[command(subcommand)]
    Vm(VmSub),
    /// Hosts.
    #[command(subcommand)]
    Host(HostSub),
    /// VM templates.
    #[command(subcommand)]
    Template(TemplateSub),
    /// Images.
    #[command(subcommand)]
    Image(ListOnly),
    /// Virtual networks.
    #[command(subcommand)]
    Vnet(ListOnly),
    /// Virtual network templates (onevntemplate).
    #[command(subcommand)]
    Vntemplate(FamilySub),
    /// Security groups (onesecgroup).
    #[command(subcommand)]
    Secgroup(FamilySub),
    /// VM groups (onevmgroup).
    #[command(subcommand)]
    Vmgroup(FamilySub),
    /// Users (oneuser).
    #[command(subcommand)]
    User(FamilySub),
    /// Groups (onegroup).
    #[command(subcommand)]
    Group(FamilySub),
    /// ACL rules (oneacl).
    #[command(subcommand)]
    Acl(AclSub),
    /// Clusters (onecluster).
    #[command(subcommand)]
    Cluster(FamilySub),
    /// Datastores (onedatastore).
    #[command(subcommand)]
    Datastore(FamilySub),
    /// Zones (onezone).
    #[command(subcommand)]
    Zone(FamilySub),
    /// VDCs (onevdc).
    #[command(subcommand)]
    Vdc(FamilySub),
    /// Marketplaces (onemarket).
    #[command(subcommand)]
    Market(FamilySub),
    /// Marketplace apps (onemarketapp).
    #[command(subcommand)]
    Marketapp(FamilySub),
    /// Virtual routers (onevrouter).
    #[command(subcommand)]
    Vrouter(FamilySub),
    /// Hooks (onehook).
    #[command(subcommand)]
    Hook(FamilySub),
    /// Backup jobs (onebackupjob).
    #[command(subcommand)]
    Backupjob(FamilySub),
    /// Generic documents (the OneFlow services and templates are documents too).
    #[command(subcommand)]
    Document(FamilySub),
    /// The OpenNebula version of the server.
    Version,
    /// Any XML-RPC method, e.g. `call one.user.info -1`. The session is added for you.
    ///
    /// Arguments are sent as integers when they parse as one, as booleans for true/false,
    /// and as strings otherwise; force a type with a prefix: `s:42`, `i:7`, `b:true`.
    /// Negative numbers need no `--`; options such as `-o json` may come before or after
    /// the arguments; after `--` everything is an argument. With `-o json|yaml` an XML
    /// answer is decoded into data. Password hashes and login tokens are never printed.
    Call {
        /// The method name, with or without the `one.` prefix.
        method: String,
        /// The arguments after the session string.
        #[arg(allow_negative_numbers = true)]
        args: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum VmSub {
    /// List VMs (newest first, like oned).
    List {
        #[command(flatten)]
        pool: PoolArgs,
        #[command(flatten)]
        columns: ColumnArgs,
        /// Only VMs in this state: a VM state (ACTIVE, POWEROFF, PENDING, ...), an LCM
        /// state (RUNNING, PROLOG, ...), or a short name as the STAT column shows it
        /// (runn, poff, pend, ...); all but DONE by default, ANY for all.
        #[arg(long, value_name = "STATE")]
        state: Option<String>,
    },
    /// Show one VM.
    Show {
        /// The VM id or name.
        vm: String,
    },
    /// Create a VM from a template file (text or XML syntax; `-` reads stdin).
    Create {
        /// The template file.
        file: PathBuf,
        /// Create it on hold (the scheduler leaves it alone until released).
        #[arg(long)]
        hold: bool,
    },
    /// Run an action on VMs: terminate, terminate-hard, poweroff, resume, reboot, hold, ...
    ///
    /// Every id or name is checked before the first action is sent.
    Action {
        /// The action name, as `onevm` spells it in the XML-RPC API.
        action: String,
        /// The VM ids or names.
        #[arg(required = true, value_name = "VM")]
        vms: Vec<String>,
        #[command(flatten)]
        wait: crate::wait::WaitArgs,
    },
    /// Replace (or with --merge, merge into) a VM's user template.
    Update {
        /// The VM id or name.
        vm: String,
        /// The template file (text or XML syntax; `-` reads stdin).
        file: PathBuf,
        /// Merge into the existing user template instead of replacing it.
        #[arg(long)]
        merge: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum HostSub {
    /// List hosts.
    List {
        #[command(flatten)]
        columns: ColumnArgs,
    },
    /// Show one host.
    Show {
        /// The host id or name.
        host: String,
    },
    /// Replace (or with --merge, merge into) its template.
    Update {
        /// The id or name.
        id: String,
        /// The template file (`-` reads stdin).
        file: PathBuf,
        /// Merge into the existing template instead of replacing it.
        #[arg(long)]
        merge: bool,
    },
    /// Rename it.
    Rename {
        /// The id or name.
        id: String,
        /// The new name.
        name: String,
    },
    /// Delete them (every id or name is checked first; asks on a terminal, else needs --yes).
    Delete {
        /// Ids or names.
        #[arg(required = true)]
        ids: Vec<String>,
        #[command(flatten)]
        confirm: Confirm,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TemplateSub {
    /// List VM templates.
    List {
        #[command(flatten)]
        pool: PoolArgs,
        #[command(flatten)]
        columns: ColumnArgs,
    },
    /// Show one VM template.
    Show {
        /// The template id or name.
        template: String,
    },
    /// Replace (or with --merge, merge into) its template.
    Update {
        /// The id or name.
        id: String,
        /// The template file (`-` reads stdin).
        file: PathBuf,
        /// Merge into the existing template instead of replacing it.
        #[arg(long)]
        merge: bool,
    },
    /// Rename it.
    Rename {
        /// The id or name.
        id: String,
        /// The new name.
        name: String,
    },
    /// Delete them (every id or name is checked first; asks on a terminal, else needs --yes).
    Delete {
        /// Ids or names.
        #[arg(required = true)]
        ids: Vec<String>,
        #[command(flatten)]
        confirm: Confirm,
    },

    /// Create a VM from a template.
    Instantiate {
        /// The template id or name.
        template: String,
        /// The new VM's name (oned picks one when empty).
        #[arg(long, default_value = "")]
        name: String,
        /// Create it on hold.
        #[arg(long)]
        hold: bool,
        /// A template file merged over the VM template (`-` reads stdin).
        #[arg(long, value_name = "FILE")]
        extra: Option<PathBuf>,
        #[command(flatten)]
        wait: crate::wait::WaitArgs,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ListOnly {
    /// List them.
    List {
        #[command(flatten)]
        pool: PoolArgs,
        #[command(flatten)]
        columns: ColumnArgs,
    },
    /// Show one (id or name).
    Show {
        /// The id or name.
        id: String,
    },
    /// Replace (or with --merge, merge into) its template.
    Update {
        /// The id or name.
        id: String,
        /// The template file (`-` reads stdin).
        file: PathBuf,
        /// Merge into the existing template instead of replacing it.
        #[arg(long)]
        merge: bool,
    },
    /// Rename it.
    Rename {
        /// The id or name.
        id: String,
        /// The new name.
        name: String,
    },
    /// Delete them (every id or name is checked first; asks on a terminal, else needs --yes).
    Delete {
        /// Ids or names.
        #[arg(required = true)]
        ids: Vec<String>,
        #[command(flatten)]
        confirm: Confirm,
    },
}
