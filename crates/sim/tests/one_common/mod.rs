//! Helpers shared by the OpenNebula simulator integration tests: a raw XML-RPC client over
//! reqwest and a small response decoder.
#![allow(dead_code, unreachable_pub)]

use nebulair_sim::one::{OneSimHandle, OneSimulator};
use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// A parameter.
#[derive(Debug, Clone)]
pub enum P {
    S(&'static str),
    O(String),
    I(i32),
    B(bool),
    I8(i64),
    A(Vec<i32>),
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Encode a call.
pub fn body(method: &str, session: &str, params: &[P]) -> String {
    let mut out = format!(
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>{method}</methodName>\n<params>\n<param><value><string>{}</string></value></param>\n",
        esc(session)
    );
    for p in params {
        let v = match p {
            P::S(s) => format!("<string>{}</string>", esc(s)),
            P::O(s) => format!("<string>{}</string>", esc(s)),
            P::I(i) => format!("<i4>{i}</i4>"),
            P::B(b) => format!("<boolean>{}</boolean>", u8::from(*b)),
            P::I8(i) => format!("<i8>{i}</i8>"),
            P::A(v) => format!(
                "<array><data>{}</data></array>",
                v.iter()
                    .map(|i| format!("<value><i4>{i}</i4></value>"))
                    .collect::<String>()
            ),
        };
        out.push_str(&format!("<param><value>{v}</value></param>\n"));
    }
    out.push_str("</params>\n</methodCall>\n");
    out
}

/// A decoded response.
#[derive(Debug, Clone, PartialEq)]
pub enum Resp {
    /// `[true, value, 0]`; value as text (ints as their digits).
    Ok(String),
    /// `[false, msg, code, id, i8]`.
    Err { msg: String, code: i32, id: i32 },
    /// `<fault>`.
    Fault { code: i32, msg: String },
}

impl Resp {
    pub fn ok(&self) -> &str {
        match self {
            Resp::Ok(s) => s,
            other => panic!("expected success, got {other:?}"),
        }
    }
    pub fn id(&self) -> i32 {
        self.ok().parse().expect("an integer result")
    }
    pub fn code(&self) -> i32 {
        match self {
            Resp::Err { code, .. } => *code,
            Resp::Fault { code, .. } => *code,
            Resp::Ok(v) => panic!("expected an error, got success {v}"),
        }
    }
    pub fn msg(&self) -> &str {
        match self {
            Resp::Err { msg, .. } | Resp::Fault { msg, .. } => msg,
            Resp::Ok(v) => panic!("expected an error, got success {v}"),
        }
    }
}

/// Leaf values of a response in order: (type, text).
pub fn leaves(xml: &str) -> (bool, Vec<(String, String)>) {
    let mut r = Reader::from_str(xml);
    let mut out = Vec::new();
    let mut fault = false;
    let mut cur: Option<String> = None;
    let mut text = String::new();
    loop {
        match r.read_event().expect("well-formed response") {
            Event::Start(e) => {
                let n = e.local_name().as_ref().to_owned();
                if n == "fault" {
                    fault = true;
                }
                if matches!(n.as_str(), "boolean" | "string" | "i4" | "i8" | "int") {
                    cur = Some(n);
                    text.clear();
                }
            }
            Event::Empty(e) if e.local_name().as_ref().as_bytes() == b"string" => {
                out.push(("string".into(), String::new()));
            }
            Event::Text(t) if cur.is_some() => {
                text.push_str(&t.xml10_content());
            }
            Event::GeneralRef(g) if cur.is_some() => {
                let n: &str = &g;
                text.push_str(quick_xml::escape::resolve_predefined_entity(n).expect("entity"));
            }
            Event::End(e) => {
                let n = e.local_name().as_ref().to_owned();
                if cur.as_deref() == Some(n.as_str()) {
                    out.push((n, std::mem::take(&mut text)));
                    cur = None;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    (fault, out)
}

/// Decode a response body.
pub fn decode(xml: &str) -> Resp {
    let (fault, v) = leaves(xml);
    if fault {
        return Resp::Fault {
            code: v[0].1.parse().expect("fault code"),
            msg: v[1].1.clone(),
        };
    }
    if v[0].1 == "1" {
        assert_eq!(v.len(), 3, "success arrays have 3 elements: {xml}");
        Resp::Ok(v[1].1.clone())
    } else {
        assert_eq!(v.len(), 5, "failure arrays have 5 elements: {xml}");
        assert_eq!(v[4], ("i8".to_string(), "-1".to_string()));
        Resp::Err {
            msg: v[1].1.clone(),
            code: v[2].1.parse().expect("code"),
            id: v[3].1.parse().expect("id"),
        }
    }
}

/// A raw XML-RPC client.
pub struct Rpc {
    pub client: reqwest::Client,
    pub url: String,
    pub session: String,
}

impl Rpc {
    pub fn new(url: &str) -> Self {
        let client =
            nebulair_core::config::build_reqwest_client(&nebulair_core::HttpConfig::default())
                .expect("client");
        Self {
            client,
            url: url.to_owned(),
            session: "oneadmin:opennebula".into(),
        }
    }
    pub fn as_user(&self, session: &str) -> Self {
        Self {
            client: self.client.clone(),
            url: self.url.clone(),
            session: session.into(),
        }
    }
    pub async fn raw(&self, body: String) -> String {
        let r = self
            .client
            .post(&self.url)
            .header("Content-Type", "text/xml")
            .body(body)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), 200);
        r.text().await.expect("body")
    }
    pub async fn call(&self, method: &str, params: &[P]) -> Resp {
        decode(&self.raw(body(method, &self.session, params)).await)
    }
}

/// Start a simulator with zero delays.
pub async fn start() -> (OneSimHandle, Rpc) {
    let sim = OneSimulator::builder().start().await.expect("start");
    let rpc = Rpc::new(sim.url());
    (sim, rpc)
}

/// Poll until `f` holds on the `one.vm.info` document (zero delays make this quick).
pub async fn wait_vm(rpc: &Rpc, id: i32, want: &str) -> String {
    for _ in 0..400 {
        let doc = rpc.call("one.vm.info", &[P::I(id)]).await.ok().to_owned();
        if doc.contains(want) {
            return doc;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("VM {id} never reached {want}");
}

/// Exercise every resource group and return every XML document the simulator answered.
pub async fn scenario(rpc: &Rpc) -> Vec<String> {
    let mut docs = Vec::new();
    let mut doc = |r: Resp| {
        let d = r.ok().to_owned();
        assert!(d.starts_with('<'), "{d}");
        docs.push(d);
    };
    // Users, groups, ACLs.
    let g = rpc.call("one.group.allocate", &[P::S("devs")]).await.id();
    let u = rpc
        .call(
            "one.user.allocate",
            &[P::S("alice"), P::S("alicepw"), P::S("core"), P::A(vec![g])],
        )
        .await
        .id();
    rpc.call("one.user.quota", &[P::I(u), P::S("VM = [ VMS = \"10\", MEMORY = \"4096\" ]\nDATASTORE = [ ID = \"1\", IMAGES = \"5\", SIZE = \"10240\" ]")]).await.id();
    rpc.call(
        "one.user.update",
        &[P::I(u), P::S("DESCRIPTION = \"Alice\""), P::I(1)],
    )
    .await
    .id();
    rpc.call(
        "one.user.login",
        &[P::S("oneadmin"), P::S(""), P::I(3600), P::I(-1)],
    )
    .await
    .ok();
    doc(rpc.call("one.user.info", &[P::I(u), P::B(false)]).await);
    doc(rpc.call("one.user.info", &[P::I(-1)]).await);
    doc(rpc.call("one.userpool.info", &[]).await);
    doc(rpc.call("one.group.info", &[P::I(g)]).await);
    doc(rpc.call("one.grouppool.info", &[]).await);
    rpc.call(
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
    doc(rpc.call("one.acl.info", &[]).await);
    // Infrastructure.
    let cl = rpc
        .call("one.cluster.allocate", &[P::S("cluster-a")])
        .await
        .id();
    doc(rpc.call("one.cluster.info", &[P::I(cl)]).await);
    doc(rpc.call("one.clusterpool.info", &[]).await);
    let h = rpc
        .call(
            "one.host.allocate",
            &[P::S("node-x"), P::S("dummy"), P::S("dummy"), P::I(cl)],
        )
        .await
        .id();
    doc(rpc.call("one.host.info", &[P::I(h)]).await);
    doc(rpc.call("one.host.info", &[P::I(0)]).await);
    doc(rpc.call("one.hostpool.info", &[]).await);
    // Host monitoring records follow host.xsd's MONITORING, not monitoring_data.xsd (as
    // in oned), so they are checked by the resource tests instead.
    assert!(
        rpc.call("one.hostpool.monitoring", &[P::I(-1)])
            .await
            .ok()
            .contains("<CAPACITY>")
    );
    let ds = rpc
        .call(
            "one.datastore.allocate",
            &[
                P::S("NAME = \"imgs\"\nDS_MAD = \"dummy\"\nTM_MAD = \"dummy\""),
                P::I(-1),
            ],
        )
        .await
        .id();
    doc(rpc.call("one.datastore.info", &[P::I(ds)]).await);
    doc(rpc.call("one.datastorepool.info", &[]).await);
    doc(rpc.call("one.zone.info", &[P::I(0)]).await);
    doc(rpc.call("one.zonepool.info", &[]).await);
    doc(rpc.call("one.system.config", &[]).await);
    // Images.
    let img = rpc
        .call(
            "one.image.allocate",
            &[
                P::S("NAME = \"img\"\nPATH = \"/tmp/x.img\"\nDESCRIPTION = \"an image\""),
                P::I(ds),
                P::B(true),
            ],
        )
        .await
        .id();
    doc(rpc.call("one.image.info", &[P::I(img)]).await);
    doc(rpc
        .call("one.imagepool.info", &[P::I(-2), P::I(-1), P::I(-1)])
        .await);
    // Networks.
    let vn = rpc.call("one.vn.allocate", &[P::S("NAME = \"net2\"\nVN_MAD = \"bridge\"\nAR = [ TYPE = \"IP4\", IP = \"10.0.0.10\", SIZE = \"50\" ]"), P::I(-1)]).await.id();
    doc(rpc.call("one.vn.info", &[P::I(vn)]).await);
    rpc.call(
        "one.vn.hold",
        &[P::I(0), P::S("LEASES = [ IP = \"192.168.150.120\" ]")],
    )
    .await
    .id();
    rpc.call(
        "one.vn.add_ar",
        &[P::I(0), P::S("AR = [ TYPE = \"ETHER\", SIZE = \"10\" ]")],
    )
    .await
    .id();
    doc(rpc.call("one.vn.info", &[P::I(0)]).await);
    doc(rpc
        .call("one.vnpool.info", &[P::I(-2), P::I(-1), P::I(-1)])
        .await);
    // Security groups, VM groups, documents.
    // (oned sorts vector members, so a RULE with RANGE puts it before RULE_TYPE, which
    // security_group.xsd's fixed sequence refuses; real oned documents share that.)
    let sg = rpc
        .call(
            "one.secgroup.allocate",
            &[P::S(
                "NAME = \"web\"\nRULE = [ PROTOCOL = \"TCP\", RULE_TYPE = \"INBOUND\" ]",
            )],
        )
        .await
        .id();
    doc(rpc.call("one.secgroup.info", &[P::I(sg)]).await);
    doc(rpc
        .call("one.secgrouppool.info", &[P::I(-2), P::I(-1), P::I(-1)])
        .await);
    let vg = rpc
        .call(
            "one.vmgroup.allocate",
            &[P::S("NAME = \"vmg\"\nROLE = [ NAME = \"web\" ]")],
        )
        .await
        .id();
    doc(rpc.call("one.vmgroup.info", &[P::I(vg)]).await);
    doc(rpc
        .call("one.vmgrouppool.info", &[P::I(-2), P::I(-1), P::I(-1)])
        .await);
    let d = rpc
        .call(
            "one.document.allocate",
            &[P::S("NAME = \"doc\"\nBODY = \"{}\""), P::I(100)],
        )
        .await
        .id();
    doc(rpc.call("one.document.info", &[P::I(d)]).await);
    doc(rpc
        .call(
            "one.documentpool.info",
            &[P::I(-2), P::I(-1), P::I(-1), P::I(100)],
        )
        .await);
    // Templates and VMs.
    doc(rpc.call("one.template.info", &[P::I(0)]).await);
    let vm = rpc
        .call(
            "one.template.instantiate",
            &[P::I(0), P::S("vm-a"), P::B(false), P::S(""), P::B(false)],
        )
        .await
        .id();
    let held = rpc
        .call(
            "one.vm.allocate",
            &[
                P::S("NAME = \"held\"\nCPU = \"0.1\"\nMEMORY = \"64\""),
                P::B(true),
            ],
        )
        .await
        .id();
    doc(rpc.call("one.vm.info", &[P::I(held)]).await);
    wait_vm(rpc, vm, "<LCM_STATE>3</LCM_STATE>").await;
    rpc.call("one.vm.lock", &[P::I(held), P::I(1), P::B(false)])
        .await
        .id();
    doc(rpc.call("one.vm.info", &[P::I(held)]).await);
    doc(rpc.call("one.vm.info", &[P::I(vm)]).await);
    doc(rpc
        .call("one.templatepool.info", &[P::I(-2), P::I(-1), P::I(-1)])
        .await);
    doc(rpc
        .call("one.vmpool.info", &[P::I(-2), P::I(-1), P::I(-1), P::I(-1)])
        .await);
    doc(rpc
        .call(
            "one.vmpool.infoextended",
            &[P::I(-2), P::I(-1), P::I(-1), P::I(-1)],
        )
        .await);
    doc(rpc
        .call(
            "one.vmpool.infoset",
            &[P::O(format!("{vm},{held}")), P::B(false)],
        )
        .await);
    doc(rpc.call("one.vm.monitoring", &[P::I(vm)]).await);
    doc(rpc
        .call("one.vmpool.monitoring", &[P::I(-2), P::I(-1)])
        .await);
    // a virtual router with one VM
    let vr = rpc
        .call(
            "one.vrouter.allocate",
            &[P::S("NAME = \"gw\"\nNIC = [ NETWORK_ID = \"0\" ]")],
        )
        .await
        .id();
    rpc.call(
        "one.vrouter.instantiate",
        &[P::I(vr), P::I(1), P::I(0), P::S(""), P::B(true), P::S("")],
    )
    .await
    .id();
    doc(rpc.call("one.vrouter.info", &[P::I(vr)]).await);
    doc(rpc
        .call("one.vrouterpool.info", &[P::I(-2), P::I(-1), P::I(-1)])
        .await);
    // VDCs: the default one and a new one with resources
    let vdc = rpc
        .call("one.vdc.allocate", &[P::S("NAME = \"v1\"")])
        .await
        .id();
    rpc.call("one.vdc.addgroup", &[P::I(vdc), P::I(1)])
        .await
        .id();
    rpc.call("one.vdc.addhost", &[P::I(vdc), P::I(0), P::I(0)])
        .await
        .id();
    rpc.call("one.vdc.addvnet", &[P::I(vdc), P::I(0), P::I(-10)])
        .await
        .id();
    doc(rpc.call("one.vdc.info", &[P::I(vdc)]).await);
    doc(rpc.call("one.vdcpool.info", &[]).await);
    // a virtual network template, instantiated into a network
    let vnt = rpc
        .call(
            "one.vntemplate.allocate",
            &[P::S("NAME = \"lab-net\"\nVN_MAD = \"bridge\"\nAR = [ TYPE = \"IP4\", IP = \"10.9.0.1\", SIZE = \"8\" ]")],
        )
        .await
        .id();
    doc(rpc.call("one.vntemplate.info", &[P::I(vnt)]).await);
    doc(rpc
        .call("one.vntemplatepool.info", &[P::I(-2), P::I(-1), P::I(-1)])
        .await);
    let net = rpc
        .call(
            "one.vntemplate.instantiate",
            &[P::I(vnt), P::S("lab-1"), P::S("")],
        )
        .await
        .id();
    doc(rpc.call("one.vn.info", &[P::I(net)]).await);
    // a system snapshot and two disk snapshots show in the VM document
    rpc.call("one.vm.snapshotcreate", &[P::I(vm), P::S("snap")])
        .await
        .id();
    wait_vm(rpc, vm, "<LCM_STATE>3</LCM_STATE>").await;
    for name in ["d0", "d1"] {
        rpc.call(
            "one.vm.disksnapshotcreate",
            &[P::I(vm), P::I(0), P::S(name)],
        )
        .await
        .id();
        wait_vm(rpc, vm, "<LCM_STATE>3</LCM_STATE>").await;
    }
    doc(rpc.call("one.vm.info", &[P::I(vm)]).await);
    // quota usage counted from live VMs (user, group and both pools)
    doc(rpc.call("one.user.info", &[P::I(0)]).await);
    doc(rpc.call("one.userpool.info", &[]).await);
    doc(rpc.call("one.group.info", &[P::I(0)]).await);
    doc(rpc.call("one.grouppool.info", &[]).await);
    // the families served since the simulator has every method
    rpc.call(
        "one.vm.schedadd",
        &[
            P::I(vm),
            P::S("SCHED_ACTION = [ ACTION = \"hold\", TIME = \"4102444800\" ]"),
        ],
    )
    .await
    .id();
    doc(rpc.call("one.vm.info", &[P::I(vm)]).await);
    let hook = rpc
        .call(
            "one.hook.allocate",
            &[P::S(
                "NAME = \"h\"\nTYPE = \"api\"\nCALL = \"one.zone.info\"\nCOMMAND = \"/bin/true\"",
            )],
        )
        .await
        .id();
    rpc.call("one.zone.info", &[P::I(0)]).await.ok();
    doc(rpc.call("one.hook.info", &[P::I(hook)]).await);
    doc(rpc.call("one.hookpool.info", &[]).await);
    doc(rpc.call("one.market.info", &[P::I(0)]).await);
    doc(rpc.call("one.marketpool.info", &[]).await);
    let market = rpc
        .call(
            "one.market.allocate",
            &[P::S(
                "NAME = \"m\"\nMARKET_MAD = \"http\"\nBASE_URL = \"http://127.0.0.1:1/\"",
            )],
        )
        .await
        .id();
    let img = rpc
        .call(
            "one.image.allocate",
            &[P::S("NAME = \"for-app\"\nPATH = \"/tmp/a.img\""), P::I(1)],
        )
        .await
        .id();
    let app = rpc
        .call(
            "one.marketapp.allocate",
            &[
                P::O(format!("NAME = \"app\"\nORIGIN_ID = \"{img}\"")),
                P::I(market),
            ],
        )
        .await
        .id();
    doc(rpc.call("one.marketapp.info", &[P::I(app)]).await);
    doc(rpc
        .call("one.marketapppool.info", &[P::I(-2), P::I(-1), P::I(-1)])
        .await);
    let job = rpc
        .call("one.backupjob.allocate", &[P::S("NAME = \"bj\"")])
        .await
        .id();
    rpc.call("one.backupjob.schedadd", &[P::I(job), P::S("SCHED_ACTION = [ TIME = \"4102444800\", REPEAT = \"0\", DAYS = \"1\", END_TYPE = \"0\" ]")])
        .await
        .id();
    doc(rpc.call("one.backupjob.info", &[P::I(job)]).await);
    doc(rpc
        .call("one.backupjobpool.info", &[P::I(-2), P::I(-1), P::I(-1)])
        .await);
    doc(rpc.call("one.zone.raftstatus", &[]).await);
    doc(rpc
        .call("one.vmpool.accounting", &[P::I(-2), P::I(-1), P::I(-1)])
        .await);
    rpc.call(
        "one.vmpool.calculateshowback",
        &[P::I(1), P::I(2020), P::I(12), P::I(2100)],
    )
    .await
    .ok();
    doc(rpc
        .call(
            "one.vmpool.showback",
            &[P::I(-2), P::I(1), P::I(2020), P::I(12), P::I(2100)],
        )
        .await);
    rpc.call("one.vm.action", &[P::S("terminate-hard"), P::I(vm)])
        .await
        .id();
    wait_vm(rpc, vm, "<STATE>6</STATE>").await;
    doc(rpc.call("one.vm.info", &[P::I(vm)]).await);
    doc(rpc
        .call("one.vmpool.info", &[P::I(-2), P::I(-1), P::I(-1), P::I(-2)])
        .await);
    // A VM's TEMPLATE completed as oned does (image disk, volatile disk, NIC, network
    // context, requirements, security group rules, VNC port, a repeating scheduled
    // action), a persistent image with the snapshots its disk left, a network with its
    // virtual router.
    let img = rpc
        .call(
            "one.image.allocate",
            &[
                P::S("NAME = \"xsd-pers\"\nTYPE = \"DATABLOCK\"\nSIZE = \"16\"\nPERSISTENT = \"YES\""),
                P::I(1),
                P::B(false),
            ],
        )
        .await
        .id();
    let full = rpc
        .call(
            "one.vm.allocate",
            &[
                P::O(format!(
                    "NAME = \"xsd-full\"\nCPU = \"1\"\nMEMORY = \"64\"\nDISK = [ IMAGE_ID = \"{img}\" ]\nDISK = [ TYPE = \"swap\", SIZE = \"8\" ]\nNIC = [ NETWORK_ID = \"0\" ]\nCONTEXT = [ NETWORK = \"YES\" ]\nGRAPHICS = [ TYPE = \"VNC\" ]\nOS = [ BOOT = \"disk0\" ]\nSCHED_ACTION = [ ACTION = \"reboot\", TIME = \"+3600\", REPEAT = \"3\", DAYS = \"6\", END_TYPE = \"0\" ]"
                )),
                P::B(false),
            ],
        )
        .await
        .id();
    wait_vm(rpc, full, "<LCM_STATE>3</LCM_STATE>").await;
    rpc.call(
        "one.vm.disksnapshotcreate",
        &[P::I(full), P::I(0), P::S("xsd-snap")],
    )
    .await
    .id();
    wait_vm(rpc, full, "<LCM_STATE>3</LCM_STATE>").await;
    doc(rpc.call("one.vm.info", &[P::I(full)]).await);
    doc(rpc
        .call(
            "one.vmpool.infoextended",
            &[P::I(-2), P::I(-1), P::I(-1), P::I(-1)],
        )
        .await);
    rpc.call("one.vm.action", &[P::S("terminate-hard"), P::I(full)])
        .await
        .id();
    wait_vm(rpc, full, "<STATE>6</STATE>").await;
    doc(rpc.call("one.image.info", &[P::I(img)]).await);
    rpc.call(
        "one.vrouter.allocate",
        &[P::S("NAME = \"xsd-vr\"\nNIC = [ NETWORK_ID = \"0\" ]")],
    )
    .await
    .id();
    doc(rpc.call("one.vn.info", &[P::I(0)]).await);
    docs
}
