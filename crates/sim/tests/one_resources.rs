//! Behaviour of the OpenNebula simulator per resource group, over raw HTTP XML-RPC.

mod one_common;

use one_common::{P, start, wait_vm};

#[tokio::test]
async fn users_groups_tokens_quotas_acls() {
    let (sim, rpc) = start().await;
    let g = rpc.call("one.group.allocate", &[P::S("devs")]).await.id();
    assert_eq!(g, 100);
    let u = rpc
        .call(
            "one.user.allocate",
            &[P::S("alice"), P::S("alicepw"), P::S("core"), P::A(vec![])],
        )
        .await
        .id();
    assert_eq!(u, 2);
    let dup = rpc
        .call(
            "one.user.allocate",
            &[P::S("alice"), P::S("x"), P::S("core"), P::A(vec![])],
        )
        .await;
    assert_eq!(
        (dup.code(), dup.msg()),
        (8192, "[one.user.allocate] NAME is already taken by USER 2.")
    );
    let odd = rpc
        .call(
            "one.user.allocate",
            &[P::S("bob <&> \"q\""), P::S("x"), P::S(""), P::A(vec![])],
        )
        .await;
    assert_eq!(
        odd.msg(),
        "[one.user.allocate] Invalid NAME, char ' ' is not allowed."
    );
    rpc.call("one.user.chgrp", &[P::I(u), P::I(g)]).await.id();
    rpc.call("one.user.addgroup", &[P::I(u), P::I(1)])
        .await
        .id();
    rpc.call(
        "one.user.quota",
        &[
            P::I(u),
            P::S("VM = [ VMS = \"10\", MEMORY = \"4096\", CPU = \"8\", RUNNING_VMS = \"5\" ]"),
        ],
    )
    .await
    .id();
    let info = rpc
        .call("one.user.info", &[P::I(u), P::B(false)])
        .await
        .ok()
        .to_owned();
    assert!(
        info.contains("<GID>100</GID><GROUPS><ID>1</ID><ID>100</ID></GROUPS><GNAME>devs</GNAME>"),
        "{info}"
    );
    assert!(info.contains("<VMS><![CDATA[10]]></VMS><VMS_USED><![CDATA[0]]></VMS_USED>"));
    assert!(info.contains("<PCI_DEV><![CDATA[-1]]></PCI_DEV>"));
    // Passwords, login tokens and revocation.
    let alice = rpc.as_user("alice:alicepw");
    assert!(
        alice
            .call("one.user.info", &[P::I(-1)])
            .await
            .ok()
            .contains("<NAME>alice</NAME>")
    );
    rpc.call("one.user.passwd", &[P::I(u), P::S("newpw")])
        .await
        .id();
    assert_eq!(alice.call("one.user.info", &[P::I(-1)]).await.code(), 256);
    let token = rpc
        .call(
            "one.user.login",
            &[P::S("oneadmin"), P::S(""), P::I(3600), P::I(-1)],
        )
        .await
        .ok()
        .to_owned();
    assert_eq!(token.len(), 64);
    let by_token = rpc.as_user(&format!("oneadmin:{token}"));
    assert!(
        by_token
            .call("one.user.info", &[P::I(-1)])
            .await
            .ok()
            .contains(&format!("<LOGIN_TOKEN><TOKEN>{token}</TOKEN>"))
    );
    rpc.call(
        "one.user.login",
        &[P::S("oneadmin"), P::O(token.clone()), P::I(0), P::I(-1)],
    )
    .await
    .ok();
    assert_eq!(
        by_token.call("one.user.info", &[P::I(-1)]).await.code(),
        256
    );
    // Disabled users cannot log in.
    rpc.call("one.user.enable", &[P::I(u), P::B(false)])
        .await
        .id();
    assert_eq!(
        rpc.as_user("alice:newpw")
            .call("one.user.info", &[P::I(-1)])
            .await
            .code(),
        256
    );
    rpc.call("one.user.enable", &[P::I(u), P::B(true)])
        .await
        .id();
    // Normal users cannot read others.
    let alice = rpc.as_user("alice:newpw");
    let r = alice.call("one.user.info", &[P::I(0)]).await;
    assert_eq!(
        (r.code(), r.msg()),
        (
            512,
            "[one.user.info] User [2] : Not authorized to perform USE USER [0]."
        )
    );
    // ACLs: groups get default rules; malformed rules are refused.
    let acls = rpc.call("one.acl.info", &[]).await.ok().to_owned();
    assert!(
        acls.contains("<STRING>@100 HOST/* MANAGE #0</STRING>"),
        "{acls}"
    );
    assert!(acls.contains(
        "<STRING>@1 VM+IMAGE+TEMPLATE+DOCUMENT+SECGROUP+VMGROUP+BACKUPJOB/* CREATE *</STRING>"
    ));
    let bad = rpc
        .call("one.acl.addrule", &[P::S("zz"), P::S("1"), P::S("1")])
        .await;
    assert_eq!(bad.code(), 8192);
    assert!(bad.msg().starts_with("[one.acl.addrule] Rule ?? /?? USE #0 is malformed: [user] is missing one of the INDIVIDUAL, GROUP or ALL bits"), "{}", bad.msg());
    // An ACL grants alice USE on templates.
    assert_eq!(
        alice.call("one.template.info", &[P::I(0)]).await.code(),
        512
    );
    let rule = rpc
        .call(
            "one.acl.addrule",
            &[
                P::S("100000002"),
                P::S("24400000000"),
                P::S("1"),
                P::S("100000000"),
            ],
        )
        .await
        .id();
    assert!(
        alice
            .call("one.template.info", &[P::I(0)])
            .await
            .ok()
            .starts_with("<VMTEMPLATE><ID>0</ID>")
    );
    rpc.call("one.acl.delrule", &[P::I(rule)]).await.id();
    assert_eq!(
        alice.call("one.template.info", &[P::I(0)]).await.code(),
        512
    );
    // Groups.
    rpc.call("one.group.quota", &[P::I(g), P::S("VM = [ VMS = \"20\" ]")])
        .await
        .id();
    let gi = rpc.call("one.group.info", &[P::I(g)]).await.ok().to_owned();
    assert!(
        gi.contains("<USERS><ID>2</ID></USERS>") && gi.contains("<VMS><![CDATA[20]]></VMS>"),
        "{gi}"
    );
    assert_eq!(rpc.call("one.group.delete", &[P::I(g)]).await.code(), 8192);
    let pool = rpc.call("one.grouppool.info", &[]).await.ok().to_owned();
    assert!(
        pool.starts_with("<GROUP_POOL><GROUP><ID>100</ID>"),
        "{pool}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn clusters_hosts_datastores_zones() {
    let (sim, rpc) = start().await;
    let cl = rpc
        .call("one.cluster.allocate", &[P::S("cluster-a")])
        .await
        .id();
    assert_eq!(cl, 100);
    rpc.call(
        "one.cluster.update",
        &[P::I(cl), P::S("RESERVED_CPU = \"10\""), P::I(1)],
    )
    .await
    .id();
    let h = rpc
        .call(
            "one.host.allocate",
            &[P::S("localhost"), P::S("dummy"), P::S("dummy"), P::I(cl)],
        )
        .await
        .id();
    assert_eq!(h, 2);
    let info = rpc
        .call("one.cluster.info", &[P::I(cl)])
        .await
        .ok()
        .to_owned();
    assert_eq!(
        info,
        "<CLUSTER><ID>100</ID><NAME>cluster-a</NAME><HOSTS><ID>2</ID></HOSTS><DATASTORES></DATASTORES><VNETS></VNETS><TEMPLATE><RESERVED_CPU><![CDATA[10]]></RESERVED_CPU><RESERVED_MEM><![CDATA[]]></RESERVED_MEM></TEMPLATE></CLUSTER>"
    );
    rpc.call(
        "one.host.update",
        &[
            P::I(h),
            P::S("NOTE = \"fixture host\"\nRACK = \"r1\""),
            P::I(1),
        ],
    )
    .await
    .id();
    rpc.call("one.host.status", &[P::I(h), P::I(1)]).await.id();
    assert!(
        rpc.call("one.host.info", &[P::I(h)])
            .await
            .ok()
            .contains("<STATE>4</STATE>")
    );
    rpc.call("one.host.status", &[P::I(h), P::I(0)]).await.id();
    rpc.call("one.host.status", &[P::I(h), P::I(2)]).await.id();
    let hi = rpc.call("one.host.info", &[P::I(h)]).await.ok().to_owned();
    assert!(
        hi.contains("<STATE>8</STATE>")
            && hi.contains("<NOTE><![CDATA[fixture host]]></NOTE><RACK><![CDATA[r1]]></RACK>"),
        "{hi}"
    );
    let seeded = rpc.call("one.host.info", &[P::I(0)]).await.ok().to_owned();
    assert!(
        seeded.contains("<TOTAL_CPU>800</TOTAL_CPU>") && seeded.contains("<CAPACITY>"),
        "{seeded}"
    );
    assert!(
        rpc.call("one.hostpool.info", &[])
            .await
            .ok()
            .starts_with("<HOST_POOL><HOST><ID>2</ID>")
    );
    assert_eq!(
        rpc.call("one.host.info", &[P::I(9999)]).await.msg(),
        "[one.host.info] Error getting host [9999]."
    );
    rpc.call("one.host.delete", &[P::I(h)]).await.id();
    assert_eq!(rpc.call("one.host.info", &[P::I(h)]).await.code(), 1024);
    // Datastores.
    let pool = rpc
        .call("one.datastorepool.info", &[])
        .await
        .ok()
        .to_owned();
    assert!(
        pool.starts_with("<DATASTORE_POOL><DATASTORE><ID>2</ID>")
            && pool.contains("<NAME>system</NAME>"),
        "{pool}"
    );
    let ds = rpc
        .call(
            "one.datastore.allocate",
            &[
                P::S("NAME = \"dummy-system\"\nTYPE = \"SYSTEM_DS\"\nTM_MAD = \"dummy\""),
                P::I(-1),
            ],
        )
        .await
        .id();
    assert_eq!(ds, 100);
    let d = rpc
        .call("one.datastore.info", &[P::I(ds)])
        .await
        .ok()
        .to_owned();
    assert!(
        d.contains("<TYPE>1</TYPE>")
            && d.contains("<BASE_PATH><![CDATA[/var/lib/one/var//datastores/100]]></BASE_PATH>"),
        "{d}"
    );
    let no_tm = rpc
        .call(
            "one.datastore.allocate",
            &[P::S("NAME = \"x\"\nDS_MAD = \"fs\""), P::I(-1)],
        )
        .await;
    assert_eq!(no_tm.code(), 8192);
    rpc.call("one.datastore.enable", &[P::I(ds), P::B(false)])
        .await
        .id();
    assert!(
        rpc.call("one.datastore.info", &[P::I(ds)])
            .await
            .ok()
            .contains("<STATE>1</STATE>")
    );
    // Zones and system.
    assert!(
        rpc.call("one.zonepool.info", &[])
            .await
            .ok()
            .contains("<NAME>OpenNebula</NAME>")
    );
    assert!(
        rpc.call("one.system.config", &[])
            .await
            .ok()
            .starts_with("<OPENNEBULA_CONFIGURATION>")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn images_templates_and_permissions() {
    let (sim, rpc) = start().await;
    let img = rpc
        .call(
            "one.image.allocate",
            &[
                P::S("NAME = \"img\"\nPATH = \"/tmp/x.img\""),
                P::I(1),
                P::B(true),
            ],
        )
        .await
        .id();
    let ii = rpc
        .call("one.image.info", &[P::I(img)])
        .await
        .ok()
        .to_owned();
    assert!(
        ii.contains("<STATE>1</STATE>") && ii.contains("<DATASTORE>default</DATASTORE>"),
        "{ii}"
    );
    assert_eq!(
        rpc.call(
            "one.image.allocate",
            &[P::S("NAME = \"x\"\nPATH = \"/x\""), P::I(0), P::B(true)]
        )
        .await
        .code(),
        8192
    );
    rpc.call("one.image.persistent", &[P::I(img), P::B(true)])
        .await
        .id();
    assert!(
        rpc.call("one.image.info", &[P::I(img)])
            .await
            .ok()
            .contains("<PERSISTENT>1</PERSISTENT>")
    );
    assert!(
        rpc.call("one.imagepool.info", &[P::I(-2), P::I(-1), P::I(-1)])
            .await
            .ok()
            .contains("<NAME>img</NAME>")
    );
    // Templates: text with quotes and backslashes, sorted attributes, CDATA.
    let t = rpc.call("one.template.allocate", &[P::S("NAME = \"t1\"\nMEMORY = 64\nCPU = \"0.5\"\nDESCRIPTION = \"Quotes \\\"in\\\", C:\\dir, <xml> & amp\"\nDISK = [ TYPE = \"fs\", SIZE = \"10\" ]")]).await.id();
    let ti = rpc
        .call("one.template.info", &[P::I(t), P::B(false), P::B(false)])
        .await
        .ok()
        .to_owned();
    assert!(ti.contains("<TEMPLATE><CPU><![CDATA[0.5]]></CPU><DESCRIPTION><![CDATA[Quotes \"in\", C:\\dir, <xml> & amp]]></DESCRIPTION><DISK><SIZE><![CDATA[10]]></SIZE><TYPE><![CDATA[fs]]></TYPE></DISK><MEMORY><![CDATA[64]]></MEMORY></TEMPLATE>"), "{ti}");
    let xml = rpc.call("one.template.allocate", &[P::S("<TEMPLATE><NAME>t-xml</NAME><CPU>1</CPU><D><![CDATA[a <b> & \"c\"]]></D></TEMPLATE>")]).await.id();
    assert!(
        rpc.call("one.template.info", &[P::I(xml)])
            .await
            .ok()
            .contains("<D><![CDATA[a <b> & \"c\"]]></D>")
    );
    for (text, msg) in [
        (
            "NAME = \"t-cdata\"\nD = \"a ]]> b\"",
            "[one.template.allocate] Parse error.",
        ),
        (
            "NAME = \"broken\nCPU = 1",
            "[one.template.allocate] Invalid NAME, char '\"' is not allowed",
        ),
    ] {
        let r = rpc.call("one.template.allocate", &[P::S(text)]).await;
        assert_eq!((r.code(), r.msg()), (8192, msg));
    }
    let r = rpc
        .call(
            "one.template.allocate",
            &[P::S("NAME = x\nDISK = [ SIZE = 1 ")],
        )
        .await;
    assert!(r.msg().starts_with("[one.template.allocate] Parse error: syntax error, unexpected $end, expecting COMMA or CBRACKET"), "{}", r.msg());
    rpc.call(
        "one.template.update",
        &[P::I(t), P::S("EXTRA = \"x\""), P::I(1)],
    )
    .await
    .id();
    rpc.call(
        "one.template.update",
        &[P::I(t), P::S("ONLY = \"y\""), P::I(0)],
    )
    .await
    .id();
    let ti = rpc
        .call("one.template.info", &[P::I(t)])
        .await
        .ok()
        .to_owned();
    assert!(
        ti.contains("<TEMPLATE><ONLY><![CDATA[y]]></ONLY></TEMPLATE>"),
        "{ti}"
    );
    let c = rpc
        .call(
            "one.template.clone",
            &[P::I(0), P::S("tmpl-clone"), P::B(false)],
        )
        .await
        .id();
    assert!(
        rpc.call("one.template.info", &[P::I(c)])
            .await
            .ok()
            .contains("<NAME>tmpl-clone</NAME>")
    );
    assert_eq!(
        rpc.call(
            "one.template.clone",
            &[P::I(0), P::S("tmpl-clone"), P::B(false)]
        )
        .await
        .code(),
        8192
    );
    rpc.call("one.template.rename", &[P::I(c), P::S("renamed")])
        .await
        .id();
    rpc.call(
        "one.template.chmod",
        &[
            P::I(c),
            P::I(1),
            P::I(1),
            P::I(0),
            P::I(1),
            P::I(0),
            P::I(0),
            P::I(1),
            P::I(0),
            P::I(0),
            P::B(false),
        ],
    )
    .await
    .id();
    let ci = rpc
        .call("one.template.info", &[P::I(c)])
        .await
        .ok()
        .to_owned();
    assert!(
        ci.contains("<NAME>renamed</NAME>")
            && ci.contains("<GROUP_U>1</GROUP_U>")
            && ci.contains("<OTHER_U>1</OTHER_U>"),
        "{ci}"
    );
    // Other USE lets a normal user read it, but not manage it.
    let u = rpc
        .call(
            "one.user.allocate",
            &[P::S("bob"), P::S("pw"), P::S("core"), P::A(vec![])],
        )
        .await
        .id();
    let bob = rpc.as_user("bob:pw");
    assert!(
        bob.call("one.template.info", &[P::I(c)])
            .await
            .ok()
            .contains("<NAME>renamed</NAME>")
    );
    let r = bob
        .call("one.template.delete", &[P::I(c), P::B(false)])
        .await;
    assert_eq!(
        r.msg(),
        format!(
            "[one.template.delete] User [{u}] : Not authorized to perform MANAGE TEMPLATE [{c}]."
        )
    );
    rpc.call("one.template.chown", &[P::I(c), P::I(u), P::I(1)])
        .await
        .id();
    bob.call("one.template.delete", &[P::I(c), P::B(false)])
        .await
        .id();
    assert_eq!(
        rpc.call("one.template.info", &[P::I(c)]).await.msg(),
        format!("[one.template.info] Error getting virtual machine template [{c}].")
    );
    // Locks.
    rpc.call("one.template.lock", &[P::I(t), P::I(2), P::B(false)])
        .await
        .id();
    let r = rpc
        .call("one.template.update", &[P::I(t), P::S("A = 1"), P::I(1)])
        .await;
    assert_eq!(
        (r.code(), r.msg()),
        (
            512,
            format!("[one.template.update] User [0] : TEMPLATE is locked. [{t}].").as_str()
        )
    );
    rpc.call("one.template.unlock", &[P::I(t)]).await.id();
    rpc.call("one.template.update", &[P::I(t), P::S("A = 1"), P::I(1)])
        .await
        .id();
    // Pools: newest first, ranges, pagination.
    let pool = rpc
        .call("one.templatepool.info", &[P::I(-2), P::I(-1), P::I(-1)])
        .await
        .ok()
        .to_owned();
    let ids: Vec<&str> = pool
        .split("<VMTEMPLATE><ID>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap_or(""))
        .collect();
    assert_eq!(ids, vec![xml.to_string(), t.to_string(), "0".to_string()]);
    let page = rpc
        .call("one.templatepool.info", &[P::I(-2), P::I(1), P::I(-1 - 1)])
        .await
        .ok()
        .to_owned();
    assert_eq!(page.matches("<VMTEMPLATE><ID>").count(), 2, "{page}");
    let range = rpc
        .call("one.templatepool.info", &[P::I(-2), P::I(0), P::I(0)])
        .await
        .ok()
        .to_owned();
    assert_eq!(range.matches("<VMTEMPLATE><ID>").count(), 1);
    assert_eq!(
        rpc.call("one.templatepool.info", &[P::I(-5), P::I(-1), P::I(-1)])
            .await
            .code(),
        0x1000
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn networks_leases_secgroups_vmgroups_documents() {
    let (sim, rpc) = start().await;
    let r = rpc
        .call("one.vn.allocate", &[P::S("NAME = \"no-driver\""), P::I(-1)])
        .await;
    assert_eq!(
        r.msg(),
        "[one.vn.allocate] No VN_MAD in template for Virtual Network."
    );
    let vn = rpc.call("one.vn.allocate", &[P::S("NAME = \"net-bridge\"\nVN_MAD = \"bridge\"\nBRIDGE = \"br0\"\nAR = [ TYPE = \"IP4\", IP = \"10.0.0.10\", SIZE = \"50\" ]"), P::I(-1)]).await.id();
    assert_eq!(vn, 1);
    rpc.call(
        "one.vn.add_ar",
        &[
            P::I(vn),
            P::S("AR = [ TYPE = \"ETHER\", SIZE = \"10\", MAC = \"02:00:0a:00:01:01\" ]"),
        ],
    )
    .await
    .id();
    rpc.call(
        "one.vn.hold",
        &[P::I(vn), P::S("LEASES = [ IP = \"10.0.0.12\" ]")],
    )
    .await
    .id();
    let info = rpc.call("one.vn.info", &[P::I(vn)]).await.ok().to_owned();
    assert!(info.contains("<STATE><![CDATA[1]]></STATE>"), "{info}");
    assert!(info.contains("<LEASE><IP><![CDATA[10.0.0.12]]></IP><MAC><![CDATA[02:00:0a:00:00:0c]]></MAC><VM><![CDATA[-1]]></VM></LEASE>"), "{info}");
    assert!(info.contains(
        "<MAC_END><![CDATA[02:00:0a:00:00:3b]]></MAC_END><IP_END><![CDATA[10.0.0.59]]></IP_END>"
    ));
    assert!(info.contains("<TYPE><![CDATA[ETHER]]></TYPE>"));
    assert_eq!(
        rpc.call(
            "one.vn.hold",
            &[P::I(vn), P::S("LEASES = [ IP = \"10.0.0.12\" ]")]
        )
        .await
        .code(),
        8192
    );
    rpc.call(
        "one.vn.release",
        &[P::I(vn), P::S("LEASES = [ IP = \"10.0.0.12\" ]")],
    )
    .await
    .id();
    assert!(
        rpc.call("one.vn.info", &[P::I(vn)])
            .await
            .ok()
            .contains("<USED_LEASES>0</USED_LEASES>")
    );
    // A VM NIC takes the first free lease, and gives it back when it is done.
    let vm = rpc
        .call(
            "one.vm.allocate",
            &[
                P::S("NAME = \"n\"\nCPU = 0.1\nMEMORY = 32\nNIC = [ NETWORK_ID = \"1\" ]"),
                P::B(true),
            ],
        )
        .await
        .id();
    let doc = rpc.call("one.vm.info", &[P::I(vm)]).await.ok().to_owned();
    assert!(
        doc.contains("<IP><![CDATA[10.0.0.10]]></IP>")
            && doc.contains("<NETWORK><![CDATA[net-bridge]]></NETWORK>"),
        "{doc}"
    );
    assert!(
        rpc.call("one.vn.info", &[P::I(vn)])
            .await
            .ok()
            .contains(&format!("<VM><![CDATA[{vm}]]></VM>"))
    );
    rpc.call("one.vm.action", &[P::S("terminate"), P::I(vm)])
        .await
        .id();
    assert!(
        rpc.call("one.vn.info", &[P::I(vn)])
            .await
            .ok()
            .contains("<USED_LEASES>0</USED_LEASES>")
    );
    assert_eq!(
        rpc.call("one.vnpool.info", &[P::I(-2), P::I(-1), P::I(-1)])
            .await
            .ok()
            .matches("<VNET><ID>")
            .count(),
        2
    );
    // LOCK_CREATE with a monitor delay.
    let slow = nebulair_sim::one::OneSimulator::builder()
        .delays(nebulair_sim::one::Delays {
            monitor: std::time::Duration::from_secs(30),
            ..Default::default()
        })
        .start()
        .await
        .expect("start");
    let srpc = one_common::Rpc::new(slow.url());
    let n = srpc
        .call(
            "one.vn.allocate",
            &[P::S("NAME = \"n2\"\nVN_MAD = \"bridge\""), P::I(-1)],
        )
        .await
        .id();
    assert!(
        srpc.call("one.vn.info", &[P::I(n)])
            .await
            .ok()
            .contains("<STATE><![CDATA[2]]></STATE>")
    );
    let r = srpc
        .call(
            "one.vn.add_ar",
            &[P::I(n), P::S("AR = [ TYPE = \"ETHER\", SIZE = \"1\" ]")],
        )
        .await;
    assert_eq!(r.code(), 2048);
    slow.shutdown().await;
    // Security groups, VM groups, documents.
    let sg = rpc
        .call(
            "one.secgroup.allocate",
            &[P::S(
                "NAME = \"web\"\nRULE = [ PROTOCOL = \"TCP\", RULE_TYPE = \"INBOUND\" ]",
            )],
        )
        .await
        .id();
    assert_eq!(sg, 100);
    assert!(
        rpc.call("one.secgrouppool.info", &[P::I(-2), P::I(-1), P::I(-1)])
            .await
            .ok()
            .contains("<NAME>default</NAME>")
    );
    let c = rpc
        .call("one.secgroup.clone", &[P::I(sg), P::S("web2")])
        .await
        .id();
    assert!(
        rpc.call("one.secgroup.info", &[P::I(c)])
            .await
            .ok()
            .contains("<RULE><PROTOCOL><![CDATA[TCP]]></PROTOCOL>")
    );
    let vg = rpc
        .call(
            "one.vmgroup.allocate",
            &[P::S(
                "NAME = \"g\"\nROLE = [ NAME = \"web\", POLICY = \"AFFINED\" ]",
            )],
        )
        .await
        .id();
    assert!(rpc.call("one.vmgroup.info", &[P::I(vg)]).await.ok().contains("<ROLES><ROLE><ID><![CDATA[0]]></ID><NAME><![CDATA[web]]></NAME><POLICY><![CDATA[AFFINED]]></POLICY></ROLE></ROLES>"));
    let d1 = rpc
        .call("one.document.allocate", &[P::S("NAME = \"a\""), P::I(100)])
        .await
        .id();
    let d2 = rpc
        .call("one.document.allocate", &[P::S("NAME = \"b\""), P::I(101)])
        .await
        .id();
    let only100 = rpc
        .call(
            "one.documentpool.info",
            &[P::I(-2), P::I(-1), P::I(-1), P::I(100)],
        )
        .await
        .ok()
        .to_owned();
    assert!(
        only100.contains(&format!("<ID>{d1}</ID>")) && !only100.contains(&format!("<ID>{d2}</ID>")),
        "{only100}"
    );
    rpc.call("one.document.delete", &[P::I(d2)]).await.id();
    assert_eq!(
        rpc.call("one.document.info", &[P::I(d2)]).await.code(),
        1024
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn vm_state_machine_and_actions() {
    let (sim, rpc) = start().await;
    let held = rpc
        .call(
            "one.vm.allocate",
            &[
                P::S("NAME = \"vm-small\"\nCPU = \"0.1\"\nVCPU = \"1\"\nMEMORY = \"64\""),
                P::B(true),
            ],
        )
        .await
        .id();
    let doc = rpc.call("one.vm.info", &[P::I(held)]).await.ok().to_owned();
    assert!(
        doc.contains("<STATE>2</STATE><LCM_STATE>0</LCM_STATE>")
            && doc.contains("<SUBMIT_ON_HOLD><![CDATA[YES]]></SUBMIT_ON_HOLD>"),
        "{doc}"
    );
    assert!(doc.contains("<USER_TEMPLATE></USER_TEMPLATE><HISTORY_RECORDS/>"));
    let r = rpc
        .call("one.vm.action", &[P::S("resume"), P::I(held)])
        .await;
    assert_eq!(
        (r.code(), r.msg()),
        (
            2048,
            "[one.vm.action] Error performing action \"resume\": This action is not available for state HOLD"
        )
    );
    let r = rpc
        .call("one.vm.action", &[P::S("frobnicate"), P::I(held)])
        .await;
    assert_eq!(
        r.msg(),
        "[one.vm.action] Action \"frobnicate\" is not supported"
    );
    rpc.call(
        "one.vm.update",
        &[
            P::I(held),
            P::S("NOTE = \"n\"\nSPECIAL = \"a<b & c>d \\\"q\\\" \\\\ end\""),
            P::I(1),
        ],
    )
    .await
    .id();
    rpc.call("one.vm.rename", &[P::I(held), P::S("vm-small-renamed")])
        .await
        .id();
    let doc = rpc.call("one.vm.info", &[P::I(held)]).await.ok().to_owned();
    assert!(doc.contains("<USER_TEMPLATE><NOTE><![CDATA[n]]></NOTE><SPECIAL><![CDATA[a<b & c>d \"q\" \\\\ end]]></SPECIAL></USER_TEMPLATE>"), "{doc}");
    // Locks answer AUTHORIZATION "... is locked"; info still works.
    rpc.call("one.vm.lock", &[P::I(held), P::I(1), P::B(false)])
        .await
        .id();
    let r = rpc
        .call("one.vm.action", &[P::S("release"), P::I(held)])
        .await;
    assert_eq!(
        (r.code(), r.msg()),
        (
            512,
            format!("[one.vm.action] User [0] : VM is locked. [{held}].").as_str()
        )
    );
    assert!(
        rpc.call("one.vm.info", &[P::I(held)])
            .await
            .ok()
            .contains("<LOCK><LOCKED>1</LOCKED><OWNER>0</OWNER>")
    );
    rpc.call("one.vm.unlock", &[P::I(held)]).await.id();
    // release -> scheduler -> RUNNING with a history record.
    rpc.call("one.vm.action", &[P::S("release"), P::I(held)])
        .await
        .id();
    let doc = wait_vm(&rpc, held, "<STATE>3</STATE><LCM_STATE>3</LCM_STATE>").await;
    assert!(
        doc.contains("<HISTORY><OID>") && doc.contains("<HOSTNAME>host0"),
        "{doc}"
    );
    assert!(
        rpc.call("one.host.info", &[P::I(0)])
            .await
            .ok()
            .contains(&format!("<VMS><ID>{held}</ID></VMS>"))
            || rpc
                .call("one.host.info", &[P::I(1)])
                .await
                .ok()
                .contains(&format!("<VMS><ID>{held}</ID></VMS>"))
    );
    // poweroff -> POWEROFF, resume -> RUNNING with a new history record.
    rpc.call("one.vm.action", &[P::S("poweroff"), P::I(held)])
        .await
        .id();
    let doc = wait_vm(&rpc, held, "<STATE>8</STATE><LCM_STATE>0</LCM_STATE>").await;
    assert!(doc.contains("<ACTION>19</ACTION>"), "{doc}");
    // Hotplug in POWEROFF, resize.
    rpc.call(
        "one.vm.attach",
        &[P::I(held), P::S("DISK = [ SIZE = \"100\", TYPE = \"fs\" ]")],
    )
    .await
    .id();
    rpc.call(
        "one.vm.resize",
        &[
            P::I(held),
            P::S("CPU = \"0.2\"\nMEMORY = \"128\""),
            P::B(true),
        ],
    )
    .await
    .id();
    let doc = rpc.call("one.vm.info", &[P::I(held)]).await.ok().to_owned();
    assert!(
        doc.contains("<DISK_ID><![CDATA[0]]></DISK_ID>")
            && doc.contains("<MEMORY><![CDATA[128]]></MEMORY>"),
        "{doc}"
    );
    rpc.call("one.vm.detach", &[P::I(held), P::I(0)]).await.id();
    rpc.call("one.vm.action", &[P::S("resume"), P::I(held)])
        .await
        .id();
    let doc = wait_vm(&rpc, held, "<STATE>3</STATE><LCM_STATE>3</LCM_STATE>").await;
    assert!(doc.contains("<SEQ>1</SEQ>"), "{doc}");
    for (action, state) in [
        ("suspend", "<STATE>5</STATE>"),
        ("resume", "<LCM_STATE>3</LCM_STATE>"),
        ("stop", "<STATE>4</STATE>"),
        ("resume", "<LCM_STATE>3</LCM_STATE>"),
        ("undeploy", "<STATE>9</STATE>"),
        ("resume", "<LCM_STATE>3</LCM_STATE>"),
        ("reboot", "<LCM_STATE>3</LCM_STATE>"),
    ] {
        rpc.call("one.vm.action", &[P::S(action), P::I(held)])
            .await
            .id();
        wait_vm(&rpc, held, state).await;
    }
    rpc.call("one.vm.action", &[P::S("terminate-hard"), P::I(held)])
        .await
        .id();
    let doc = wait_vm(&rpc, held, "<STATE>6</STATE>").await;
    assert!(
        doc.contains("<ACTION>28</ACTION>") && !doc.contains("<ETIME>0</ETIME><DEPLOY_ID>"),
        "{doc}"
    );
    // deploy by hand.
    let d = rpc.call("one.vm.allocate", &[P::S("NAME = \"vm-deploy\"\nCPU = \"0.1\"\nMEMORY = \"64\"\nDISK = [ TYPE = \"fs\", SIZE = \"16\" ]\nCONTEXT = [ NETWORK = \"YES\", HOSTNAME = \"$NAME\" ]"), P::B(true)]).await.id();
    rpc.call(
        "one.vm.deploy",
        &[P::I(d), P::I(1), P::B(false), P::I(0), P::S("")],
    )
    .await
    .id();
    let doc = wait_vm(&rpc, d, "<LCM_STATE>3</LCM_STATE>").await;
    assert!(
        doc.contains("<DEPLOY_ID>host02:vm-deploy:kvm</DEPLOY_ID>")
            && doc.contains("<HOSTNAME><![CDATA[vm-deploy]]></HOSTNAME>"),
        "{doc}"
    );
    // Validation errors.
    let r = rpc
        .call(
            "one.vm.allocate",
            &[P::S("CPU = \"1\"\nMEMORY = \"-5\""), P::B(false)],
        )
        .await;
    assert_eq!(
        r.msg(),
        "[one.vm.allocate] MEMORY attribute must be a positive integer value."
    );
    let r = rpc
        .call(
            "one.vm.allocate",
            &[
                P::S("CPU = \"1\"\nMEMORY = \"64\"\nCONTEXT = [ TOKEN = \"YES\" ]"),
                P::B(true),
            ],
        )
        .await;
    assert_eq!(
        r.msg(),
        "[one.vm.allocate] TOKEN set, but onegate endpoint was not defined in oned.conf."
    );
    // Authorization for other users.
    rpc.call(
        "one.user.allocate",
        &[P::S("alice"), P::S("pw"), P::S("core"), P::A(vec![])],
    )
    .await
    .id();
    let alice = rpc.as_user("alice:pw");
    let r = alice.call("one.vm.info", &[P::I(d)]).await;
    assert_eq!(
        r.msg(),
        format!("[one.vm.info] User [2] : Not authorized to perform USE VM [{d}].")
    );
    let r = alice
        .call("one.vm.action", &[P::S("terminate"), P::I(d)])
        .await;
    assert_eq!(
        r.msg(),
        format!("[one.vm.action] User [2] : Not authorized to perform MANAGE VM [{d}].")
    );
    assert_eq!(
        alice
            .call("one.vmpool.info", &[P::I(-2), P::I(-1), P::I(-1), P::I(-1)])
            .await
            .ok(),
        "<VM_POOL></VM_POOL>"
    );
    let r = alice
        .call(
            "one.host.allocate",
            &[P::S("h"), P::S("dummy"), P::S("dummy"), P::I(-1)],
        )
        .await;
    assert_eq!(
        r.msg(),
        "[one.host.allocate] User [2] : Not authorized to perform CREATE HOST; Not authorized to perform ADMIN CLUSTER [0]."
    );
    // Alice's own VM (users may CREATE VMs).
    let mine = alice
        .call(
            "one.vm.allocate",
            &[P::S("NAME = \"a\"\nCPU = 0.1\nMEMORY = 16"), P::B(true)],
        )
        .await
        .id();
    let pool = alice
        .call("one.vmpool.info", &[P::I(-3), P::I(-1), P::I(-1), P::I(-1)])
        .await
        .ok()
        .to_owned();
    assert!(
        pool.contains(&format!("<VM><ID>{mine}</ID><UID>2</UID>")),
        "{pool}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn vm_pool_filters_and_pagination() {
    let (sim, rpc) = start().await;
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(
            rpc.call(
                "one.vm.allocate",
                &[
                    P::O(format!("NAME = \"p{i}\"\nCPU = 0.1\nMEMORY = 16")),
                    P::B(true),
                ],
            )
            .await
            .id(),
        );
    }
    rpc.call("one.vm.action", &[P::S("terminate"), P::I(ids[0])])
        .await
        .id();
    let list = |doc: &str| -> Vec<i32> {
        doc.split("<VM><ID>")
            .skip(1)
            .map(|s| s.split('<').next().unwrap_or("").parse().expect("id"))
            .collect()
    };
    let all = list(
        rpc.call("one.vmpool.info", &[P::I(-2), P::I(-1), P::I(-1), P::I(-1)])
            .await
            .ok(),
    );
    assert_eq!(all, ids[1..].iter().rev().copied().collect::<Vec<_>>());
    let with_done = list(
        rpc.call("one.vmpool.info", &[P::I(-2), P::I(-1), P::I(-1), P::I(-2)])
            .await
            .ok(),
    );
    assert_eq!(with_done.len(), 12);
    let done = list(
        rpc.call("one.vmpool.info", &[P::I(-2), P::I(-1), P::I(-1), P::I(6)])
            .await
            .ok(),
    );
    assert_eq!(done, vec![ids[0]]);
    let range = list(
        rpc.call("one.vmpool.info", &[P::I(-2), P::I(2), P::I(4), P::I(-2)])
            .await
            .ok(),
    );
    assert_eq!(range, vec![4, 3, 2]);
    let page1 = list(
        rpc.call("one.vmpool.info", &[P::I(-2), P::I(0), P::I(-5), P::I(-2)])
            .await
            .ok(),
    );
    let page2 = list(
        rpc.call("one.vmpool.info", &[P::I(-2), P::I(5), P::I(-5), P::I(-2)])
            .await
            .ok(),
    );
    assert_eq!(page1, vec![11, 10, 9, 8, 7]);
    assert_eq!(page2, vec![6, 5, 4, 3, 2]);
    assert_eq!(
        rpc.call(
            "one.vmpool.info",
            &[P::I(-2), P::I(100000), P::I(100010), P::I(-1)]
        )
        .await
        .ok(),
        "<VM_POOL></VM_POOL>"
    );
    let r = rpc
        .call(
            "one.vmpool.info",
            &[P::I(-2), P::I(-1), P::I(-1), P::I(-1), P::S("NAME=p1")],
        )
        .await;
    assert_eq!(
        r.msg(),
        "[one.vmpool.info] JSON query search is not supported by the SQL backend"
    );
    let set = list(
        rpc.call("one.vmpool.infoset", &[P::S("2,3"), P::B(false)])
            .await
            .ok(),
    );
    assert_eq!(set, vec![3, 2]);
    // Snapshots reproduce the state.
    let json = sim.snapshot_json().expect("snapshot");
    let copy = nebulair_sim::one::OneSimulator::builder()
        .snapshot_json(json)
        .start()
        .await
        .expect("start");
    let crpc = one_common::Rpc::new(copy.url());
    assert_eq!(
        list(
            crpc.call("one.vmpool.info", &[P::I(-2), P::I(-1), P::I(-1), P::I(-2)])
                .await
                .ok()
        )
        .len(),
        12
    );
    copy.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test]
async fn onegate_shared_state_api() {
    let sim = nebulair_sim::one::OneSimulator::builder()
        .onegate_endpoint("http://127.0.0.1:5030")
        .start()
        .await
        .expect("start");
    let rpc = one_common::Rpc::new(sim.url());
    let id = rpc
        .call(
            "one.vm.allocate",
            &[
                P::S("NAME = \"g\"\nCPU = 0.1\nMEMORY = 16\nCONTEXT = [ TOKEN = \"YES\" ]"),
                P::B(false),
            ],
        )
        .await
        .id();
    let state = sim.state();
    let token = state.vm_token(id).expect("token");
    assert_eq!(state.vm_by_token(&token), Some(id));
    assert_eq!(state.vm_by_token("nope"), None);
    let doc = rpc.call("one.vm.info", &[P::I(id)]).await.ok().to_owned();
    assert!(
        doc.contains("<ONEGATE_ENDPOINT><![CDATA[http://127.0.0.1:5030]]></ONEGATE_ENDPOINT>"),
        "{doc}"
    );
    state
        .update_user_template(id, "READY = \"YES\"", true)
        .expect("update");
    assert!(
        rpc.call("one.vm.info", &[P::I(id)])
            .await
            .ok()
            .contains("<USER_TEMPLATE><READY><![CDATA[YES]]></READY></USER_TEMPLATE>")
    );
    let view = state.vm_info(id).expect("view");
    assert_eq!(
        view.user_attributes,
        vec![("READY".to_string(), "YES".to_string())]
    );
    state.remove_user_attribute(id, "READY").expect("remove");
    assert!(state.vm_info(id).expect("view").user_attributes.is_empty());
    wait_vm(&rpc, id, "<LCM_STATE>3</LCM_STATE>").await;
    state.vm_action(id, "poweroff").expect("poweroff");
    assert!(state.vm_action(id, "poweroff").is_err());
    assert!(state.vm_info(9999).is_err());
    assert!(
        state
            .vm_xml(id)
            .expect("xml")
            .starts_with(&format!("<VM><ID>{id}</ID>"))
    );
    sim.shutdown().await;
}
