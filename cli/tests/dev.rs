//! The README's walkthrough, run as a user would: `procedo dev` in a fresh
//! data folder, then the client commands against it.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};

const PROCEDO: &str = env!("CARGO_BIN_EXE_procedo");

struct Dev {
    child: Child,
    endpoint: String,
    workflow_endpoint: String,
    document_endpoint: String,
    compliance_endpoint: String,
    token: String,
    _data: tempfile::TempDir,
}

impl Dev {
    /// `procedo dev` on free ports (port 0), its endpoints and admin token
    /// read from the endpoints file it writes once ready.
    fn start() -> Dev {
        Dev::start_with(&[])
    }

    /// `procedo dev` as [`Dev::start`] starts it, with `env` added.
    fn start_with(env: &[(&str, &str)]) -> Dev {
        let data = tempfile::tempdir().expect("a data folder");
        let endpoints_file = data.path().join("endpoints.json");
        let mut child = Command::new(PROCEDO)
            .args(["dev", "--intake-port", "0", "--workflow-port", "0"])
            .args(["--document-port", "0", "--compliance-port", "0"])
            .args(["--audit-checkpoint-interval", "1h", "--endpoints-file"])
            .arg(&endpoints_file)
            .arg("--data-dir")
            .arg(data.path())
            .env_remove("PROCEDO_JWT_SECRET")
            .env("PROCEDO_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .expect("procedo dev starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut banner = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("a line");
            let last = line.starts_with("Stop with Ctrl-C");
            banner.push(line);
            if last {
                break;
            }
        }
        assert!(
            banner
                .iter()
                .any(|l| l.starts_with("Procedo dev is ready in")),
            "procedo dev said it is ready: {banner:?}"
        );
        let file: serde_json::Value = serde_json::from_slice(
            &std::fs::read(&endpoints_file).expect("the endpoints file is written once ready"),
        )
        .expect("the endpoints file is JSON");
        let endpoint = |name: &str| {
            let url = file["endpoints"][name]
                .as_str()
                .unwrap_or_else(|| panic!("{name} in {file}"))
                .to_owned();
            // Ports other than the defaults are shown as the exports a
            // shell needs.
            let export = format!("  export PROCEDO_{}_ENDPOINT={url}", name.to_uppercase());
            assert!(banner.contains(&export), "{export:?} in {banner:?}");
            url
        };
        Dev {
            endpoint: endpoint("intake"),
            workflow_endpoint: endpoint("workflow"),
            document_endpoint: endpoint("document"),
            compliance_endpoint: endpoint("compliance"),
            token: file["token"].as_str().expect("an admin token").to_owned(),
            child,
            _data: data,
        }
    }

    /// Runs `procedo <args>` against this server as the admin.
    fn procedo(&self, args: &[&str]) -> std::process::Output {
        self.procedo_as(&self.token, args)
    }

    fn procedo_as(&self, token: &str, args: &[&str]) -> std::process::Output {
        Command::new(PROCEDO)
            .args(args)
            .env("PROCEDO_INTAKE_ENDPOINT", &self.endpoint)
            .env("PROCEDO_WORKFLOW_ENDPOINT", &self.workflow_endpoint)
            .env("PROCEDO_DOCUMENT_ENDPOINT", &self.document_endpoint)
            .env("PROCEDO_COMPLIANCE_ENDPOINT", &self.compliance_endpoint)
            .env("PROCEDO_TOKEN", token)
            .output()
            .expect("procedo runs")
    }

    fn stop(mut self) -> std::process::ExitStatus {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        self.child.wait().expect("procedo dev exits")
    }
}

/// A test that fails midway leaves no server behind.
impl Drop for Dev {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `-o json` output of a list: one object a line.
fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect()
}

fn ok(output: std::process::Output) -> String {
    assert!(
        output.status.success(),
        "procedo failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

/// The audit log as an auditor uses it: every change procedo dev's
/// services make arrives; a checkpoint is signed; an export and a proof
/// verify offline, and a changed byte in either does not.
#[test]
fn the_audit_log_is_exported_proved_and_verified_offline() {
    let dev = Dev::start();
    ok(dev.procedo(&[
        "intake",
        "types",
        "create",
        "--code",
        "loan",
        "--name",
        "Loan",
        "--time-limit",
        "5days",
    ]));
    ok(dev.procedo(&[
        "document",
        "categories",
        "create",
        "--code",
        "rep",
        "--name",
        "Reports",
        "--pattern",
        "R-{seq:4}",
    ]));
    // Both changes' audit records reach compliance.
    let mut entries = Vec::new();
    for _ in 0..100 {
        entries = json_lines(&ok(dev.procedo(&["audit", "entries", "-o", "json"])));
        if entries.len() >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let sources: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["source"].as_str())
        .collect();
    assert!(
        sources.contains(&"procedo.intake") && sources.contains(&"procedo.document"),
        "{entries:?}"
    );
    let checkpoint = ok(dev.procedo(&["audit", "checkpoint", "--create"]));
    assert!(checkpoint.contains("procedo.local/audit"), "{checkpoint}");
    assert!(ok(dev.procedo(&["audit", "check"])).contains("verified"));
    let keys = json_lines(&ok(dev.procedo(&["audit", "keys", "-o", "json"])));
    let key = keys[0]["verifier"]
        .as_str()
        .expect("a verifier key")
        .to_owned();

    let folder = tempfile::tempdir().expect("a folder");
    let export = folder.path().join("audit.jsonl");
    let export = export.to_str().expect("path");
    ok(dev.procedo(&["audit", "export", "--out", export]));
    let verified = ok(dev.procedo(&["audit", "verify", export, "--key", &key]));
    assert!(verified.contains("verified"), "{verified}");
    let text = std::fs::read_to_string(export).expect("the export");
    let forged = text.replacen("\"detail\":\"", "\"detail\":\"(nothing) ", 1);
    assert_ne!(forged, text);
    std::fs::write(export, forged).expect("written");
    let refused = dev.procedo(&["audit", "verify", export, "--key", &key]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stdout);
    assert!(said.contains("PROBLEM"), "{said}");

    let proof = folder.path().join("proof.json");
    let proof = proof.to_str().expect("path");
    ok(dev.procedo(&["audit", "proof", "0", "--out", proof]));
    assert!(ok(dev.procedo(&["audit", "verify", proof, "--key", &key])).contains("verified"));
    let bent = std::fs::read_to_string(proof).expect("the proof").replacen(
        "\\\"action\\\":\\\"",
        "\\\"action\\\":\\\"x",
        1,
    );
    std::fs::write(proof, bent).expect("written");
    assert!(
        !dev.procedo(&["audit", "verify", proof, "--key", &key])
            .status
            .success()
    );
    assert!(dev.stop().success());
}

#[test]
fn the_readme_walkthrough_works_against_procedo_dev() {
    let dev = Dev::start();
    let hash = "a".repeat(64);

    ok(dev.procedo(&[
        "intake",
        "types",
        "create",
        "--code",
        "loan",
        "--name",
        "Business loan",
        "--material",
        "ID card",
        "--material",
        "Business licence",
        "--time-limit",
        "5days",
    ]));
    let filed = ok(dev.procedo(&[
        "intake",
        "submit",
        "--type",
        "loan",
        "--applicant",
        "Wang Fang",
        "--phone",
        "13800138000",
        "--title",
        "Working capital",
        "--amount",
        "500000.00",
        "--material",
        &format!("ID card={hash}"),
        "-o",
        "json",
    ]));
    let filed: serde_json::Value = serde_json::from_str(&filed).expect("JSON output");
    let name = filed["name"].as_str().expect("a name").to_owned();
    assert_eq!(filed["status"], "APPLICATION_STATUS_INCOMPLETE");
    assert_eq!(filed["missingMaterials"][0], "Business licence");
    // Found by the number on its paperwork too; the ledger shows its name.
    let number = filed["ledgerNumber"].as_str().expect("a ledger number");
    let by_number: serde_json::Value =
        serde_json::from_str(&ok(dev.procedo(&["intake", "get", number, "-o", "json"])))
            .expect("JSON");
    assert_eq!(by_number["name"].as_str(), Some(name.as_str()));
    let unknown = dev.procedo(&["intake", "get", "SQ-1999-000001"]);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("no application has the ledger number"),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
    let ledger = ok(dev.procedo(&["intake", "ledger"]));
    assert!(
        ledger
            .lines()
            .next()
            .is_some_and(|h| h.contains("APPLICATION"))
            && ledger.contains(&name),
        "{ledger}"
    );

    // An export to standard output; a failed export leaves the file it
    // would have replaced as it was.
    let csv = ok(dev.procedo(&["intake", "export", "--out", "-"]));
    assert!(
        csv.starts_with("ledger_number,") && csv.contains(number),
        "{csv}"
    );
    let folder = tempfile::tempdir().expect("a folder");
    let kept = folder.path().join("ledger.csv");
    std::fs::write(&kept, "yesterday's export").expect("written");
    let failed = dev.procedo(&[
        "intake",
        "export",
        "--out",
        kept.to_str().expect("path"),
        "--endpoint",
        "http://127.0.0.1:1",
    ]);
    assert!(!failed.status.success());
    assert_eq!(
        std::fs::read_to_string(&kept).expect("still there"),
        "yesterday's export"
    );
    assert_eq!(
        std::fs::read_dir(folder.path())
            .expect("the folder")
            .count(),
        1,
        "no partial file left beside it"
    );

    // Every service answers, serving, with its version.
    let status = ok(dev.procedo(&["status", "-o", "json"]));
    let services = json_lines(&status);
    assert_eq!(services.len(), 4, "{status}");
    for s in &services {
        assert_eq!(s["status"], "SERVING", "{s}");
        assert_eq!(s["version"], env!("CARGO_PKG_VERSION"), "{s}");
    }
    let completion = ok(dev.procedo(&["completion", "bash"]));
    assert!(completion.contains("_procedo"), "a bash completion script");

    ok(dev.procedo(&[
        "intake",
        "supplement",
        &name,
        "--material",
        &format!("Business licence={hash}"),
    ]));
    let clerk = ok(dev.procedo(&[
        "token",
        "--role",
        "intake_clerk",
        "--department",
        "front-desk",
    ]));
    let reviewed = ok(dev.procedo_as(clerk.trim(), &["intake", "review", &name, "--accept"]));
    assert!(reviewed.contains("ACCEPTED"), "{reviewed}");
    let refused = dev.procedo_as(
        clerk.trim(),
        &[
            "intake",
            "types",
            "create",
            "--code",
            "x",
            "--name",
            "X",
            "--time-limit",
            "1d",
        ],
    );
    assert!(!refused.status.success());
    let refusal = String::from_utf8_lossy(&refused.stderr);
    assert!(
        refusal.contains("PermissionDenied: this call needs one of the roles: admin"),
        "{refusal}"
    );

    // procedo dev wires intake to workflow: the standard process starts.
    let mut status = String::new();
    for _ in 0..100 {
        let shown: serde_json::Value =
            serde_json::from_str(&ok(dev.procedo(&["intake", "get", &name, "-o", "json"])))
                .expect("JSON");
        status = shown["status"].as_str().unwrap_or_default().to_owned();
        if status == "APPLICATION_STATUS_IN_PROGRESS" {
            assert_eq!(shown["stage"], "Initiation");
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(status, "APPLICATION_STATUS_IN_PROGRESS");

    // The workflow side: the instance the acceptance started, its first
    // task, a definition deployed from YAML, the matrix, a diagram.
    let instances = ok(dev.procedo(&["workflow", "instances", "--business-key", &name]));
    assert!(
        instances.contains("RUNNING") && instances.contains("initiation"),
        "{instances}"
    );
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let definition = examples.join("purchase.yaml");
    let checked = ok(dev.procedo(&[
        "workflow",
        "deploy",
        "--validate-only",
        definition.to_str().expect("path"),
    ]));
    assert_eq!(checked.trim(), "valid");
    let deployed = ok(dev.procedo(&["workflow", "deploy", definition.to_str().expect("path")]));
    assert!(
        deployed.contains("processDefinitions/purchase/versions/1"),
        "{deployed}"
    );
    let matrix = examples.join("matrix.yaml");
    assert!(
        ok(dev.procedo(&["workflow", "publish-matrix", matrix.to_str().expect("path")]))
            .contains("authorizationMatrices/1")
    );
    let diagram = ok(dev.procedo(&["workflow", "diagram", "purchase"]));
    assert!(
        diagram.starts_with("flowchart TD") && diagram.contains("fix -.->|complete| receipt"),
        "{diagram}"
    );
    let executor = ok(dev.procedo(&[
        "token",
        "--role",
        "executor",
        "--department",
        "front-desk",
        "--subject",
        "zhang",
    ]));
    let tasks = ok(dev.procedo_as(executor.trim(), &["workflow", "tasks", "-o", "json"]));
    let tasks = json_lines(&tasks);
    let task = tasks[0]["name"]
        .as_str()
        .expect("the initiation task")
        .to_owned();
    let done = ok(dev.procedo_as(
        executor.trim(),
        &[
            "workflow",
            "complete",
            &task,
            "--decision",
            "complete",
            "--opinion",
            "form filled",
        ],
    ));
    assert!(
        done.contains("COMPLETE") && done.contains("zhang"),
        "{done}"
    );

    let csv = dev._data.path().join("ledger.csv");
    ok(dev.procedo(&["intake", "export", "--out", csv.to_str().expect("path")]));
    let exported = std::fs::read_to_string(&csv).expect("the CSV");
    let rows: Vec<_> = exported.lines().collect();
    assert_eq!(rows.len(), 2, "{exported}");
    assert!(
        rows[1].starts_with("SQ-") && rows[1].ends_with(",IN_PROGRESS"),
        "{}",
        rows[1]
    );

    let history = ok(dev.procedo(&["intake", "history", &name]));
    let actions: Vec<&str> = history
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert_eq!(
        actions[..4],
        ["submit", "supplement", "review", "process"],
        "{history}"
    );

    assert!(
        dev.stop().success(),
        "procedo dev shuts down cleanly on SIGTERM"
    );
}

/// Supervision as the README walks through it: an inspection of sales
/// sampled from intake's ledger, a finding, its rectification notice
/// answered by the department and verified; a monthly filing owed and
/// submitted.
#[test]
fn an_inspection_a_notice_and_a_filing_go_through_procedo_dev() {
    let dev = Dev::start();
    let token = |args: &[&str]| {
        ok(dev.procedo(&[&["token"], args].concat()))
            .trim()
            .to_owned()
    };
    let ann = token(&[
        "--role",
        "auditor",
        "--subject",
        "ann",
        "--department",
        "audit",
    ]);
    let hank = token(&[
        "--role",
        "department_head",
        "--subject",
        "hank",
        "--department",
        "sales",
    ]);
    let rita = token(&[
        "--role",
        "executor",
        "--subject",
        "rita",
        "--department",
        "finance",
    ]);

    ok(dev.procedo(&[
        "intake",
        "types",
        "create",
        "--code",
        "permit",
        "--name",
        "Permit",
        "--material",
        "ID card",
        "--time-limit",
        "5days",
    ]));
    ok(dev.procedo(&[
        "intake",
        "submit",
        "--type",
        "permit",
        "--applicant",
        "Wang Fang",
        "--phone",
        "13800138000",
        "--title",
        "Shop sign",
        "--material",
        &format!("ID card={}", "b".repeat(64)),
    ]));

    let today = chrono_today();
    let created: serde_json::Value = serde_json::from_str(&ok(dev.procedo_as(
        &ann,
        &[
            "compliance",
            "inspections",
            "new",
            "--title",
            "Sales this month",
            "--scope",
            "process",
            "--department",
            "sales",
            "--from",
            &today.0,
            "--to",
            &today.1,
            "--item",
            "Applications are entered in the ledger the day they arrive|§5.1.2",
            "-o",
            "json",
        ],
    )))
    .expect("JSON");
    let inspection = created["name"].as_str().expect("a name").to_owned();
    let sampled = ok(dev.procedo_as(
        &ann,
        &[
            "compliance",
            "inspections",
            "sample",
            &inspection,
            "--ledger",
            "3",
        ],
    ));
    assert!(sampled.contains("applications/"), "{sampled}");
    ok(dev.procedo_as(
        &ann,
        &[
            "compliance",
            "inspections",
            "mark",
            &inspection,
            "1",
            "--result",
            "nonconforming",
            "--notes",
            "entered a day late",
        ],
    ));
    let finding: serde_json::Value = serde_json::from_str(&ok(dev.procedo_as(
        &ann,
        &[
            "compliance",
            "inspections",
            "finding",
            &inspection,
            "--severity",
            "minor",
            "--clause",
            "§5.1.2",
            "--description",
            "Entered a day late",
            "--resource",
            "applications/example",
            "-o",
            "json",
        ],
    )))
    .expect("JSON");
    let finding = finding["name"].as_str().expect("a finding").to_owned();
    let shown = ok(dev.procedo_as(
        &ann,
        &["compliance", "inspections", "show-finding", &finding],
    ));
    assert!(shown.contains(&finding), "{shown}");
    let completed = ok(dev.procedo_as(
        &ann,
        &["compliance", "inspections", "complete", &inspection],
    ));
    assert!(completed.contains("COMPLETED"), "{completed}");

    let notice: serde_json::Value = serde_json::from_str(&ok(dev.procedo_as(
        &ann,
        &[
            "compliance",
            "notices",
            "issue",
            "--finding",
            &finding,
            "--department",
            "sales",
            "--head",
            "hank",
            "--requirements",
            "Enter applications on arrival",
            "--within",
            "10wd",
            "-o",
            "json",
        ],
    )))
    .expect("JSON");
    let notice = notice["name"].as_str().expect("a notice").to_owned();
    ok(dev.procedo_as(&hank, &["compliance", "notices", "ack", &notice]));
    ok(dev.procedo_as(&hank, &["compliance", "notices", "start", &notice]));
    ok(dev.procedo_as(
        &hank,
        &[
            "compliance",
            "notices",
            "submit",
            &notice,
            "--notes",
            "Daily check added",
        ],
    ));
    let verified = ok(dev.procedo_as(&ann, &["compliance", "notices", "verify", &notice]));
    assert!(
        verified.contains("VERIFIED") && verified.contains("hank"),
        "{verified}"
    );

    ok(dev.procedo(&[
        "compliance",
        "filings",
        "new-obligation",
        "--regulator",
        "Tax bureau",
        "--subject",
        "VAT return",
        "--recurrence",
        "monthly",
        "--responsible",
        "rita",
        "--lead-time",
        "5days",
        "--due-after",
        "15days",
        "--first-period",
        &today.0,
    ]));
    let owed = json_lines(&ok(
        dev.procedo_as(&rita, &["compliance", "filings", "list", "-o", "json"])
    ));
    let filing = owed[0]["name"].as_str().expect("a filing").to_owned();
    let obligation = owed[0]["obligation"]
        .as_str()
        .expect("its obligation")
        .to_owned();
    let shown = ok(dev.procedo_as(
        &ann,
        &[
            "compliance",
            "filings",
            "obligation",
            &obligation,
            "-o",
            "json",
        ],
    ));
    assert!(shown.contains(&obligation), "{shown}");
    let submitted = ok(dev.procedo_as(
        &rita,
        &[
            "compliance",
            "filings",
            "submit",
            &filing,
            "--document",
            "0193a0c0-0000-7000-8000-000000000009",
            "--reference",
            "VAT-0042",
        ],
    ));
    assert!(
        submitted.contains("SUBMITTED") && submitted.contains("VAT-0042"),
        "{submitted}"
    );
    assert!(dev.stop().success());
}

/// Today and tomorrow as YYYY-MM-DD (UTC).
fn chrono_today() -> (String, String) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let day = |secs: u64| {
        let text = humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs),
        )
        .to_string();
        text[..10].to_owned()
    };
    (day(now - now % 86_400), day(now - now % 86_400 + 86_400))
}

/// Assessment, training and policies as the README walks through them:
/// the directory imported from a file, a scheme computed into figures, a
/// session's exam scored, a policy acknowledged and its rate read.
#[test]
fn assessment_training_and_policies_go_through_procedo_dev() {
    let dev = Dev::start();
    let folder = tempfile::tempdir().expect("a folder");
    let file = |name: &str, text: &str| {
        let path = folder.path().join(name);
        std::fs::write(&path, text).expect("written");
        path.to_string_lossy().into_owned()
    };
    let token = |args: &[&str]| {
        ok(dev.procedo(&[&["token"], args].concat()))
            .trim()
            .to_owned()
    };
    let ann = token(&[
        "--role",
        "auditor",
        "--subject",
        "ann",
        "--department",
        "audit",
    ]);
    let tina = token(&[
        "--role",
        "trainer",
        "--subject",
        "tina",
        "--department",
        "hr",
    ]);
    let sam = token(&[
        "--role",
        "executor",
        "--subject",
        "sam",
        "--department",
        "sales",
    ]);

    let people = file(
        "directory.yaml",
        "people:\n  - {subject: sam, displayName: Sam, department: sales, roles: [executor], active: true}\n  \
         - {subject: hank, displayName: Hank, department: sales, roles: [department_head], active: true}\n\
         departments:\n  - {code: sales, displayName: Sales, head: hank}\n",
    );
    let imported = ok(dev.procedo(&["compliance", "directory", "import", &people]));
    assert!(
        imported.contains('2') && imported.contains('1'),
        "{imported}"
    );
    assert!(
        ok(dev.procedo(&["compliance", "directory", "people", "--department", "sales"]))
            .contains("hank")
    );

    let scheme = file(
        "scheme.yaml",
        "title: Monthly\ncycle: RECURRENCE_MONTHLY\nindicators:\n  \
         - {code: on_time, name: On time, group: INDICATOR_GROUP_EFFICIENCY, weight: 1, target: 0.9, \
         direction: DIRECTION_HIGHER_IS_BETTER, metric: METRIC_TASKS_ON_TIME}\n  \
         - {code: conduct, name: Conduct, group: INDICATOR_GROUP_COMPLIANCE, weight: 1, target: 100, \
         direction: DIRECTION_HIGHER_IS_BETTER, manual: true}\n",
    );
    let created: serde_json::Value = serde_json::from_str(&ok(dev.procedo(&[
        "compliance",
        "assessment",
        "new-scheme",
        &scheme,
        "-o",
        "json",
    ])))
    .expect("JSON");
    let scheme = created["name"].as_str().expect("a scheme").to_owned();
    let period: serde_json::Value = serde_json::from_str(&ok(dev.procedo_as(
        &ann,
        &["compliance", "assessment", "compute", &scheme, "-o", "json"],
    )))
    .expect("JSON");
    let period = period["name"].as_str().expect("a period").to_owned();
    ok(dev.procedo_as(
        &ann,
        &[
            "compliance",
            "assessment",
            "score",
            &period,
            "conduct",
            "--department",
            "sales",
            "--score",
            "80",
            "--justification",
            "Tidy ledger",
        ],
    ));
    let scores = ok(dev.procedo_as(&ann, &["compliance", "assessment", "scores", &period]));
    assert!(
        scores.contains("conduct") && scores.contains("80.00") && scores.contains("(total)"),
        "{scores}"
    );
    assert!(
        ok(dev.procedo_as(&ann, &["compliance", "assessment", "publish", &period]))
            .contains("PUBLISHED")
    );

    let plan = file(
        "plan.yaml",
        "year: 2026\ntitle: Annual\nitems:\n  - {title: Intake rules, content: §2.1 and §2.2, method: METHOD_LECTURE, \
         audience: {departments: [sales]}, trainer: tina}\n",
    );
    let plan: serde_json::Value = serde_json::from_str(&ok(dev.procedo_as(
        &tina,
        &["compliance", "training", "new-plan", &plan, "-o", "json"],
    )))
    .expect("JSON");
    let plan = plan["name"].as_str().expect("a plan").to_owned();
    let bank = file(
        "bank.yaml",
        "title: Intake\nquestions:\n  - {kind: QUESTION_KIND_TRUE_FALSE, text: The ledger comes first, correct: [0]}\n",
    );
    let bank: serde_json::Value = serde_json::from_str(&ok(dev.procedo_as(
        &tina,
        &["compliance", "training", "new-bank", &bank, "-o", "json"],
    )))
    .expect("JSON");
    let bank = bank["name"].as_str().expect("a bank").to_owned();
    let (today, tomorrow) = chrono_today();
    let session: serde_json::Value = serde_json::from_str(&ok(dev.procedo_as(
        &tina,
        &[
            "compliance",
            "training",
            "schedule",
            "--plan",
            &plan,
            "--item",
            "1",
            "--from",
            &today,
            "--to",
            &tomorrow,
            "--bank",
            &bank,
            "-o",
            "json",
        ],
    )))
    .expect("JSON");
    let session = session["name"].as_str().expect("a session").to_owned();
    let exam = ok(dev.procedo_as(
        &sam,
        &["compliance", "training", "exam", &session, "--answer", "0"],
    ));
    assert!(exam.contains("100") && exam.contains("true"), "{exam}");
    let record = ok(dev.procedo_as(&sam, &["compliance", "training", "record", "sam"]));
    assert!(
        record.contains("Intake rules") && record.contains("100"),
        "{record}"
    );

    // The policy is a document the publisher may see.
    ok(dev.procedo(&[
        "document",
        "categories",
        "create",
        "--code",
        "rules",
        "--name",
        "Rules",
        "--pattern",
        "R-{seq:3}",
    ]));
    let document: serde_json::Value = serde_json::from_str(&ok(dev.procedo(&[
        "document",
        "register",
        "--category",
        "rules",
        "--title",
        "Intake rules",
        "-o",
        "json",
    ])))
    .expect("JSON");
    let document = document["name"].as_str().expect("a document").to_owned();
    let published: serde_json::Value = serde_json::from_str(&ok(dev.procedo_as(
        &ann,
        &[
            "compliance",
            "policies",
            "publish",
            "--document",
            &document,
            "--version",
            "1",
            "--title",
            "Intake rules",
            "--department",
            "sales",
            "--within",
            "5wd",
            "-o",
            "json",
        ],
    )))
    .expect("JSON");
    let publication = published["name"]
        .as_str()
        .expect("a publication")
        .to_owned();
    ok(dev.procedo_as(
        &sam,
        &["compliance", "policies", "acknowledge", &publication],
    ));
    let rates = ok(dev.procedo_as(&ann, &["compliance", "policies", "rates", &publication]));
    assert!(rates.contains("sales") && rates.contains("50 %"), "{rates}");
    assert!(dev.stop().success());
}

#[test]
fn procedo_dev_runs_the_services_asked_for_and_names_the_flag_for_a_taken_port() {
    let data = tempfile::tempdir().expect("a data folder");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port to hold");
    let port = taken.local_addr().expect("its address").port().to_string();
    let refused = Command::new(PROCEDO)
        .args(["dev", "--services", "intake", "--intake-port", &port])
        .arg("--data-dir")
        .arg(data.path())
        .env("PROCEDO_LOG", "warn")
        .output()
        .expect("procedo dev runs");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("--intake-port (PROCEDO_DEV_INTAKE_PORT)"),
        "the message names the flag: {stderr}"
    );

    let (file, mut child) = dev_with(
        data.path(),
        &[
            "--services",
            "intake,workflow",
            "--intake-port",
            "0",
            "--workflow-port",
            "0",
        ],
    );
    child.kill().expect("stopped");
    child.wait().expect("reaped");
    let mut names: Vec<&String> = file["endpoints"]
        .as_object()
        .expect("endpoints")
        .keys()
        .collect();
    names.sort();
    assert_eq!(names, ["intake", "workflow"]);
    assert_eq!(
        file["pid"].as_u64(),
        Some(u64::from(child.id())),
        "the file names the process to stop"
    );
}

/// An OTLP trace receiver that keeps what it is sent.
#[derive(Clone, Default)]
struct Collector(std::sync::Arc<std::sync::Mutex<Vec<ExportTraceServiceRequest>>>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0
            .lock()
            .expect("unpoisoned")
            .push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

impl Collector {
    /// The `service.name` of the resource under which each RPC's server
    /// span (its `rpc.service`) was exported.
    fn servers(&self) -> Vec<(String, String)> {
        use opentelemetry_proto::tonic::common::v1::any_value::Value;
        use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
        let text = |attributes: &[opentelemetry_proto::tonic::common::v1::KeyValue], key: &str| {
            attributes.iter().find(|kv| kv.key == key).and_then(|kv| {
                match kv.value.as_ref()?.value.as_ref()? {
                    Value::StringValue(s) => Some(s.clone()),
                    _ => None,
                }
            })
        };
        let mut seen = Vec::new();
        for request in self.0.lock().expect("unpoisoned").iter() {
            for resource_spans in &request.resource_spans {
                let resource = resource_spans.resource.as_ref().expect("a resource");
                let name = text(&resource.attributes, "service.name").expect("a service.name");
                let spans = resource_spans.scope_spans.iter().flat_map(|s| &s.spans);
                for span in spans.filter(|s| s.kind() == SpanKind::Server) {
                    if let Some(rpc) = text(&span.attributes, "rpc.service") {
                        seen.push((name.clone(), rpc));
                    }
                }
            }
        }
        seen.sort();
        seen.dedup();
        seen
    }
}

/// Each service `procedo dev` runs exports its traces under its own
/// `service.name`, as the same service deployed alone would.
#[test]
fn procedo_dev_traces_name_each_service() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let collector = Collector::default();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("a port for the collector");
    let otlp = format!("http://{}", listener.local_addr().expect("its address"));
    runtime.spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );

    let dev = Dev::start_with(&[
        ("PROCEDO_OTLP_ENDPOINT", &otlp),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ]);
    ok(dev.procedo(&["intake", "types", "list"]));
    ok(dev.procedo(&["workflow", "instances"]));
    let expected = [
        ("procedo-intake", "procedo.intake.v1.IntakeService"),
        ("procedo-workflow", "procedo.workflow.v1.WorkflowService"),
    ];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let servers = loop {
        let servers = collector.servers();
        let all = expected
            .iter()
            .all(|(name, rpc)| servers.iter().any(|(n, r)| n == name && r == rpc));
        if all || std::time::Instant::now() > deadline {
            break servers;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    dev.stop();
    // The event sink every service serves is shared, not any one's.
    let own = servers
        .iter()
        .filter(|(_, rpc)| !rpc.starts_with("procedo.common."));
    for (name, rpc) in own {
        assert_eq!(
            name.strip_prefix("procedo-"),
            rpc.strip_prefix("procedo.")
                .and_then(|r| r.split('.').next()),
            "{rpc} exported as {name}: {servers:?}"
        );
    }
    for (name, rpc) in expected {
        assert!(
            servers.iter().any(|(n, r)| n == name && r == rpc),
            "{rpc} exported as {name}: {servers:?}"
        );
    }
}

/// `procedo dev` with `args` in `data`, once ready: the endpoints file's
/// content and the running process.
fn dev_with(data: &std::path::Path, args: &[&str]) -> (serde_json::Value, Child) {
    let endpoints_file = data.join("endpoints.json");
    let _ = std::fs::remove_file(&endpoints_file);
    let mut child = Command::new(PROCEDO)
        .arg("dev")
        .args(args)
        .arg("--endpoints-file")
        .arg(&endpoints_file)
        .arg("--data-dir")
        .arg(data)
        .env("PROCEDO_LOG", "warn")
        .env_remove("PROCEDO_JWT_SECRET")
        .stdout(Stdio::piped())
        .spawn()
        .expect("procedo dev starts");
    let stdout = child.stdout.take().expect("stdout");
    for line in BufReader::new(stdout).lines() {
        if line.expect("a line").starts_with("Stop with Ctrl-C") {
            break;
        }
    }
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&endpoints_file).expect("written once ready"))
            .expect("JSON");
    (file, child)
}

/// `procedo dev --services intake` on a free port with `extra` flags, in
/// `data`: its intake endpoint, the endpoints file's content and the
/// running process.
fn intake_only(data: &std::path::Path, extra: &[&str]) -> (String, serde_json::Value, Child) {
    let mut args = vec!["--services", "intake", "--intake-port", "0"];
    args.extend_from_slice(extra);
    let (file, child) = dev_with(data, &args);
    let endpoint = file["endpoints"]["intake"]
        .as_str()
        .expect("intake's endpoint")
        .to_owned();
    (endpoint, file, child)
}

fn stop(mut child: Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(child.wait().expect("procedo dev exits").success());
}

fn type_codes(endpoint: &str) -> Vec<String> {
    let listed = ok(Command::new(PROCEDO)
        .args([
            "intake",
            "types",
            "list",
            "-o",
            "json",
            "--endpoint",
            endpoint,
        ])
        .env_remove("PROCEDO_TOKEN")
        .output()
        .expect("procedo runs"));
    listed
        .lines()
        .map(|l| {
            let t: serde_json::Value = serde_json::from_str(l).expect("one JSON object a line");
            t["code"].as_str().expect("a code").to_owned()
        })
        .collect()
}

fn create_type(endpoint: &str, code: &str) {
    ok(Command::new(PROCEDO)
        .args(["intake", "types", "create", "--code", code, "--name", code])
        .args(["--time-limit", "5days", "--endpoint", endpoint])
        .env_remove("PROCEDO_TOKEN")
        .output()
        .expect("procedo runs"));
}

/// `--in-memory` keeps nothing once stopped; `--reset` starts from nothing
/// in a data folder an earlier run filled; without it, that run's data is
/// still there.
#[test]
fn procedo_dev_in_memory_keeps_nothing_and_reset_starts_afresh() {
    let data = tempfile::tempdir().expect("a data folder");

    let (endpoint, file, child) = intake_only(data.path(), &["--in-memory"]);
    create_type(&endpoint, "loan");
    assert_eq!(type_codes(&endpoint), ["loan"]);
    let database = file["database"].as_str().expect("the database").to_owned();
    let folder = database
        .split(", in ")
        .nth(1)
        .and_then(|rest| rest.strip_suffix(" (removed at exit)"))
        .unwrap_or_else(|| panic!("the in-memory folder in {database:?}"));
    assert!(std::path::Path::new(folder).join("intake.db").exists());
    stop(child);
    assert!(
        !std::path::Path::new(folder).exists(),
        "{folder} is removed at exit"
    );
    assert!(
        !data.path().join("intake.db").exists(),
        "nothing in the data folder"
    );

    let (endpoint, _, child) = intake_only(data.path(), &[]);
    create_type(&endpoint, "lease");
    stop(child);
    let (endpoint, _, child) = intake_only(data.path(), &[]);
    assert_eq!(type_codes(&endpoint), ["lease"], "kept without --reset");
    stop(child);
    let (endpoint, _, child) = intake_only(data.path(), &["--reset"]);
    assert!(type_codes(&endpoint).is_empty(), "gone with --reset");
    stop(child);
}

/// A type shown and changed; a note added to an inquiry and its entries
/// listed.
#[test]
fn types_are_shown_and_changed_and_inquiries_take_notes() {
    let data = tempfile::tempdir().expect("a data folder");
    let (endpoint, _, server) = intake_only(data.path(), &["--in-memory"]);
    let procedo = |args: &[&str]| {
        ok(Command::new(PROCEDO)
            .args(args)
            .args(["--endpoint", &endpoint])
            .env_remove("PROCEDO_TOKEN")
            .output()
            .expect("procedo runs"))
    };
    create_type(&endpoint, "loan");
    let changed: serde_json::Value = serde_json::from_str(&procedo(&[
        "intake",
        "types",
        "update",
        "loan",
        "--name",
        "Business loan",
        "--material",
        "ID card",
        "--optional",
        "Photo",
        "--time-limit",
        "5wd",
        "-o",
        "json",
    ]))
    .expect("JSON");
    assert_eq!(changed["displayName"], "Business loan", "{changed}");
    assert_eq!(changed["materials"][0]["name"], "ID card", "{changed}");
    assert_eq!(
        changed["materials"][1]["mandatory"],
        serde_json::Value::Null,
        "{changed}"
    );
    let shown = procedo(&["intake", "types", "get", "loan"]);
    assert!(
        shown.contains("Business loan") && shown.contains("Photo") && shown.contains("5wd"),
        "{shown}"
    );

    let inquiry: serde_json::Value = serde_json::from_str(&procedo(&[
        "intake",
        "inquiries",
        "create",
        "--channel",
        "phone",
        "--customer",
        "Li Wei",
        "--phone",
        "13800138000",
        "--subject",
        "Hours",
        "--text",
        "When are you open?",
        "-o",
        "json",
    ]))
    .expect("JSON");
    let name = inquiry["name"].as_str().expect("a name").to_owned();
    procedo(&[
        "intake",
        "inquiries",
        "note",
        &name,
        "--note",
        "Called back",
        "--for-customer",
    ]);
    let entries = json_lines(&procedo(&[
        "intake",
        "inquiries",
        "entries",
        &name,
        "-o",
        "json",
    ]));
    assert!(
        entries
            .iter()
            .any(|e| e["text"] == "Called back" && e["sharedWithCustomer"] == true),
        "{entries:?}"
    );
    stop(server);
}

/// `--limit` cuts a list and says so; a reader that goes away early
/// (`procedo … | head -1`) ends the command quietly, without a panic.
#[test]
fn lists_stop_at_the_limit_and_a_closed_pipe_ends_the_command_quietly() {
    let data = tempfile::tempdir().expect("a data folder");
    let (endpoint, _, server) = intake_only(data.path(), &["--in-memory"]);
    for code in ["a", "b", "c"] {
        create_type(&endpoint, code);
    }
    // Every page, or the first --limit items, said when cut short.
    assert_eq!(type_codes(&endpoint).len(), 3);
    let cut = Command::new(PROCEDO)
        .args(["intake", "types", "list", "-o", "json", "--limit", "2"])
        .args(["--endpoint", &endpoint])
        .env_remove("PROCEDO_TOKEN")
        .output()
        .expect("procedo runs");
    assert!(cut.status.success());
    assert_eq!(String::from_utf8_lossy(&cut.stdout).lines().count(), 2);
    let said = String::from_utf8_lossy(&cut.stderr);
    assert!(said.contains("stopped at --limit 2"), "{said}");
    let whole = Command::new(PROCEDO)
        .args([
            "intake",
            "types",
            "list",
            "--limit",
            "3",
            "--endpoint",
            &endpoint,
        ])
        .env_remove("PROCEDO_TOKEN")
        .output()
        .expect("procedo runs");
    assert!(whole.stderr.is_empty(), "nothing cut, nothing said");

    for format in ["table", "json"] {
        let mut child = Command::new(PROCEDO)
            .args([
                "intake",
                "types",
                "list",
                "-o",
                format,
                "--endpoint",
                &endpoint,
            ])
            .env_remove("PROCEDO_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("procedo runs");
        // Closed before the command has its answer to print.
        drop(child.stdout.take());
        let output = child.wait_with_output().expect("it ends");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{format}: {stderr}");
        assert!(stderr.is_empty(), "{format}: nothing said: {stderr}");
    }
    stop(server);
}

/// The workflow commands beyond start and complete: the matrix and the
/// chain it gives, a definition, participants, coordination items,
/// supervision, meetings, a task shown and reassigned, an instance
/// cancelled.
#[test]
fn every_workflow_rpc_has_a_command() {
    let dev = Dev::start();
    let matrix = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/matrix.yaml");
    ok(dev.procedo(&["workflow", "publish-matrix", matrix.to_str().expect("path")]));
    let shown = ok(dev.procedo(&["workflow", "matrix"]));
    assert!(shown.contains("General manager"), "{shown}");
    let chain = json_lines(&ok(dev.procedo(&[
        "workflow",
        "approvers",
        "--type",
        "loan",
        "--amount",
        "500000.00",
        "-o",
        "json",
    ])));
    let levels: Vec<i64> = chain.iter().filter_map(|l| l["level"].as_i64()).collect();
    assert_eq!(levels, [1, 2], "{chain:?}");
    let definition = ok(dev.procedo(&["workflow", "definition", "standard"]));
    assert!(definition.contains("initiation"), "{definition}");

    let started: serde_json::Value = serde_json::from_str(&ok(dev.procedo(&[
        "workflow",
        "start",
        "--business-key",
        "crm-77",
        "--type",
        "loan",
        "--title",
        "Working capital",
        "--amount",
        "500000.00",
        "-o",
        "json",
    ])))
    .expect("JSON");
    let instance = started["name"].as_str().expect("an instance").to_owned();
    let instance_json = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["workflow"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "json"]);
        serde_json::from_str(&ok(dev.procedo(&all))).expect("JSON")
    };

    let changed = instance_json(&[
        "participants",
        &instance,
        "--review",
        "finance",
        "--lead",
        "ops",
    ]);
    assert_eq!(
        changed["participants"]["leadDepartment"], "ops",
        "{changed}"
    );
    let raised = instance_json(&[
        "coordination",
        "add",
        &instance,
        "--problem",
        "Missing budget line",
        "--department",
        "finance",
    ]);
    let item = raised["coordinationItems"][0]["id"]
        .as_str()
        .expect("an item")
        .to_owned();
    let resolved = instance_json(&[
        "coordination",
        "resolve",
        &instance,
        &item,
        "--resolution",
        "Line added",
    ]);
    assert_eq!(
        resolved["coordinationItems"][0]["resolved"], true,
        "{resolved}"
    );
    let supervised = instance_json(&["supervise", &instance, "--findings", "On schedule"]);
    assert_eq!(
        supervised["supervisionRecords"][0]["findings"], "On schedule",
        "{supervised}"
    );

    let meeting: serde_json::Value = serde_json::from_str(&ok(dev.procedo(&[
        "workflow",
        "meetings",
        "record",
        "--department",
        "ops",
        "--title",
        "Weekly",
        "--held",
        "2026-11-27",
        "--attendee",
        "zhang",
        "--problem",
        "Late delivery",
        "--action",
        "Call the supplier=zhang@2030-01-15",
        "-o",
        "json",
    ])))
    .expect("JSON");
    let meeting_name = meeting["name"].as_str().expect("a meeting").to_owned();
    assert!(
        meeting["actionItems"][0]["task"]
            .as_str()
            .is_some_and(|t| t.starts_with("tasks/")),
        "each action item becomes a task: {meeting}"
    );
    let listed = json_lines(&ok(
        dev.procedo(&["workflow", "meetings", "list", "-o", "json"])
    ));
    assert!(listed.iter().any(|m| m["name"] == meeting_name.as_str()));
    assert!(ok(dev.procedo(&["workflow", "meetings", "get", &meeting_name])).contains("Weekly"));

    let tasks = json_lines(&ok(dev.procedo(&[
        "workflow",
        "tasks",
        "--all",
        "--instance",
        &instance,
        "-o",
        "json",
    ])));
    let task = tasks[0]["name"].as_str().expect("a task").to_owned();
    assert!(ok(dev.procedo(&["workflow", "task", &task])).contains(&instance));
    let reassigned: serde_json::Value = serde_json::from_str(&ok(dev.procedo(&[
        "workflow",
        "reassign",
        &task,
        "--to",
        "li",
        "--reason",
        "Zhang is away",
        "-o",
        "json",
    ])))
    .expect("JSON");
    assert_eq!(reassigned["assignee"], "li", "{reassigned}");

    let cancelled = instance_json(&["cancel", &instance, "--reason", "The customer withdrew"]);
    assert_eq!(
        cancelled["status"], "INSTANCE_STATUS_CANCELLED",
        "{cancelled}"
    );

    // A calendar put back in its protobuf form, retitled, as a new version.
    let mut calendar: serde_json::Value =
        serde_json::from_str(&ok(dev.procedo(&["calendars", "get", "-o", "json"]))).expect("JSON");
    calendar["title"] = "Head office".into();
    let folder = tempfile::tempdir().expect("a folder");
    let file = folder.path().join("calendar.json");
    std::fs::write(&file, calendar.to_string()).expect("written");
    let put: serde_json::Value = serde_json::from_str(&ok(dev.procedo(&[
        "calendars",
        "put",
        file.to_str().expect("path"),
        "-o",
        "json",
    ])))
    .expect("JSON");
    assert_eq!(put["title"], "Head office", "{put}");
    assert_ne!(put["version"], calendar["version"], "{put}");
    assert!(dev.stop().success());
}

/// Every command showing one resource asks its own RPC: an id that does
/// not exist is that service's NOT_FOUND, naming the resource.
#[test]
fn every_resource_can_be_shown_by_name() {
    let dev = Dev::start();
    let id = "0193a0c0-0000-7000-8000-00000000beef";
    for (args, resource) in [
        (
            vec!["compliance", "inspections", "template", id],
            "checklistTemplates/",
        ),
        (
            vec!["compliance", "inspections", "plan", id],
            "inspectionPlans/",
        ),
        (
            vec!["compliance", "inspections", "show-finding", id],
            "findings/",
        ),
        (
            vec!["compliance", "filings", "obligation", id],
            "obligations/",
        ),
        (
            vec!["compliance", "directory", "person", "nobody"],
            "people/nobody",
        ),
        (
            vec!["compliance", "directory", "department", "nowhere"],
            "departments/nowhere",
        ),
        (
            vec!["compliance", "assessment", "scheme", id],
            "assessmentSchemes/",
        ),
        (
            vec!["compliance", "assessment", "period", id],
            "assessmentPeriods/",
        ),
        (vec!["compliance", "training", "plan", id], "trainingPlans/"),
        (vec!["compliance", "training", "bank", id], "questionBanks/"),
        (
            vec!["compliance", "training", "session", id],
            "trainingSessions/",
        ),
        (
            vec!["compliance", "policies", "publication", id],
            "policyPublications/",
        ),
        (vec!["document", "loan", id], "loans/"),
        (
            vec![
                "document",
                "review",
                "round",
                "documents/0193a0c0-0000-7000-8000-00000000beef/reviewRounds/1",
            ],
            "documents/",
        ),
        (
            vec![
                "document",
                "review",
                "comments",
                "documents/0193a0c0-0000-7000-8000-00000000beef/reviewRounds/1",
            ],
            "documents/",
        ),
        (
            vec!["document", "categories", "get", "nothing"],
            "categories/nothing",
        ),
        (
            vec!["intake", "types", "get", "nothing"],
            "applicationTypes/nothing",
        ),
    ] {
        let output = dev.procedo(&args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?}");
        assert!(
            stderr.contains("NotFound") && stderr.contains(resource),
            "{args:?}: {stderr}"
        );
    }
    // The audit log proves its growth between two checkpoints.
    let checkpoint_after = |code: &str| {
        let wanted = json_lines(&ok(dev.procedo(&["audit", "entries", "-o", "json"]))).len() + 1;
        ok(dev.procedo(&[
            "intake",
            "types",
            "create",
            "--code",
            code,
            "--name",
            code,
            "--time-limit",
            "5days",
        ]));
        for _ in 0..400 {
            if json_lines(&ok(dev.procedo(&["audit", "entries", "-o", "json"]))).len() >= wanted {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        let made: serde_json::Value = serde_json::from_str(&ok(dev.procedo(&[
            "audit",
            "checkpoint",
            "--create",
            "-o",
            "json",
        ])))
        .expect("JSON");
        made["treeSize"].as_str().expect("a size").to_owned()
    };
    let first = checkpoint_after("one");
    let second = checkpoint_after("two");
    let proof: serde_json::Value = serde_json::from_str(&ok(dev.procedo(&[
        "audit",
        "consistency",
        "--from",
        &first,
        "--to",
        &second,
        "-o",
        "json",
    ])))
    .expect("JSON");
    assert_eq!(
        proof["first"]["treeSize"].as_str(),
        Some(first.as_str()),
        "{proof}"
    );
    assert_eq!(
        proof["second"]["treeSize"].as_str(),
        Some(second.as_str()),
        "{proof}"
    );
    assert_ne!(first, second, "the log grew between the checkpoints");
    let shown = ok(dev.procedo(&["audit", "consistency", "--from", &first]));
    assert!(shown.contains("hashes"), "{shown}");
    assert!(dev.stop().success());
}

/// A draft's title and tags changed; a category's name changed, its
/// numbering kept.
#[test]
fn documents_and_categories_are_changed() {
    let dev = Dev::start();
    ok(dev.procedo(&[
        "document",
        "categories",
        "create",
        "--code",
        "memo",
        "--name",
        "Memo",
        "--pattern",
        "M-{seq:4}",
    ]));
    let renamed = ok(dev.procedo(&[
        "document",
        "categories",
        "update",
        "memo",
        "--name",
        "Internal memo",
    ]));
    assert!(
        renamed.contains("Internal memo") && renamed.contains("M-{seq:4}"),
        "{renamed}"
    );
    let registered: serde_json::Value = serde_json::from_str(&ok(dev.procedo(&[
        "document",
        "register",
        "--category",
        "memo",
        "--title",
        "Draft",
        "-o",
        "json",
    ])))
    .expect("JSON");
    let document = registered["name"].as_str().expect("a document").to_owned();
    let updated: serde_json::Value = serde_json::from_str(&ok(dev.procedo(&[
        "document", "update", &document, "--title", "Final", "--tag", "q4", "-o", "json",
    ])))
    .expect("JSON");
    assert_eq!(updated["title"], "Final", "{updated}");
    assert_eq!(updated["tags"][0], "q4", "{updated}");
    assert!(dev.stop().success());
}
