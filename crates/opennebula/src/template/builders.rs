//! Builders for the common vector attributes: DISK, NIC, CONTEXT, GRAPHICS, OS.

use std::ops::Deref;

use crate::ids::{ImageId, SecGroupId, VnetId};

use super::{TemplateValue, ToTemplateString, Vector};

macro_rules! vector_builder {
    ($(#[$meta:meta])* $name:ident, $attr:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name(Vector);

        impl $name {
            #[doc = concat!("The attribute name this vector is stored under (`", $attr, "`).")]
            pub const NAME: &'static str = $attr;

            /// Sets any key (for keys without a dedicated method).
            pub fn set(mut self, key: impl Into<String>, value: impl ToTemplateString) -> Self {
                self.0.set(key, value);
                self
            }

            /// The vector built so far.
            pub fn into_vector(self) -> Vector {
                self.0
            }
        }

        impl Deref for $name {
            type Target = Vector;
            fn deref(&self) -> &Vector {
                &self.0
            }
        }

        impl From<$name> for Vector {
            fn from(b: $name) -> Vector {
                b.0
            }
        }

        impl From<$name> for TemplateValue {
            fn from(b: $name) -> TemplateValue {
                TemplateValue::Vector(b.0)
            }
        }
    };
}

macro_rules! setters {
    ($ty:ident { $($(#[$meta:meta])* $fn:ident($arg:ty) => $key:literal;)+ }) => {
        impl $ty {$(
            $(#[$meta])*
            pub fn $fn(self, value: $arg) -> Self {
                self.set($key, value)
            }
        )+}
    };
}

vector_builder!(
    /// A `DISK` vector.
    ///
    /// ```
    /// use nebulair_opennebula::ids::ImageId;
    /// use nebulair_opennebula::template::{Disk, Template};
    ///
    /// let tpl = Template::new()
    ///     .with_pushed(Disk::NAME, Disk::image(ImageId::new(7)).target("vda"))
    ///     .with_pushed(Disk::NAME, Disk::volatile(1024).format("raw"));
    /// assert_eq!(tpl.vectors("DISK").count(), 2);
    /// ```
    Disk,
    "DISK"
);

impl Disk {
    /// A disk from an image, by id (`IMAGE_ID`).
    pub fn image(id: ImageId) -> Self {
        Disk::default().set("IMAGE_ID", id)
    }

    /// A disk from an image, by name (`IMAGE`), optionally with the owner's name
    /// (`IMAGE_UNAME`).
    pub fn image_name(name: &str) -> Self {
        Disk::default().set("IMAGE", name)
    }

    /// A volatile disk of `size_mb` MiB (`TYPE = fs`, `SIZE`).
    pub fn volatile(size_mb: u64) -> Self {
        Disk::default().set("TYPE", "fs").set("SIZE", size_mb)
    }

    /// A swap disk of `size_mb` MiB (`TYPE = swap`, `SIZE`).
    pub fn swap(size_mb: u64) -> Self {
        Disk::default().set("TYPE", "swap").set("SIZE", size_mb)
    }
}

setters!(Disk {
    /// The size in MiB (`SIZE`), e.g. to grow an image disk.
    size(u64) => "SIZE";
    /// The owner of a disk given by image name (`IMAGE_UNAME`).
    image_uname(&str) => "IMAGE_UNAME";
    /// The device name in the guest (`TARGET`, e.g. `vda`).
    target(&str) => "TARGET";
    /// The device prefix (`DEV_PREFIX`, e.g. `vd`, `sd`).
    dev_prefix(&str) => "DEV_PREFIX";
    /// The driver / format (`DRIVER`, e.g. `qcow2`).
    driver(&str) => "DRIVER";
    /// The filesystem format of a volatile disk (`FORMAT`, e.g. `raw`, `qcow2`).
    format(&str) => "FORMAT";
    /// The cache mode (`CACHE`, e.g. `none`, `writeback`).
    cache(&str) => "CACHE";
    /// Read-only (`READONLY = YES/NO`).
    readonly(bool) => "READONLY";
});

vector_builder!(
    /// A `NIC` vector.
    ///
    /// ```
    /// use nebulair_opennebula::ids::VnetId;
    /// use nebulair_opennebula::template::Nic;
    ///
    /// let nic = Nic::network(VnetId::new(0)).ip("10.0.0.5").model("virtio");
    /// assert_eq!(nic.get("NETWORK_ID"), Some("0"));
    /// ```
    Nic,
    "NIC"
);

impl Nic {
    /// A NIC on a virtual network, by id (`NETWORK_ID`).
    pub fn network(id: VnetId) -> Self {
        Nic::default().set("NETWORK_ID", id)
    }

    /// A NIC on a virtual network, by name (`NETWORK`).
    pub fn network_name(name: &str) -> Self {
        Nic::default().set("NETWORK", name)
    }

    /// The security groups (`SECURITY_GROUPS = "0,100"`).
    pub fn security_groups(self, groups: &[SecGroupId]) -> Self {
        let list: Vec<String> = groups.iter().map(ToString::to_string).collect();
        self.set("SECURITY_GROUPS", list.join(","))
    }
}

setters!(Nic {
    /// The owner of a network given by name (`NETWORK_UNAME`).
    network_uname(&str) => "NETWORK_UNAME";
    /// A fixed IPv4 address (`IP`).
    ip(&str) => "IP";
    /// A fixed MAC address (`MAC`).
    mac(&str) => "MAC";
    /// The NIC model (`MODEL`, e.g. `virtio`).
    model(&str) => "MODEL";
    /// The NIC name (`NAME`).
    name(&str) => "NAME";
});

vector_builder!(
    /// A `CONTEXT` vector (contextualization).
    ///
    /// ```
    /// use nebulair_opennebula::template::Context;
    ///
    /// let ctx = Context::new().network(true).ssh_public_key("$USER[SSH_PUBLIC_KEY]").token(true);
    /// assert_eq!(ctx.get("NETWORK"), Some("YES"));
    /// ```
    Context,
    "CONTEXT"
);

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Context::default()
    }
}

setters!(Context {
    /// Configure the guest network from the NICs (`NETWORK = YES/NO`).
    network(bool) => "NETWORK";
    /// The SSH public key (`SSH_PUBLIC_KEY`).
    ssh_public_key(&str) => "SSH_PUBLIC_KEY";
    /// Give the VM a OneGate token (`TOKEN = YES/NO`).
    token(bool) => "TOKEN";
    /// A script run at boot (`START_SCRIPT`).
    start_script(&str) => "START_SCRIPT";
    /// A base64 script run at boot (`START_SCRIPT_BASE64`).
    start_script_base64(&str) => "START_SCRIPT_BASE64";
    /// The guest host name (`SET_HOSTNAME`).
    set_hostname(&str) => "SET_HOSTNAME";
    /// The root password, base64 (`PASSWORD_BASE64`).
    password_base64(&str) => "PASSWORD_BASE64";
    /// Report readiness through OneGate (`REPORT_READY = YES/NO`).
    report_ready(bool) => "REPORT_READY";
});

vector_builder!(
    /// A `GRAPHICS` vector.
    ///
    /// ```
    /// use nebulair_opennebula::template::Graphics;
    ///
    /// let g = Graphics::vnc().listen("0.0.0.0").keymap("en-us");
    /// assert_eq!(g.get("TYPE"), Some("VNC"));
    /// ```
    Graphics,
    "GRAPHICS"
);

impl Graphics {
    /// A VNC console (`TYPE = VNC`).
    pub fn vnc() -> Self {
        Graphics::default().set("TYPE", "VNC")
    }

    /// A SPICE console (`TYPE = SPICE`).
    pub fn spice() -> Self {
        Graphics::default().set("TYPE", "SPICE")
    }
}

setters!(Graphics {
    /// The listen address (`LISTEN`).
    listen(&str) => "LISTEN";
    /// The port (`PORT`).
    port(u16) => "PORT";
    /// The console password (`PASSWD`).
    password(&str) => "PASSWD";
    /// The keyboard map (`KEYMAP`).
    keymap(&str) => "KEYMAP";
});

vector_builder!(
    /// An `OS` vector.
    ///
    /// ```
    /// use nebulair_opennebula::template::Os;
    ///
    /// let os = Os::new().arch("x86_64").boot("disk0").firmware("UEFI");
    /// assert_eq!(os.get("BOOT"), Some("disk0"));
    /// ```
    Os,
    "OS"
);

impl Os {
    /// An empty OS section.
    pub fn new() -> Self {
        Os::default()
    }
}

setters!(Os {
    /// The CPU architecture (`ARCH`).
    arch(&str) => "ARCH";
    /// The boot order (`BOOT`, e.g. `disk0,nic0`).
    boot(&str) => "BOOT";
    /// The machine type (`MACHINE`).
    machine(&str) => "MACHINE";
    /// The firmware (`FIRMWARE`, e.g. `BIOS`, `UEFI`).
    firmware(&str) => "FIRMWARE";
    /// A kernel file path (`KERNEL`).
    kernel(&str) => "KERNEL";
    /// An initrd file path (`INITRD`).
    initrd(&str) => "INITRD";
    /// Kernel command line (`KERNEL_CMD`).
    kernel_cmd(&str) => "KERNEL_CMD";
    /// The root device (`ROOT`).
    root(&str) => "ROOT";
});
