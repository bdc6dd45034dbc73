//! The deployment files checked without a cluster: every Kubernetes pod
//! meets Pod Security "restricted" and drains cleanly, every service
//! listens, is probed and is published on its own port, and every image
//! runs as a numeric user with a health check of its own.

use std::path::PathBuf;

use serde_yaml_ng::Value;

/// The services and their ports, as the binaries default to them.
const SERVICES: [(&str, u64); 4] = [
    ("intake", 7101),
    ("workflow", 7102),
    ("document", 7103),
    ("compliance", 7104),
];

fn deploy(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(path)
}

fn documents(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(deploy(path)).expect("the file");
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).expect("YAML"))
        .collect()
}

fn get<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(value, |v, key| &v[key])
}

/// `NAME`'s value in a container's `env`.
fn env<'a>(container: &'a Value, name: &str) -> Option<&'a str> {
    container["env"]
        .as_sequence()?
        .iter()
        .find(|e| e["name"].as_str() == Some(name))?["value"]
        .as_str()
}

#[test]
fn every_pod_meets_pod_security_restricted_and_drains_cleanly() {
    let namespace = &documents("k8s/namespace.yaml")[0];
    assert_eq!(
        get(namespace, "metadata.labels")["pod-security.kubernetes.io/enforce"].as_str(),
        Some("restricted")
    );
    for (service, port) in SERVICES {
        let docs = documents(&format!("k8s/{service}.yaml"));
        let deployment = docs
            .iter()
            .find(|d| d["kind"].as_str() == Some("Deployment"))
            .unwrap_or_else(|| panic!("{service}: a Deployment"));
        let pod = get(deployment, "spec.template.spec");
        let at = |what: &str| format!("{service}: {what}");
        assert_eq!(
            pod["automountServiceAccountToken"].as_bool(),
            Some(false),
            "{}",
            at("no token")
        );
        let security = &pod["securityContext"];
        assert_eq!(
            security["runAsNonRoot"].as_bool(),
            Some(true),
            "{}",
            at("non-root")
        );
        assert_eq!(
            get(security, "seccompProfile.type").as_str(),
            Some("RuntimeDefault"),
            "{}",
            at("seccomp")
        );
        assert!(
            pod["topologySpreadConstraints"]
                .as_sequence()
                .is_some_and(|c| !c.is_empty()),
            "{}",
            at("spread across nodes")
        );
        let containers = pod["containers"].as_sequence().expect("containers");
        for container in containers {
            let security = &container["securityContext"];
            assert_eq!(
                security["allowPrivilegeEscalation"].as_bool(),
                Some(false),
                "{}",
                at("escalation")
            );
            assert_eq!(
                security["readOnlyRootFilesystem"].as_bool(),
                Some(true),
                "{}",
                at("read-only root")
            );
            assert!(
                get(security, "capabilities.drop")
                    .as_sequence()
                    .is_some_and(|d| d.iter().any(|c| c.as_str() == Some("ALL"))),
                "{}",
                at("capabilities dropped")
            );
            for probe in ["startupProbe", "readinessProbe", "livenessProbe"] {
                assert_eq!(
                    get(&container[probe], "grpc.port").as_u64(),
                    Some(port),
                    "{}",
                    at(probe)
                );
            }
            assert_eq!(
                env(container, "PROCEDO_LISTEN"),
                Some(format!("0.0.0.0:{port}").as_str()),
                "{}",
                at("listens on its port")
            );
            // The pause before SIGTERM and the drain fit in the grace
            // period Kubernetes gives before SIGKILL.
            let pause: u64 = get(&container["lifecycle"], "preStop.exec.command")[1]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("{}", at("a preStop pause")));
            let drain: u64 = env(container, "PROCEDO_SHUTDOWN_GRACE")
                .and_then(|g| g.trim_end_matches('s').parse().ok())
                .unwrap_or(30);
            let grace = pod["terminationGracePeriodSeconds"]
                .as_u64()
                .expect("a grace period");
            assert!(
                pause + drain < grace,
                "{}: {pause} + {drain} >= {grace}",
                service
            );
        }
    }
}

#[test]
fn compose_publishes_each_service_on_its_own_port_with_its_image_built_for_it() {
    let compose = &documents("compose.yaml")[0];
    for (service, port) in SERVICES {
        let entry = &compose["services"][service];
        assert_eq!(
            entry["environment"]["PROCEDO_LISTEN"].as_str(),
            Some(format!("0.0.0.0:{port}").as_str()),
            "{service}"
        );
        let build = &entry["build"]["args"];
        assert_eq!(build["SERVICE"].as_str(), Some(service), "{service}");
        assert_eq!(
            build["PORT"]
                .as_u64()
                .or_else(|| build["PORT"].as_str().and_then(|p| p.parse().ok())),
            Some(port),
            "{service}"
        );
        let published: Vec<&str> = entry["ports"]
            .as_sequence()
            .expect("ports")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            published.contains(
                &format!(
                    "${{PROCEDO_{}_HOST_PORT:-{port}}}:{port}",
                    service.to_uppercase()
                )
                .as_str()
            ),
            "{service}: {published:?}"
        );
    }
}

#[test]
fn the_image_runs_as_a_numeric_user_with_its_own_health_check() {
    let dockerfile = std::fs::read_to_string(deploy("Dockerfile")).expect("the Dockerfile");
    let user = dockerfile
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER");
    assert!(
        user.split(':')
            .all(|id| id.parse::<u32>().is_ok_and(|id| id != 0)),
        "USER {user} is not numeric and non-root"
    );
    assert!(
        dockerfile.contains("CMD [\"/usr/local/bin/procedo-service\", \"health\""),
        "the HEALTHCHECK is the binary's own probe"
    );
}

/// Every `PROCEDO_*` variable the deployment files give a service is one
/// its binary reads: a misspelt one would otherwise be ignored silently.
#[test]
fn every_procedo_variable_deployed_is_one_the_binary_reads() {
    use procedo_platform::{service::command, settings::variables};
    let reads = |service: &str| {
        variables(&match service {
            "intake" => command::<procedo_intake::Intake>("procedo-intake"),
            "workflow" => command::<procedo_workflow::Workflow>("procedo-workflow"),
            "document" => command::<procedo_document::DocumentService>("procedo-document"),
            "compliance" => command::<procedo_compliance::ComplianceService>("procedo-compliance"),
            other => panic!("no service {other}"),
        })
    };
    let mut given: Vec<(String, &str, String)> = Vec::new();

    let mut compose = documents("compose.yaml").remove(0);
    compose.apply_merge().expect("merge keys resolve");
    for (service, _) in SERVICES {
        let environment = compose["services"][service]["environment"]
            .as_mapping()
            .unwrap_or_else(|| panic!("compose gives {service} an environment"));
        for name in environment.keys().filter_map(Value::as_str) {
            given.push(("compose.yaml".into(), service, name.to_owned()));
        }
    }
    for (service, _) in SERVICES {
        let file = format!("k8s/{service}.yaml");
        for document in documents(&file) {
            let mut names = Vec::new();
            env_names(&document, &mut names);
            given.extend(names.into_iter().map(|n| (file.clone(), service, n)));
        }
    }
    let dockerfile = std::fs::read_to_string(deploy("Dockerfile")).expect("the Dockerfile");
    for word in dockerfile.split_whitespace() {
        if let Some((name, _)) = word
            .split_once('=')
            .filter(|(n, _)| n.starts_with("PROCEDO_"))
        {
            for (service, _) in SERVICES {
                given.push(("Dockerfile".into(), service, name.to_owned()));
            }
        }
    }

    let procedo: Vec<_> = given
        .iter()
        .filter(|(_, _, name)| name.starts_with("PROCEDO_"))
        .collect();
    assert!(procedo.len() > 40, "the files give variables: {procedo:?}");
    for (file, service, name) in procedo {
        assert!(
            reads(service).contains(name),
            "{file} gives {service} {name}, which procedo-{service} does not read"
        );
    }
}

/// The names of every container `env` entry under `value`.
fn env_names(value: &Value, names: &mut Vec<String>) {
    match value {
        Value::Mapping(map) => {
            for (key, value) in map {
                if key.as_str() == Some("env") {
                    let entries = value.as_sequence().into_iter().flatten();
                    names.extend(entries.filter_map(|e| e["name"].as_str().map(str::to_owned)));
                } else {
                    env_names(value, names);
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|v| env_names(v, names)),
        _ => {}
    }
}

/// Replicas behind one Service open each other's page tokens: every
/// Deployment of more than one replica gives them one key, from a secret.
#[test]
fn replicas_share_their_page_token_key_from_a_secret() {
    let mut replicated = 0;
    for (service, _) in SERVICES {
        for document in documents(&format!("k8s/{service}.yaml")) {
            if document["kind"].as_str() != Some("Deployment")
                || document["spec"]["replicas"].as_u64().unwrap_or(1) < 2
            {
                continue;
            }
            replicated += 1;
            let containers = get(&document, "spec.template.spec.containers")
                .as_sequence()
                .expect("containers");
            for container in containers {
                let key = container["env"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .find(|e| e["name"].as_str() == Some("PROCEDO_PAGE_TOKEN_KEY"))
                    .unwrap_or_else(|| panic!("{service}: PROCEDO_PAGE_TOKEN_KEY"));
                assert!(
                    get(key, "valueFrom.secretKeyRef.key").as_str().is_some(),
                    "{service}: the key comes from a secret"
                );
            }
        }
    }
    assert!(replicated > 0, "the manifests run replicas");
}
