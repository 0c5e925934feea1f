//! Typed states, types and actions for the numbers OpenNebula puts in its documents.
//!
//! Every enum converts from the wire number with `from_code` (never failing: numbers this
//! version does not know become `Unknown(n)`), back with `code()`, and displays (and
//! serialises) as OpenNebula's own name (`RUNNING`, `POWEROFF`, ...).
//!
//! ```
//! use nebulair_opennebula::model::{LcmState, VmState};
//!
//! assert_eq!(VmState::from_code(3), VmState::Active);
//! assert_eq!(VmState::Active.to_string(), "ACTIVE");
//! assert_eq!(LcmState::from_code(3), LcmState::Running);
//! assert_eq!(VmState::from_code(99), VmState::Unknown(99));
//! assert_eq!(VmState::Unknown(99).code(), 99);
//! ```

use std::fmt;

use serde::{Serialize, Serializer};

macro_rules! one_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $code:literal => $text:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* #[doc = concat!("`", $text, "` (", stringify!($code), ").")] $variant, )+
            /// A number this version of the SDK does not know (a newer server).
            Unknown(i64),
        }

        impl $name {
            /// Maps the number sent by oned; unknown numbers become `Unknown(n)`.
            pub const fn from_code(code: i64) -> Self {
                match code {
                    $( $code => $name::$variant, )+
                    other => $name::Unknown(other),
                }
            }

            /// The number oned uses.
            pub const fn code(self) -> i64 {
                match self {
                    $( $name::$variant => $code, )+
                    $name::Unknown(n) => n,
                }
            }

            /// OpenNebula's name for the value (`None` for `Unknown`).
            pub const fn name(self) -> Option<&'static str> {
                match self {
                    $( $name::$variant => Some($text), )+
                    $name::Unknown(_) => None,
                }
            }
        }

        impl From<i64> for $name {
            fn from(code: i64) -> Self {
                $name::from_code(code)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "UNKNOWN({})", self.code()),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self.name() {
                    Some(n) => s.serialize_str(n),
                    None => s.serialize_i64(self.code()),
                }
            }
        }
    };
}

one_enum! {
    /// The main state of a VM (`STATE`).
    VmState {
        Init = 0 => "INIT",
        Pending = 1 => "PENDING",
        Hold = 2 => "HOLD",
        Active = 3 => "ACTIVE",
        Stopped = 4 => "STOPPED",
        Suspended = 5 => "SUSPENDED",
        Done = 6 => "DONE",
        Failed = 7 => "FAILED",
        Poweroff = 8 => "POWEROFF",
        Undeployed = 9 => "UNDEPLOYED",
        Cloning = 10 => "CLONING",
        CloningFailure = 11 => "CLONING_FAILURE",
    }
}

one_enum! {
    /// The life-cycle sub-state of an `ACTIVE` VM (`LCM_STATE`).
    LcmState {
        LcmInit = 0 => "LCM_INIT",
        Prolog = 1 => "PROLOG",
        Boot = 2 => "BOOT",
        Running = 3 => "RUNNING",
        Migrate = 4 => "MIGRATE",
        SaveStop = 5 => "SAVE_STOP",
        SaveSuspend = 6 => "SAVE_SUSPEND",
        SaveMigrate = 7 => "SAVE_MIGRATE",
        PrologMigrate = 8 => "PROLOG_MIGRATE",
        PrologResume = 9 => "PROLOG_RESUME",
        EpilogStop = 10 => "EPILOG_STOP",
        Epilog = 11 => "EPILOG",
        Shutdown = 12 => "SHUTDOWN",
        Cancel = 13 => "CANCEL",
        Failure = 14 => "FAILURE",
        CleanupResubmit = 15 => "CLEANUP_RESUBMIT",
        LcmUnknown = 16 => "UNKNOWN",
        Hotplug = 17 => "HOTPLUG",
        ShutdownPoweroff = 18 => "SHUTDOWN_POWEROFF",
        BootUnknown = 19 => "BOOT_UNKNOWN",
        BootPoweroff = 20 => "BOOT_POWEROFF",
        BootSuspended = 21 => "BOOT_SUSPENDED",
        BootStopped = 22 => "BOOT_STOPPED",
        CleanupDelete = 23 => "CLEANUP_DELETE",
        HotplugSnapshot = 24 => "HOTPLUG_SNAPSHOT",
        HotplugNic = 25 => "HOTPLUG_NIC",
        HotplugSaveas = 26 => "HOTPLUG_SAVEAS",
        HotplugSaveasPoweroff = 27 => "HOTPLUG_SAVEAS_POWEROFF",
        HotplugSaveasSuspended = 28 => "HOTPLUG_SAVEAS_SUSPENDED",
        ShutdownUndeploy = 29 => "SHUTDOWN_UNDEPLOY",
        EpilogUndeploy = 30 => "EPILOG_UNDEPLOY",
        PrologUndeploy = 31 => "PROLOG_UNDEPLOY",
        BootUndeploy = 32 => "BOOT_UNDEPLOY",
        HotplugPrologPoweroff = 33 => "HOTPLUG_PROLOG_POWEROFF",
        HotplugEpilogPoweroff = 34 => "HOTPLUG_EPILOG_POWEROFF",
        BootMigrate = 35 => "BOOT_MIGRATE",
        BootFailure = 36 => "BOOT_FAILURE",
        BootMigrateFailure = 37 => "BOOT_MIGRATE_FAILURE",
        PrologMigrateFailure = 38 => "PROLOG_MIGRATE_FAILURE",
        PrologFailure = 39 => "PROLOG_FAILURE",
        EpilogFailure = 40 => "EPILOG_FAILURE",
        EpilogStopFailure = 41 => "EPILOG_STOP_FAILURE",
        EpilogUndeployFailure = 42 => "EPILOG_UNDEPLOY_FAILURE",
        PrologMigratePoweroff = 43 => "PROLOG_MIGRATE_POWEROFF",
        PrologMigratePoweroffFailure = 44 => "PROLOG_MIGRATE_POWEROFF_FAILURE",
        PrologMigrateSuspend = 45 => "PROLOG_MIGRATE_SUSPEND",
        PrologMigrateSuspendFailure = 46 => "PROLOG_MIGRATE_SUSPEND_FAILURE",
        BootUndeployFailure = 47 => "BOOT_UNDEPLOY_FAILURE",
        BootStoppedFailure = 48 => "BOOT_STOPPED_FAILURE",
        PrologResumeFailure = 49 => "PROLOG_RESUME_FAILURE",
        PrologUndeployFailure = 50 => "PROLOG_UNDEPLOY_FAILURE",
        DiskSnapshotPoweroff = 51 => "DISK_SNAPSHOT_POWEROFF",
        DiskSnapshotRevertPoweroff = 52 => "DISK_SNAPSHOT_REVERT_POWEROFF",
        DiskSnapshotDeletePoweroff = 53 => "DISK_SNAPSHOT_DELETE_POWEROFF",
        DiskSnapshotSuspended = 54 => "DISK_SNAPSHOT_SUSPENDED",
        DiskSnapshotRevertSuspended = 55 => "DISK_SNAPSHOT_REVERT_SUSPENDED",
        DiskSnapshotDeleteSuspended = 56 => "DISK_SNAPSHOT_DELETE_SUSPENDED",
        DiskSnapshot = 57 => "DISK_SNAPSHOT",
        DiskSnapshotRevert = 58 => "DISK_SNAPSHOT_REVERT",
        DiskSnapshotDelete = 59 => "DISK_SNAPSHOT_DELETE",
        PrologMigrateUnknown = 60 => "PROLOG_MIGRATE_UNKNOWN",
        PrologMigrateUnknownFailure = 61 => "PROLOG_MIGRATE_UNKNOWN_FAILURE",
        DiskResize = 62 => "DISK_RESIZE",
        DiskResizePoweroff = 63 => "DISK_RESIZE_POWEROFF",
        DiskResizeUndeployed = 64 => "DISK_RESIZE_UNDEPLOYED",
        HotplugNicPoweroff = 65 => "HOTPLUG_NIC_POWEROFF",
        HotplugResize = 66 => "HOTPLUG_RESIZE",
        HotplugSaveasUndeployed = 67 => "HOTPLUG_SAVEAS_UNDEPLOYED",
        HotplugSaveasStopped = 68 => "HOTPLUG_SAVEAS_STOPPED",
    }
}

one_enum! {
    /// The state of a host (`HOST/STATE`).
    HostState {
        Init = 0 => "INIT",
        MonitoringMonitored = 1 => "MONITORING_MONITORED",
        Monitored = 2 => "MONITORED",
        Error = 3 => "ERROR",
        Disabled = 4 => "DISABLED",
        MonitoringError = 5 => "MONITORING_ERROR",
        MonitoringInit = 6 => "MONITORING_INIT",
        MonitoringDisabled = 7 => "MONITORING_DISABLED",
        Offline = 8 => "OFFLINE",
    }
}

one_enum! {
    /// The status a host can be put in with `one.host.status`.
    HostStatus {
        Enabled = 0 => "ENABLED",
        Disabled = 1 => "DISABLED",
        Offline = 2 => "OFFLINE",
    }
}

one_enum! {
    /// The state of an image (`IMAGE/STATE`).
    ImageState {
        Init = 0 => "INIT",
        Ready = 1 => "READY",
        Used = 2 => "USED",
        Disabled = 3 => "DISABLED",
        Locked = 4 => "LOCKED",
        Error = 5 => "ERROR",
        Clone = 6 => "CLONE",
        Delete = 7 => "DELETE",
        UsedPers = 8 => "USED_PERS",
        LockedUsed = 9 => "LOCKED_USED",
        LockedUsedPers = 10 => "LOCKED_USED_PERS",
    }
}

one_enum! {
    /// The type of an image (`IMAGE/TYPE`).
    ImageType {
        Os = 0 => "OS",
        Cdrom = 1 => "CDROM",
        Datablock = 2 => "DATABLOCK",
        Kernel = 3 => "KERNEL",
        Ramdisk = 4 => "RAMDISK",
        Context = 5 => "CONTEXT",
        Filesystem = 6 => "FILESYSTEM",
    }
}

one_enum! {
    /// The type of a datastore (`DATASTORE/TYPE`).
    DatastoreType {
        Image = 0 => "IMAGE",
        System = 1 => "SYSTEM",
        File = 2 => "FILE",
    }
}

one_enum! {
    /// The state of a datastore (`DATASTORE/STATE`).
    DatastoreState {
        Ready = 0 => "READY",
        Disabled = 1 => "DISABLED",
    }
}

one_enum! {
    /// How a disk is backed (`DISK_TYPE` of images and datastores).
    DiskType {
        File = 0 => "FILE",
        CdRom = 1 => "CD_ROM",
        Block = 2 => "BLOCK",
        Rbd = 3 => "RBD",
        FileSystem = 4 => "FILE_SYSTEM",
    }
}

one_enum! {
    /// The state of a marketplace app (`MARKETPLACEAPP/STATE`).
    MarketAppState {
        Init = 0 => "INIT",
        Ready = 1 => "READY",
        Locked = 2 => "LOCKED",
        Error = 3 => "ERROR",
        Disabled = 4 => "DISABLED",
    }
}

one_enum! {
    /// The type of a marketplace app (`MARKETPLACEAPP/TYPE`).
    MarketAppType {
        Unknown0 = 0 => "UNKNOWN",
        Image = 1 => "IMAGE",
        VmTemplate = 2 => "VMTEMPLATE",
        ServiceTemplate = 3 => "SERVICE_TEMPLATE",
    }
}

one_enum! {
    /// The action recorded in a VM history record (`HISTORY/ACTION`), as numbered by oned's
    /// `include/VMActions.h` (3, 4 and 12 are retired but appear in old records).
    HistoryAction {
        None = 0 => "none",
        Migrate = 1 => "migrate",
        LiveMigrate = 2 => "live-migrate",
        Shutdown = 3 => "shutdown",
        ShutdownHard = 4 => "shutdown-hard",
        Undeploy = 5 => "undeploy",
        UndeployHard = 6 => "undeploy-hard",
        Hold = 7 => "hold",
        Release = 8 => "release",
        Stop = 9 => "stop",
        Suspend = 10 => "suspend",
        Resume = 11 => "resume",
        Boot = 12 => "boot",
        Delete = 13 => "delete",
        DeleteRecreate = 14 => "delete-recreate",
        Reboot = 15 => "reboot",
        RebootHard = 16 => "reboot-hard",
        Resched = 17 => "resched",
        Unresched = 18 => "unresched",
        Poweroff = 19 => "poweroff",
        PoweroffHard = 20 => "poweroff-hard",
        DiskAttach = 21 => "disk-attach",
        DiskDetach = 22 => "disk-detach",
        NicAttach = 23 => "nic-attach",
        NicDetach = 24 => "nic-detach",
        DiskSnapshotCreate = 25 => "disk-snapshot-create",
        DiskSnapshotDelete = 26 => "disk-snapshot-delete",
        Terminate = 27 => "terminate",
        TerminateHard = 28 => "terminate-hard",
        DiskResize = 29 => "disk-resize",
        Deploy = 30 => "deploy",
        Chown = 31 => "chown",
        Chmod = 32 => "chmod",
        Updateconf = 33 => "updateconf",
        Rename = 34 => "rename",
        Resize = 35 => "resize",
        Update = 36 => "update",
        SnapshotCreate = 37 => "snapshot-create",
        SnapshotDelete = 38 => "snapshot-delete",
        SnapshotRevert = 39 => "snapshot-revert",
        DiskSaveas = 40 => "disk-saveas",
        DiskSnapshotRevert = 41 => "disk-snapshot-revert",
        Recover = 42 => "recover",
        Retry = 43 => "retry",
        Monitor = 44 => "monitor",
        DiskSnapshotRename = 45 => "disk-snapshot-rename",
        AliasAttach = 46 => "alias-attach",
        AliasDetach = 47 => "alias-detach",
        PoffMigrate = 48 => "poweroff-migrate",
        PoffHardMigrate = 49 => "poweroff-hard-migrate",
        Backup = 50 => "backup",
        NicUpdate = 51 => "nic-update",
        BackupCancel = 52 => "backup-cancel",
        SchedAdd = 53 => "sched-add",
        SchedUpdate = 54 => "sched-update",
        SchedDelete = 55 => "sched-delete",
        SgAttach = 56 => "sg-attach",
        SgDetach = 57 => "sg-detach",
    }
}

one_enum! {
    /// The state of a virtual network (`VNET/STATE`, oned's `VirtualNetwork::VirtualNetworkState`).
    VnetState {
        Init = 0 => "INIT",
        Ready = 1 => "READY",
        LockCreate = 2 => "LOCK_CREATE",
        LockDelete = 3 => "LOCK_DELETE",
        Done = 4 => "DONE",
        Error = 5 => "ERROR",
        UpdateFailure = 6 => "UPDATE_FAILURE",
    }
}
