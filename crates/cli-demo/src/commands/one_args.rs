//! The arguments of `nebulair one ...`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use crate::commands::common::TlsArgs;

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
        /// Only VMs in this state (e.g. ACTIVE, POWEROFF, PENDING); all but DONE by default.
        #[arg(long, value_name = "STATE")]
        state: Option<String>,
    },
    /// Show one VM.
    Show {
        /// The VM id.
        id: i32,
    },
    /// Create a VM from a template file (text or XML syntax; `-` reads stdin).
    Create {
        /// The template file.
        file: PathBuf,
        /// Create it on hold (the scheduler leaves it alone until released).
        #[arg(long)]
        hold: bool,
    },
    /// Run an action: terminate, terminate-hard, poweroff, resume, reboot, hold, release, ...
    Action {
        /// The action name, as `onevm` spells it in the XML-RPC API.
        action: String,
        /// The VM id.
        id: i32,
    },
    /// Replace (or with --merge, merge into) a VM's user template.
    Update {
        /// The VM id.
        id: i32,
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
    List,
    /// Show one host.
    Show {
        /// The host id.
        id: i32,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TemplateSub {
    /// List VM templates.
    List {
        #[command(flatten)]
        pool: PoolArgs,
    },
    /// Show one VM template.
    Show {
        /// The template id.
        id: i32,
    },
    /// Create a VM from a template.
    Instantiate {
        /// The template id.
        id: i32,
        /// The new VM's name (oned picks one when empty).
        #[arg(long, default_value = "")]
        name: String,
        /// Create it on hold.
        #[arg(long)]
        hold: bool,
        /// A template file merged over the VM template (`-` reads stdin).
        #[arg(long, value_name = "FILE")]
        extra: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ListOnly {
    /// List them.
    List {
        #[command(flatten)]
        pool: PoolArgs,
    },
}
