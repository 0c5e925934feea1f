//! The `nebulair` binary as operators use it: pipes into `head`, option placement,
//! secrets, colour, deadlines, hints, names, confirmations and output formats
//! (issue #17, and the CLI items of #15).

mod support;

use std::io::Read as _;
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use predicates::prelude::*;
use support::*;

/// A reader that closes the pipe after the first bytes: the command must end quietly.
fn closes_early(mut cmd: StdCommand) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let mut first = [0u8; 16];
    out.read_exact(&mut first).expect("first bytes");
    drop(out);
    let output = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{:?} exit {:?}: {err}",
        cmd.get_args().collect::<Vec<_>>(),
        output.status.code()
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.contains("Broken pipe"), "{err}");
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let home = tempfile::tempdir().expect("home");
    for shell in ["bash", "zsh", "fish"] {
        let mut c = StdCommand::new(assert_cmd::cargo::cargo_bin("nebulair"));
        c.args(["completions", shell]).env("HOME", home.path());
        closes_early(c);
    }
    #[cfg(feature = "simulators")]
    {
        let mut c = StdCommand::new(assert_cmd::cargo::cargo_bin("nebulair"));
        c.args(["demo", "--fast", "--cloud", "vcloud"])
            .env("HOME", home.path());
        closes_early(c);
    }
}

#[test]
fn one_call_options_anywhere_json_decoded_and_tokens_never_printed() {
    let env = OneEnv::start();
    // `-o json` after the arguments is an option, not two more XML-RPC parameters;
    // negative numbers need no `--`.
    let out = env
        .one()
        .args(["call", "one.user.info", "-1", "-o", "json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    // The XML answer is decoded, not a string holding XML.
    assert_eq!(v["USER"]["NAME"], "oneadmin", "{v}");
    assert_eq!(v["USER"]["ID"], 0, "{v}");
    assert_eq!(v["USER"]["PASSWORD"], "(redacted)", "{v}");
    // Element order is kept (ID before GID before NAME, as oned writes them).
    let text = stdout_of(&out);
    let (id, gid, name) = (
        text.find("\"ID\"").expect("ID"),
        text.find("\"GID\"").expect("GID"),
        text.find("\"NAME\"").expect("NAME"),
    );
    assert!(id < gid && gid < name, "{text}");
    // The same with -o before, and with `--` (then `-o` would be an argument).
    env.one()
        .args(["-o", "yaml", "call", "one.user.info", "-1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("USER:\n  ID: 0\n"));

    // one.user.login answers with the token itself: never printed, in any format.
    let client = env.client();
    for fmt in ["table", "json", "yaml"] {
        let out = env
            .one()
            .args([
                "call",
                "one.user.login",
                "oneadmin",
                "",
                "3600",
                "-1",
                "-o",
                fmt,
            ])
            .output()
            .expect("run");
        assert!(out.status.success(), "{}", stderr_of(&out));
        let text = stdout_of(&out);
        assert!(text.contains("(redacted)"), "{text}");
        let hex64 = text
            .split(|c: char| !c.is_ascii_hexdigit())
            .any(|w| w.len() >= 32);
        assert!(!hex64, "a token in the {fmt} output: {text}");
    }
    // The tokens exist on the server (the call did its work), and none was printed.
    let user = env
        .rt
        .block_on(client.user(nebulair_opennebula::ids::UserId::new(0)).info())
        .expect("user");
    let tokens = serde_json::to_string(&user).expect("json");
    assert!(
        tokens.contains("login_token") || tokens.contains("LOGIN_TOKEN"),
        "{tokens}"
    );
}

#[test]
fn logs_have_no_colour_codes_when_stderr_is_not_a_terminal() {
    let home = tempfile::tempdir().expect("home");
    // -vv logs at debug level; stderr is a pipe here.
    let out = nebulair(home.path())
        .args([
            "-vv",
            "one",
            "--endpoint",
            "http://127.0.0.1:9/RPC2",
            "version",
        ])
        .env("ONE_AUTH", home.path().join("nope"))
        .output()
        .expect("run");
    let err = stderr_of(&out);
    assert!(!err.contains('\u{1b}'), "ANSI codes in {err:?}");
    // Tables: colour only when asked for and never with NO_COLOR.
    let env = OneEnv::start();
    let plain = env.one().args(["host", "list"]).output().expect("run");
    assert!(!stdout_of(&plain).contains('\u{1b}'));
    let coloured = env
        .one()
        .args(["host", "list", "--color", "always"])
        .output()
        .expect("run");
    assert!(stdout_of(&coloured).contains("\u{1b}[1m"));
    let no_color = env
        .one()
        .args(["host", "list", "--color", "always"])
        .env("NO_COLOR", "1")
        .output()
        .expect("run");
    assert!(!stdout_of(&no_color).contains('\u{1b}'));
}

#[test]
fn a_bad_ca_file_gets_a_hint_about_the_file() {
    let home = tempfile::tempdir().expect("home");
    let bad = home.path().join("ca.pem");
    std::fs::write(&bad, "not a certificate\n").expect("write");
    for ca in [bad.clone(), home.path().join("missing.pem")] {
        let out = nebulair(home.path())
            .args(["one", "--endpoint", "https://127.0.0.1:9/RPC2", "--ca-cert"])
            .arg(&ca)
            .args(["version"])
            .env("ONE_AUTH", home.path().join("nope"))
            .output()
            .expect("run");
        assert!(!out.status.success());
        let err = stderr_of(&out);
        assert!(err.contains("--ca-cert"), "{err}");
        assert!(err.contains("PEM"), "{err}");
        assert!(!err.to_lowercase().contains("password"), "{err}");
    }
}

#[test]
fn the_deadline_covers_every_attempt_against_a_silent_server() {
    let home = tempfile::tempdir().expect("home");
    let url = silent_server();
    let auth = home.path().join("one_auth");
    std::fs::write(&auth, "oneadmin:x\n").expect("auth");
    let started = Instant::now();
    let out = nebulair(home.path())
        .args([
            "one",
            "--endpoint",
            &format!("{url}/RPC2"),
            "vm",
            "list",
            "--timeout",
            "3",
        ])
        .env("ONE_AUTH", &auth)
        .output()
        .expect("run");
    let took = started.elapsed();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(took < Duration::from_secs(10), "took {took:?}: {err}");
    assert!(took >= Duration::from_secs(3), "took {took:?}: {err}");
    // the deadline is named (the retry policy's, or the command's own as a backstop),
    // and each retry before it was a warning naming the attempt
    assert!(err.contains("deadline"), "{err}");
    assert!(err.contains("attempt 1 of"), "{err}");
}

#[test]
fn global_options_are_listed_apart_from_the_commands_own() {
    let home = tempfile::tempdir().expect("home");
    let out = nebulair(home.path())
        .args(["one", "vm", "list", "--help"])
        .output()
        .expect("run");
    let help = stdout_of(&out);
    let global = help
        .find("Global options:")
        .expect("a Global options section");
    let conn = help
        .find("Connection options:")
        .expect("a Connection options section");
    let own = help.find("--state").expect("--state");
    assert!(own < global && own < conn, "{help}");
    assert!(help[global..].contains("--output"), "{help}");
    assert!(help[conn..].contains("--endpoint"), "{help}");
    let out = nebulair(home.path())
        .args(["vcloud", "firewall", "list", "--help"])
        .output()
        .expect("run");
    let help = stdout_of(&out);
    assert_eq!(help.matches("[env: VCD_EDGE").count(), 1, "{help}");
}

/// Two VMs, `web` running and `db` powered off, and a second `db`-like name pair.
fn vms_running_and_off(env: &OneEnv) -> (i32, i32) {
    use nebulair_opennebula::ids::VmId;
    use nebulair_opennebula::{Template, VmAction};
    let c = env.client();
    env.rt.block_on(async {
        let mk = |name: &str| {
            Template::new()
                .with("NAME", name)
                .with("CPU", "1")
                .with("MEMORY", "128")
        };
        let web = c.vms().allocate(&mk("web")).await.expect("web");
        let db = c.vms().allocate(&mk("db")).await.expect("db");
        let wait = |id: VmId, state: i64, lcm: i64| {
            let c = c.clone();
            async move {
                for _ in 0..200 {
                    let vm = c.vm(id).info().await.expect("info");
                    if vm.state == Some(state) && vm.lcm_state == Some(lcm) {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                panic!("VM {id} never reached {state}/{lcm}");
            }
        };
        wait(web, 3, 3).await;
        wait(db, 3, 3).await;
        c.vm(db)
            .action(VmAction::PoweroffHard)
            .await
            .expect("poweroff");
        wait(db, 8, 0).await;
        (web.get(), db.get())
    })
}

#[test]
fn names_work_where_ids_do_and_states_filter_by_any_name() {
    let env = OneEnv::start();
    let (web, db) = vms_running_and_off(&env);
    // show by name, the same VM as by id
    let by_name = env
        .one()
        .args(["vm", "show", "web", "-o", "json"])
        .output()
        .expect("run");
    assert!(by_name.status.success(), "{}", stderr_of(&by_name));
    let v: serde_json::Value = serde_json::from_slice(&by_name.stdout).expect("json");
    assert_eq!(v["id"], web);
    assert_eq!(v["state_name"], "ACTIVE");
    assert_eq!(v["lcm_state_name"], "RUNNING");
    // an unknown name is "not found" (exit 4) with a hint, never "invalid digit"
    let out = env
        .one()
        .args(["vm", "show", "nope"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(err.contains("no VM is named \"nope\""), "{err}");
    assert!(!err.contains("invalid digit"), "{err}");
    // host and template by name
    env.one()
        .args(["host", "show", "host01", "-o", "json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"state_name\": \"MONITORED\""));

    // --state: the LCM name the table shows, the short name, the VM state
    let ids = |args: &[&str]| -> Vec<i64> {
        let out = env
            .one()
            .args(["vm", "list", "-o", "json"])
            .args(args)
            .output()
            .expect("run");
        assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        v.as_array()
            .expect("list")
            .iter()
            .map(|vm| vm["id"].as_i64().expect("id"))
            .collect()
    };
    assert_eq!(ids(&["--state", "RUNNING"]), [i64::from(web)]);
    assert_eq!(ids(&["--state", "runn"]), [i64::from(web)]);
    assert_eq!(ids(&["--state", "poff"]), [i64::from(db)]);
    assert_eq!(ids(&["--state", "POWEROFF"]), [i64::from(db)]);
    let mut all = ids(&[]);
    all.sort();
    assert_eq!(all, [i64::from(web), i64::from(db)]);
    env.one()
        .args(["vm", "list", "--state", "sleeping"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("runn"));

    // actions on several VMs by name: all found first, so a bad one changes nothing
    env.one()
        .args(["vm", "action", "poweroff-hard", "web", "missing"])
        .assert()
        .code(4);
    let vm = env
        .rt
        .block_on(
            env.client()
                .vm(nebulair_opennebula::ids::VmId::new(web))
                .info(),
        )
        .expect("web");
    assert_eq!(vm.state, Some(3), "web must still run");
}

#[test]
fn vm_list_has_onevm_columns_short_states_time_and_chosen_columns() {
    let env = OneEnv::start();
    let (web, db) = vms_running_and_off(&env);
    let out = env.one().args(["vm", "list"]).output().expect("run");
    let text = stdout_of(&out);
    let header: Vec<&str> = text
        .lines()
        .next()
        .expect("header")
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "ID", "USER", "GROUP", "NAME", "STAT", "CPU", "MEM", "HOST", "TIME"
        ]
    );
    let row = |id: i32| -> Vec<String> {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(&id.to_string()))
            .expect("row")
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(row(web)[4], "runn", "{text}");
    assert_eq!(row(db)[4], "poff", "{text}");
    assert!(row(web)[8].ends_with('d'), "TIME is like 0d 00h00: {text}");
    // --columns (and its onevm alias --list), any case
    let out = env
        .one()
        .args(["vm", "list", "--columns", "id,name,stat,ip"])
        .output()
        .expect("run");
    let text = stdout_of(&out);
    assert_eq!(
        text.lines()
            .next()
            .expect("header")
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["ID", "NAME", "STAT", "IP"]
    );
    env.one()
        .args(["vm", "list", "--list", "ID,NAME"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("ID"));
    env.one()
        .args(["vm", "list", "--columns", "ID,COLOUR"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("known: ID, USER"));
    // -o wide: every column
    let out = env
        .one()
        .args(["vm", "list", "-o", "wide"])
        .output()
        .expect("run");
    let header = stdout_of(&out);
    for col in ["LCM_STATE", "RESCHED", "START"] {
        assert!(header.lines().next().expect("h").contains(col), "{header}");
    }
    // a narrow terminal: lines fit (long cells wrap)
    let out = env
        .one()
        .args(["vm", "list"])
        .env("COLUMNS", "56")
        .output()
        .expect("run");
    for line in stdout_of(&out).lines() {
        assert!(line.chars().count() <= 56, "{line:?}");
    }
}

/// Keys of a JSON object in document order (serde_json without preserve_order sorts
/// them, so they are read from the text).
fn keys_in_order(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            '"' => {
                let mut s = String::new();
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        c => s.push(c),
                    }
                }
                // a key at the depth of the list items' fields
                let rest: String = chars.clone().map(|(_, c)| c).take(2).collect();
                if depth == 2 && rest.starts_with(':') {
                    out.push(s);
                }
            }
            _ => {}
        }
    }
    out
}

#[test]
fn every_list_json_is_valid_ordered_and_names_states() {
    let env = OneEnv::start();
    vms_running_and_off(&env);
    let lists: &[(&[&str], &[&str])] = &[
        (&["vm", "list"], &["state", "lcm_state"]),
        (&["host", "list"], &["state"]),
        (&["template", "list"], &[]),
        (&["image", "list"], &["state"]),
        (&["vnet", "list"], &["state"]),
    ];
    for (args, states) in lists {
        for fmt in ["json", "yaml"] {
            let out = env
                .one()
                .args(*args)
                .args(["-o", fmt])
                .output()
                .expect("run");
            assert!(out.status.success(), "{args:?}: {}", stderr_of(&out));
            let text = stdout_of(&out);
            if fmt == "yaml" {
                // YAML keeps the same order: id first, like JSON.
                assert!(
                    text.starts_with("- id: ") || text == "[]\n",
                    "{args:?}: {text}"
                );
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
            let items = v.as_array().expect("a list");
            assert!(!items.is_empty() || args[0] == "image", "{args:?} is empty");
            if items.is_empty() {
                continue;
            }
            let keys = keys_in_order(&text);
            assert_eq!(
                keys.first().map(String::as_str),
                Some("id"),
                "{args:?}: {keys:?}"
            );
            if keys.contains(&"name".to_owned()) {
                let pos = |k: &str| keys.iter().position(|x| x == k);
                assert!(pos("id") < pos("name"), "{args:?}: {keys:?}");
            }
            for item in items {
                for st in *states {
                    if item.get(*st).is_some() {
                        let name = &item[format!("{st}_name")];
                        assert!(name.is_string(), "{args:?} {st}: {item}");
                        let at = keys.iter().position(|k| k == st).expect("state key");
                        assert_eq!(keys[at + 1], format!("{st}_name"), "{args:?}: {keys:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn every_resource_family_lists_as_json_and_tables() {
    let env = OneEnv::start();
    // Families the simulator implements today; market, marketapp, hook and backupjob
    // are listed when the simulator answers (it may not yet: then the error must be the
    // server's "not implemented", never a CLI failure).
    let families = [
        "vm",
        "host",
        "template",
        "image",
        "vnet",
        "vntemplate",
        "secgroup",
        "vmgroup",
        "user",
        "group",
        "acl",
        "cluster",
        "datastore",
        "zone",
        "vdc",
        "vrouter",
        "document",
        "market",
        "marketapp",
        "hook",
        "backupjob",
    ];
    for f in families {
        let out = env
            .one()
            .args([f, "list", "-o", "json"])
            .output()
            .expect("run");
        let err = stderr_of(&out);
        assert!(out.status.success(), "{f}: {err}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
        let items = v
            .as_array()
            .unwrap_or_else(|| panic!("{f}: not a list: {v}"));
        if let Some(first) = items.first() {
            let text = stdout_of(&out);
            assert_eq!(
                keys_in_order(&text).first().map(String::as_str),
                Some("id"),
                "{f}: {text}"
            );
            // documents and virtual routers carry no named states
            if first.get("state").is_some_and(|s| s.is_i64())
                && !matches!(f, "document" | "vrouter")
            {
                assert!(first.get("state_name").is_some(), "{f}: {first}");
            }
        }
        let table = env.one().args([f, "list"]).output().expect("run");
        assert!(table.status.success(), "{f}: {}", stderr_of(&table));
        assert!(
            stdout_of(&table).starts_with("ID") || stdout_of(&table).starts_with(" ID"),
            "{f}"
        );
    }
    // Datastores name their state and type.
    env.one()
        .args(["datastore", "show", "default", "-o", "json"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("\"state_name\": \"READY\"")
                .and(predicate::str::contains("\"type_name\": \"IMAGE\"")),
        );
}

#[test]
fn create_update_rename_and_delete_with_names_yes_dry_run_and_a_prompt() {
    let env = OneEnv::start();
    let tpl = env.dir.path().join("sg.tpl");
    std::fs::write(&tpl, "NAME = \"web-sg\"\nDESCRIPTION = \"web\"\n").expect("tpl");
    let out = env
        .one()
        .args(["secgroup", "create"])
        .arg(&tpl)
        .args(["-o", "json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let id = serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")["id"]
        .as_i64()
        .expect("id");
    let c = env.client();
    let sg = |id: i64| {
        env.rt.block_on(
            c.secgroup(nebulair_opennebula::ids::SecGroupId::new(
                i32::try_from(id).expect("id"),
            ))
            .info(),
        )
    };
    // update and rename by name, re-read through the library
    let extra = env.dir.path().join("extra.tpl");
    std::fs::write(&extra, "LABEL = \"prod\"\n").expect("tpl");
    env.one()
        .args(["secgroup", "update", "web-sg"])
        .arg(&extra)
        .arg("--merge")
        .assert()
        .success();
    env.one()
        .args(["secgroup", "rename", "web-sg", "web-sg2"])
        .assert()
        .success();
    let now = sg(id).expect("info");
    assert_eq!(now.name.as_deref(), Some("web-sg2"));
    assert_eq!(now.template.get_str("LABEL"), Some("prod"));

    // delete: an unknown name among the arguments stops everything before any request
    env.one()
        .args(["secgroup", "delete", "web-sg2", "nope", "--yes"])
        .assert()
        .code(4);
    assert!(sg(id).is_ok(), "nothing was deleted");
    // no terminal and no --yes: refused, naming --yes
    env.one()
        .args(["secgroup", "delete", "web-sg2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--yes"));
    // --dry-run says what would happen and does nothing
    env.one()
        .args(["secgroup", "delete", "web-sg2", "--dry-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "would delete security group {id} (web-sg2)"
        )));
    assert!(sg(id).is_ok());
    // a prompt (terminal test hook): "n" keeps it, "y" deletes it
    env.one()
        .args(["secgroup", "delete", "web-sg2"])
        .env("NEBULAIR_TEST_TERMINAL", "1")
        .write_stdin("n\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("[y/N]"));
    assert!(sg(id).is_ok());
    env.one()
        .args(["secgroup", "delete", "web-sg2"])
        .env("NEBULAIR_TEST_TERMINAL", "1")
        .write_stdin("y\n")
        .assert()
        .success();
    assert!(sg(id).is_err(), "deleted");

    // groups and users by name; a user's password never on the command line
    env.one()
        .args(["group", "create", "devs"])
        .assert()
        .success();
    let pw = env.dir.path().join("pw");
    std::fs::write(&pw, "s3cret-pass\n").expect("pw");
    let out = env
        .one()
        .args(["user", "create", "alice", "--password-file"])
        .arg(&pw)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    let out = env
        .one()
        .args(["user", "show", "alice", "-o", "json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(!stdout_of(&out).contains("s3cret-pass"));
    env.one()
        .args(["user", "delete", "alice", "--yes"])
        .assert()
        .success();
    env.one().args(["user", "show", "alice"]).assert().code(4);
}

#[test]
fn a_password_prompt_on_a_terminal_is_hidden_and_used() {
    let env = OneEnv::start();
    // the terminal test hook: the answer comes from stdin, the prompt goes to stderr
    let out = env
        .bare()
        .args([
            "one",
            "--endpoint",
            &env.url(),
            "--user",
            "oneadmin",
            "version",
        ])
        .env("NEBULAIR_TEST_TERMINAL", "1")
        .write_stdin(format!("{ONE_PASSWORD}\n"))
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("Password for oneadmin: "));
    assert!(!stdout_of(&out).contains(ONE_PASSWORD));
    assert!(!stderr_of(&out).contains(ONE_PASSWORD));
    // without a terminal, a clear error instead of a hang
    env.bare()
        .args([
            "one",
            "--endpoint",
            &env.url(),
            "--user",
            "oneadmin",
            "version",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--password-stdin"));
}

/// A loopback server that accepts connections and closes each one at once; its address
/// and a counter of the connections it saw.
fn closing_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let s2 = seen.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            s2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(s);
        }
    });
    (format!("http://{addr}/RPC2"), seen)
}

#[test]
fn retries_show_as_warnings_at_normal_verbosity() {
    let home = tempfile::tempdir().expect("home");
    let auth = home.path().join("one_auth");
    std::fs::write(&auth, "oneadmin:x\n").expect("auth");
    let (url, seen) = closing_server();
    let out = nebulair(home.path())
        .args(["one", "--endpoint", &url, "host", "list", "--timeout", "20"])
        .env("ONE_AUTH", &auth)
        .output()
        .expect("run");
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(
        seen.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "retried: {err}"
    );
    // one warning line per retry, naming the attempt and the cause
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("WARN")).collect();
    assert!(!warnings.is_empty(), "{err}");
    assert!(warnings[0].contains("attempt 1 of"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err}");
}
