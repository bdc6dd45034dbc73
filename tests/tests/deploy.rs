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
            published.contains(&format!("{port}:{port}").as_str()),
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
